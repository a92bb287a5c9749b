// SPDX-License-Identifier: MIT
// JWK Sets (RFC 7517), OpenID Connect discovery, and the client that keeps an identity
// provider's keys fresh without ever blocking a thread that validates tokens.
#include "auth/jwks.h"

#include "auth/jwt_p.h"
#include "signalr/handoff.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QLoggingCategory>
#include <QtCore/QVarLengthArray>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>

#include <algorithm>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcJwks, "heliograph.server.auth", QtInfoMsg)

namespace Heliograph::Server {

namespace {

/// JWK Sets and discovery documents are shallow; anything deeper is not one.
constexpr int MaxJsonDepth = 16;
constexpr int MaxRedirects = 5;

/// Text from a document or a URL for a message: printable ASCII, shortened.
QString printable(QByteArrayView text, qsizetype max = 64)
{
    QString out;
    for (const char c : text.first(std::min(text.size(), max)))
        out += c >= 0x20 && c < 0x7f ? QChar(QLatin1Char(c)) : QChar(u'?');
    if (text.size() > max)
        out += u"..."_s;
    return out;
}

QString urlForMessage(const QUrl &url)
{
    return url.toString(QUrl::RemoveUserInfo | QUrl::RemoveFragment);
}

bool hasDuplicateMembers(const Value &object)
{
    QVarLengthArray<QByteArrayView, 16> names;
    for (const MapEntry &e : object.map())
        names.append(e.key.utf8());
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) != names.end();
}

/// An optional string member: true if absent (out untouched) or a string.
bool optionalString(const Value &object, QByteArrayView name, const Value **out)
{
    const Value *v = object.find(name);
    if (v && !v->isString())
        return false;
    *out = v;
    return true;
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(u"localhost"_s, Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

} // namespace

// --- Jwk and JwtKeySet --------------------------------------------------------------------------

bool Jwk::accepts(JwtAlgorithm alg) const noexcept
{
    if (alg == JwtAlgorithm::HS256 || !key)
        return false;
    if (algorithm)
        return *algorithm == alg;
    return Detail::keyAccepts(*key, alg);
}

AuthResult<Jwk> JwtKeySet::parseKey(const Value &jwk)
{
    if (!jwk.isMap())
        return AuthError {u"not a JSON object"_s};
    if (hasDuplicateMembers(jwk))
        return AuthError {u"duplicate members"_s};
    const Value *kid = nullptr;
    const Value *use = nullptr;
    const Value *alg = nullptr;
    if (!optionalString(jwk, "kid", &kid))
        return AuthError {u"\"kid\" is not a string"_s};
    if (!optionalString(jwk, "use", &use))
        return AuthError {u"\"use\" is not a string"_s};
    if (!optionalString(jwk, "alg", &alg))
        return AuthError {u"\"alg\" is not a string"_s};
    if (use && use->utf8() != "sig")
        return AuthError {
            u"it is for \"%1\", not for signatures (\"sig\")"_s.arg(printable(use->utf8()))};
    if (const Value *ops = jwk.find("key_ops")) {
        if (!ops->isArray()
            || !std::all_of(ops->array().cbegin(), ops->array().cend(),
                            [](const Value &op) { return op.isString(); }))
            return AuthError {u"\"key_ops\" is not an array of strings"_s};
        if (std::none_of(ops->array().cbegin(), ops->array().cend(),
                         [](const Value &op) { return op.utf8() == "verify"; }))
            return AuthError {u"its \"key_ops\" do not include \"verify\""_s};
    }
    std::optional<JwtAlgorithm> algorithm;
    if (alg) {
        algorithm = jwtAlgorithmFromName(alg->utf8());
        if (!algorithm || *algorithm == JwtAlgorithm::HS256)
            return AuthError {
                u"its algorithm \"%1\" is not RS256, PS256 or ES256"_s.arg(printable(alg->utf8()))};
    }
    AuthResult<std::shared_ptr<const Detail::JwtKey>> key = Detail::publicKeyFromJwk(jwk);
    if (!key)
        return key.error();
    if (algorithm && !Detail::keyAccepts(**key, *algorithm))
        return AuthError {u"its algorithm %1 does not fit its key type"_s.arg(
            QLatin1StringView(jwtAlgorithmName(*algorithm)))};
    return Jwk {kid ? kid->bytes() : QByteArray(), algorithm, std::move(*key)};
}

AuthResult<std::shared_ptr<const JwtKeySet>>
JwtKeySet::parse(QByteArrayView json, QByteArray issuer, QStringList *skipped)
{
    if (skipped)
        skipped->clear();
    if (json.size() > MaxDocumentSize)
        return AuthError {
            u"The JWK Set is larger than %1 bytes."_s.arg(QString::number(MaxDocumentSize))};
    const Expected<Value> doc = Json::parse(json, MaxJsonDepth);
    if (!doc)
        return AuthError {u"The JWK Set is not valid JSON (%1)."_s.arg(doc.error().message)};
    if (!doc->isMap())
        return AuthError {u"The JWK Set is not a JSON object."_s};
    const Value *keys = doc->find("keys");
    if (!keys || !keys->isArray())
        return AuthError {u"The JWK Set has no \"keys\" array."_s};
    if (keys->size() > MaxKeys)
        return AuthError {u"The JWK Set has %1 keys; at most %2 are accepted."_s.arg(
            QString::number(keys->size()), QString::number(MaxKeys))};

    auto set = std::shared_ptr<JwtKeySet>(new JwtKeySet);
    QStringList reasons;
    qsizetype index = 0;
    for (const Value &k : keys->array()) {
        AuthResult<Jwk> key = parseKey(k);
        if (key) {
            set->m_keys.append(std::move(*key));
        } else {
            const Value *kid = k.find("kid");
            const QString which = kid && kid->isString()
                ? u" (kid \""_s + printable(kid->utf8()) + u"\")"_s
                : QString();
            QString why = key.error().message;
            if (why.endsWith(u'.'))
                why.chop(1);
            reasons.append(u"key %1%2 skipped: %3"_s.arg(QString::number(index), which, why));
        }
        ++index;
    }
    if (skipped)
        *skipped = reasons;
    if (set->m_keys.isEmpty()) {
        return AuthError {
            u"The JWK Set holds no usable signing key (RSA or EC P-256, for RS256, PS256 or "
            "ES256)%1"_s.arg(reasons.isEmpty() ? u"."_s : u": "_s + reasons.join(u"; "_s))};
    }
    set->m_issuer = std::move(issuer);
    return std::shared_ptr<const JwtKeySet>(std::move(set));
}

bool JwtKeySet::containsKeyId(QByteArrayView kid) const noexcept
{
    return std::any_of(m_keys.cbegin(), m_keys.cend(),
                       [kid](const Jwk &k) { return QByteArrayView(k.kid) == kid; });
}

QString JwtKeySet::keyIdList() const
{
    QStringList ids;
    for (const Jwk &k : m_keys)
        ids.append(k.kid.isEmpty() ? u"(no kid)"_s : printable(k.kid));
    return ids.join(u", "_s);
}

// --- JwksKeyStore -------------------------------------------------------------------------------

JwksKeyStore::JwksKeyStore(std::chrono::milliseconds minRefreshInterval)
    : m_minRefreshInterval(minRefreshInterval)
{ }

std::shared_ptr<const JwtKeySet> JwksKeyStore::current() const
{
    std::lock_guard lock(m_mutex);
    return m_keys;
}

void JwksKeyStore::publish(std::shared_ptr<const JwtKeySet> keys)
{
    std::shared_ptr<const JwtKeySet> previous;
    std::lock_guard lock(m_mutex);
    previous = std::exchange(m_keys, std::move(keys)); // destroyed after the unlock
}

bool JwksKeyStore::requestRefresh()
{
    std::lock_guard lock(m_mutex);
    if (!m_handler || m_fetching)
        return false;
    const auto now = std::chrono::steady_clock::now();
    if (m_lastRequest && now - *m_lastRequest < m_minRefreshInterval)
        return false;
    m_lastRequest = now;
    ++m_refreshRequests;
    m_handler();
    return true;
}

void JwksKeyStore::setRefreshHandler(std::function<void()> handler)
{
    std::function<void()> previous;
    std::lock_guard lock(m_mutex);
    previous = std::exchange(m_handler, std::move(handler));
}

void JwksKeyStore::setFetching(bool fetching)
{
    std::lock_guard lock(m_mutex);
    m_fetching = fetching;
}

int JwksKeyStore::refreshRequests() const
{
    std::lock_guard lock(m_mutex);
    return m_refreshRequests;
}

// --- JwksClient ---------------------------------------------------------------------------------

QString JwksClient::checkUrl(const QUrl &url, const QString &what)
{
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return u"%1: '%2' is not an absolute http(s) URL"_s.arg(what, urlForMessage(url));
    if (!url.userInfo().isEmpty())
        return u"%1: the URL must not hold a user name or password"_s.arg(what);
    if (url.scheme() == u"https"_s)
        return {};
    if (url.scheme() == u"http"_s) {
        if (isLoopbackHost(url.host()))
            return {};
        return u"%1: '%2' must use https (plain http is only allowed to a loopback address, "
               "for tests)"_s.arg(what, urlForMessage(url));
    }
    return u"%1: '%2' must be an https URL"_s.arg(what, urlForMessage(url));
}

JwksClient::JwksClient(JwksClientOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_store(std::make_shared<JwksKeyStore>(m_options.minRefreshInterval))
    , m_network(new QNetworkAccessManager(this))
    , m_jwksUrl(m_options.jwksUrl)
{
    m_schedule.setSingleShot(true);
    m_deadline.setSingleShot(true);
    connect(&m_schedule, &QTimer::timeout, this, &JwksClient::refresh);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        if (!m_reply)
            return;
        m_abortReason = u"no complete answer within %1 ms"_s.arg(m_options.fetchTimeout.count());
        m_reply->abort(); // finished() runs from here
    });
    // Validators (any thread) ask for refreshes through the store; the work is posted here.
    m_store->setRefreshHandler([this] { postTo(this, [this] { refresh(); }); });
}

JwksClient::~JwksClient()
{
    // No more posts to this object; the ones queued already die with it.
    m_store->setRefreshHandler({});
    m_store->setFetching(false);
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

void JwksClient::start()
{
    refresh();
}

QUrl JwksClient::discoveryUrl() const
{
    QUrl url = m_options.authority;
    QString path = url.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    url.setPath(path + u"/.well-known/openid-configuration"_s);
    url.setFragment({});
    return url;
}

void JwksClient::refresh()
{
    if (m_reply)
        return; // the running fetch brings the newest keys
    m_schedule.stop();
    if (m_jwksUrl.isEmpty())
        get(Stage::Discovery, discoveryUrl());
    else
        get(Stage::Keys, m_jwksUrl);
}

void JwksClient::get(Stage stage, const QUrl &url)
{
    m_stage = stage;
    m_url = url;
    m_body.clear();
    m_abortReason.clear();
    const QString refused
        = checkUrl(url, stage == Stage::Discovery ? u"the discovery URL"_s : u"the JWKS URL"_s);
    if (!refused.isEmpty()) {
        failed(refused);
        return;
    }
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "application/json, application/jwk-set+json");
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    // Every redirect target must pass checkUrl() too (no https -> plain http elsewhere).
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::UserVerifiedRedirectPolicy);
    request.setMaximumRedirectsAllowed(MaxRedirects);
    // The whole transfer is bounded by m_deadline (a trickling server cannot hold it open).

    ++m_requests;
    m_store->setFetching(true);
    QNetworkReply *reply = m_network->get(request);
    m_reply = reply;
    connect(reply, &QNetworkReply::redirected, this, [this, reply](const QUrl &target) {
        if (reply != m_reply)
            return;
        const QString why = checkUrl(target, u"a redirect"_s);
        if (why.isEmpty()) {
            Q_EMIT reply->redirectAllowed();
            return;
        }
        m_abortReason = why;
        reply->abort();
    });
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, reply] {
        if (reply != m_reply)
            return;
        bool ok = false;
        const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong(&ok);
        if (ok && length > m_options.maxResponseSize) {
            m_abortReason = u"the response has %1 bytes, more than the limit of %2"_s.arg(
                QString::number(length), QString::number(m_options.maxResponseSize));
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, reply] {
        if (reply != m_reply)
            return;
        m_body += reply->read(m_options.maxResponseSize + 1 - m_body.size());
        if (m_body.size() > m_options.maxResponseSize) {
            m_abortReason = u"the response is larger than the limit of %1 bytes"_s.arg(
                QString::number(m_options.maxResponseSize));
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        if (reply == m_reply)
            finished();
    });
    m_deadline.start(m_options.fetchTimeout);
}

void JwksClient::finished()
{
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    m_deadline.stop();
    m_store->setFetching(false);
    reply->deleteLater();

    const QString what = u"GET %1: "_s.arg(urlForMessage(m_url));
    if (!m_abortReason.isEmpty()) {
        failed(what + m_abortReason);
        return;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200 && status != 0) {
        failed(what + u"HTTP status %1"_s.arg(status));
        return;
    }
    if (reply->error() != QNetworkReply::NoError || status != 200) { // also a cut-off body
        failed(what + reply->errorString());
        return;
    }
    if (m_body.size() < m_options.maxResponseSize)
        m_body += reply->read(m_options.maxResponseSize + 1 - m_body.size());
    if (m_body.size() > m_options.maxResponseSize) {
        failed(what
               + u"the response is larger than the limit of %1 bytes"_s.arg(
                   QString::number(m_options.maxResponseSize)));
        return;
    }
    succeeded(std::exchange(m_body, {}));
}

void JwksClient::succeeded(const QByteArray &body)
{
    if (m_stage == Stage::Discovery) {
        const QString what = u"the discovery document at %1: "_s.arg(urlForMessage(m_url));
        const Expected<Value> doc = Json::parse(body, MaxJsonDepth);
        if (!doc || !doc->isMap()) {
            failed(what + u"not a JSON object"_s);
            return;
        }
        const Value *issuer = doc->find("issuer");
        const Value *jwksUri = doc->find("jwks_uri");
        if (!issuer || !issuer->isString() || issuer->size() == 0) {
            failed(what + u"no \"issuer\" string"_s);
            return;
        }
        if (!jwksUri || !jwksUri->isString()) {
            failed(what + u"no \"jwks_uri\" string"_s);
            return;
        }
        const QUrl jwksUrl(jwksUri->toString(), QUrl::StrictMode);
        if (const QString why = checkUrl(jwksUrl, u"its jwks_uri"_s); !why.isEmpty()) {
            failed(what + why);
            return;
        }
        // OpenID Connect Discovery 1.0, section 4.3: the issuer should be the URL discovered
        // from. A provider behind a proxy may know itself by its public URL; its tokens carry
        // that issuer, so it is the one expected (unless jwt-issuer says otherwise).
        const auto trimmed = [](QString s) {
            while (s.endsWith(u'/'))
                s.chop(1);
            return s;
        };
        if (issuer->bytes() != m_issuer
            && trimmed(issuer->toString()) != trimmed(m_options.authority.toString())) {
            qCWarning(lcJwks).noquote()
                << u"the identity provider's issuer '%1' is not its authority URL '%2'; tokens "
                   "must carry the issuer '%1' (unless jwt-issuer is set)"_s.arg(
                       printable(issuer->utf8(), 200), urlForMessage(m_options.authority));
        }
        m_issuer = issuer->bytes();
        m_jwksUrl = jwksUrl;
        get(Stage::Keys, m_jwksUrl);
        return;
    }

    QStringList skipped;
    AuthResult<std::shared_ptr<const JwtKeySet>> keys = JwtKeySet::parse(body, m_issuer, &skipped);
    if (!keys) {
        failed(u"the JWK Set at %1: %2"_s.arg(urlForMessage(m_url), keys.error().message));
        return;
    }
    const std::shared_ptr<const JwtKeySet> previous = m_store->current();
    m_store->publish(*keys);
    if (skipped != m_lastSkipped) {
        for (const QString &line : std::as_const(skipped))
            qCInfo(lcJwks).noquote() << u"identity provider key set: %1"_s.arg(line);
        m_lastSkipped = skipped;
    }
    const QString ids = (*keys)->keyIdList();
    if (!previous || previous->keyIdList() != ids || !m_lastError.isEmpty()) {
        qCInfo(lcJwks).noquote() << u"identity provider keys loaded from %1: %2 key(s): %3"_s.arg(
            urlForMessage(m_url), QString::number((*keys)->keys().size()), ids);
    }
    m_lastError.clear();
    m_failures = 0;
    m_schedule.start(m_options.refreshInterval);
    Q_EMIT keysUpdated();
}

void JwksClient::failed(const QString &reason)
{
    QString error = reason;
    while (error.endsWith(u'.'))
        error.chop(1);
    m_lastError = error;
    ++m_failures;
    // Re-discover next time: the provider may have moved its keys.
    if (!m_options.authority.isEmpty())
        m_jwksUrl.clear();
    std::chrono::milliseconds delay = m_options.initialRetryDelay;
    for (int i = 1; i < m_failures && delay < m_options.maxRetryDelay; ++i)
        delay *= 2;
    delay = std::max(std::chrono::milliseconds(1),
                     std::min({delay, m_options.maxRetryDelay, m_options.refreshInterval}));
    const std::shared_ptr<const JwtKeySet> current = m_store->current();
    qCWarning(lcJwks).noquote()
        << u"cannot load the identity provider's keys: %1; %2; retrying in %3 s"_s.arg(
               error,
               current ? u"the %1 cached key(s) stay in use"_s.arg(current->keys().size())
                       : u"no keys are loaded yet, so every token is refused"_s,
               QString::number(double(delay.count()) / 1000.0));
    m_schedule.start(delay);
    Q_EMIT fetchFailed(error);
}

} // namespace Heliograph::Server
