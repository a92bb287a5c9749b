// SPDX-License-Identifier: MIT
// JWT validation (RFC 7519 over RFC 7515 compact JWS) for the hub server.
#include "auth/jwt.h"

#include "auth/jwks.h"
#include "auth/jwt_p.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDateTime>
#include <QtCore/QTimeZone>
#include <QtCore/QVarLengthArray>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

/// Header and payload nesting limit (claims are flat in practice).
constexpr int MaxJsonDepth = 32;

JwtError fail(JwtErrorCode code, QString message)
{
    return JwtError {code, std::move(message)};
}

JwtError malformed(QString message)
{
    return JwtError {JwtErrorCode::Malformed, std::move(message)};
}

/// RFC 7515, section 4 / RFC 7519, section 4: member names must be unique; a parser that kept
/// the first and one that kept the last of two `alg` members would disagree, so refuse them.
bool hasDuplicateKeys(const Value &object)
{
    QVarLengthArray<QByteArrayView, 32> keys;
    for (const MapEntry &e : object.map())
        keys.append(e.key.utf8());
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

/// A JSON object, decoded from a base64url segment; nullopt if anything is wrong.
std::optional<Value> decodeObject(QByteArrayView segment)
{
    const std::optional<QByteArray> json = Detail::base64UrlDecode(segment);
    if (!json)
        return std::nullopt;
    Expected<Value> parsed = Json::parse(*json, MaxJsonDepth);
    if (!parsed || !parsed->isMap() || hasDuplicateKeys(*parsed))
        return std::nullopt;
    return std::move(parsed).value();
}

qint64 saturatingAdd(qint64 a, qint64 b) noexcept
{
    qint64 r;
    if (!qAddOverflow(a, b, &r))
        return r;
    return b > 0 ? std::numeric_limits<qint64>::max() : std::numeric_limits<qint64>::min();
}

/// A NumericDate (RFC 7519, section 2): an integer, or a finite number of seconds rounded
/// towards the stricter side by the caller's choice.
bool numericDate(const Value &v, bool roundUp, qint64 *out)
{
    if (v.type() == Value::Type::Integer) {
        *out = v.toInteger();
        return true;
    }
    if (v.isDouble()) {
        const double d = v.toDouble();
        constexpr double Limit = 4.0e18; // well inside qint64
        if (!std::isfinite(d) || d > Limit || d < -Limit)
            return false;
        *out = qint64(roundUp ? std::ceil(d) : std::floor(d));
        return true;
    }
    return false;
}

QString formatTime(qint64 secs)
{
    const QDateTime t = QDateTime::fromSecsSinceEpoch(secs, QTimeZone::utc());
    return t.isValid() ? t.toString(Qt::ISODate) : QString::number(secs);
}

/// Appends the strings of a `role`-like claim (a string or an array of strings).
bool collectRoles(const Value *claim, QList<QByteArray> &roles)
{
    if (!claim || claim->isNull())
        return true;
    auto add = [&roles](const Value &v) {
        if (!v.isString())
            return false;
        if (!v.bytes().isEmpty() && !roles.contains(v.bytes()))
            roles.append(v.bytes());
        return true;
    };
    if (claim->isString())
        return add(*claim);
    if (!claim->isArray())
        return false;
    for (const Value &v : claim->array()) {
        if (!add(v))
            return false;
    }
    return true;
}

/// True if the claim is absent or a string; `out` receives the string.
bool optionalString(const Value &payload, QByteArrayView name, QByteArray *out)
{
    const Value *v = findClaim(payload, name);
    if (!v || v->isNull())
        return true;
    if (!v->isString())
        return false;
    *out = v->bytes();
    return true;
}

bool isEmptyClaim(const Value *v)
{
    if (!v || v->isNull())
        return true;
    if (v->isString() || v->isArray() || v->isMap())
        return v->size() == 0;
    return false;
}

/// A claim name for an error message: printable ASCII only, shortened.
QString claimForMessage(QByteArrayView name)
{
    QString out;
    for (const char c : name.first(std::min<qsizetype>(name.size(), 80)))
        out += c >= 0x20 && c < 0x7f ? QChar(QLatin1Char(c)) : QChar(u'?');
    return out;
}

/// A `kid` for an error message, if it looks like one (ids of real providers are short and
/// plain); empty otherwise, so nothing odd from a token reaches the logs.
QString keyIdForMessage(QByteArrayView kid)
{
    if (kid.isEmpty() || kid.size() > 64)
        return {};
    for (const char c : kid) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '+' || c == '/'
            || c == '=';
        if (!plain)
            return {};
    }
    return u" \""_s + QString::fromLatin1(kid) + u'"';
}

} // namespace

const Value *findClaim(const Value &payload, QByteArrayView path)
{
    if (const Value *exact = payload.find(path))
        return exact;
    if (!path.contains('.'))
        return nullptr;
    const Value *v = &payload;
    qsizetype from = 0;
    while (v) {
        const qsizetype dot = path.indexOf('.', from);
        const QByteArrayView part = dot < 0 ? path.sliced(from) : path.sliced(from, dot - from);
        if (part.isEmpty())
            return nullptr;
        v = v->find(part); // null unless v is an object with that member
        if (dot < 0)
            return v;
        from = dot + 1;
    }
    return nullptr;
}

const char *jwtAlgorithmName(JwtAlgorithm algorithm) noexcept
{
    switch (algorithm) {
    case JwtAlgorithm::HS256:
        return "HS256";
    case JwtAlgorithm::RS256:
        return "RS256";
    case JwtAlgorithm::ES256:
        return "ES256";
    case JwtAlgorithm::PS256:
        return "PS256";
    }
    return "?";
}

std::optional<JwtAlgorithm> jwtAlgorithmFromName(QByteArrayView name) noexcept
{
    for (const JwtAlgorithm a :
         {JwtAlgorithm::HS256, JwtAlgorithm::RS256, JwtAlgorithm::ES256, JwtAlgorithm::PS256}) {
        if (name == QByteArrayView(jwtAlgorithmName(a)))
            return a;
    }
    return std::nullopt;
}

const char *jwtErrorCodeName(JwtErrorCode code) noexcept
{
    switch (code) {
    case JwtErrorCode::Malformed:
        return "Malformed";
    case JwtErrorCode::UnsupportedAlgorithm:
        return "UnsupportedAlgorithm";
    case JwtErrorCode::BadSignature:
        return "BadSignature";
    case JwtErrorCode::Expired:
        return "Expired";
    case JwtErrorCode::NotYetValid:
        return "NotYetValid";
    case JwtErrorCode::WrongIssuer:
        return "WrongIssuer";
    case JwtErrorCode::WrongAudience:
        return "WrongAudience";
    case JwtErrorCode::MissingClaim:
        return "MissingClaim";
    case JwtErrorCode::UnknownKey:
        return "UnknownKey";
    }
    return "?";
}

bool Claims::hasRole(QByteArrayView role) const noexcept
{
    return std::any_of(roles.cbegin(), roles.cend(),
                       [role](const QByteArray &r) { return QByteArrayView(r) == role; });
}

// --- JwtValidator -------------------------------------------------------------------------------

JwtValidator::JwtValidator(std::shared_ptr<const Detail::JwtKey> key, JwtValidationOptions options)
    : m_key(std::move(key))
    , m_options(std::move(options))
{ }

JwtValidator::JwtValidator(std::shared_ptr<JwksKeyStore> keySet, JwtValidationOptions options)
    : m_keySet(std::move(keySet))
    , m_options(std::move(options))
{ }

AuthResult<JwtValidator> JwtValidator::withSecret(QByteArray secret, JwtValidationOptions options)
{
    auto key = Detail::secretKey(std::move(secret));
    if (!key)
        return key.error();
    return JwtValidator(std::move(*key), std::move(options));
}

AuthResult<JwtValidator> JwtValidator::withPublicKeyPem(QByteArrayView pem,
                                                        JwtValidationOptions options)
{
    auto key = Detail::publicKeyFromPem(pem);
    if (!key)
        return key.error();
    return JwtValidator(std::move(*key), std::move(options));
}

AuthResult<JwtValidator> JwtValidator::withKeySet(std::shared_ptr<JwksKeyStore> keys,
                                                  JwtValidationOptions options)
{
    if (!keys)
        return AuthError {u"No key store for the identity provider's keys."_s};
    return JwtValidator(std::move(keys), std::move(options));
}

JwtValidator JwtValidator::withOptions(JwtValidationOptions options) const
{
    JwtValidator copy = *this;
    copy.m_options = std::move(options);
    return copy;
}

JwtAlgorithm JwtValidator::algorithm() const noexcept
{
    return m_key ? m_key->algorithm : JwtAlgorithm::RS256;
}

JwtResult<Claims> JwtValidator::validate(QByteArrayView token) const
{
    // --- structure: three strict base64url segments, bounded size -----------------------------
    if (token.size() > MaxTokenSize)
        return malformed(u"The token is larger than %1 bytes."_s.arg(MaxTokenSize));
    const qsizetype firstDot = token.indexOf('.');
    const qsizetype secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0)
        return malformed(u"The token is not a JWS compact serialization (three segments)."_s);
    const QByteArrayView headerSegment = token.first(firstDot);
    const QByteArrayView payloadSegment = token.sliced(firstDot + 1, secondDot - firstDot - 1);
    const QByteArrayView signatureSegment = token.sliced(secondDot + 1);
    if (headerSegment.isEmpty() || payloadSegment.isEmpty())
        return malformed(u"The token has an empty header or payload segment."_s);

    // --- header: a JSON object naming the configured algorithm -------------------------------
    const std::optional<Value> header = decodeObject(headerSegment);
    if (!header)
        return malformed(u"The token header is not a base64url-encoded JSON object."_s);
    const Value *alg = header->find("alg");
    if (!alg || !alg->isString())
        return malformed(u"The token header has no \"alg\" string."_s);
    // The keys that may verify the token, and the algorithm they verify it with.
    JwtAlgorithm algorithm = JwtAlgorithm::HS256;
    QVarLengthArray<const Detail::JwtKey *, 4> keys;
    std::shared_ptr<const JwtKeySet> keySet; // the snapshot this token is checked against
    if (m_key) {
        const char *expectedAlg = jwtAlgorithmName(m_key->algorithm);
        if (alg->utf8() != QByteArrayView(expectedAlg)) {
            return fail(JwtErrorCode::UnsupportedAlgorithm,
                        u"The token algorithm is not accepted: this server only accepts %1."_s.arg(
                            QLatin1StringView(expectedAlg)));
        }
        algorithm = m_key->algorithm;
        keys.append(m_key.get());
    } else {
        // Identity provider keys are public keys: never HS256 (or `none`) with them.
        const std::optional<JwtAlgorithm> named = jwtAlgorithmFromName(alg->utf8());
        if (!named || *named == JwtAlgorithm::HS256) {
            return fail(JwtErrorCode::UnsupportedAlgorithm,
                        u"The token algorithm is not accepted: this server only accepts RS256, "
                        "PS256 and ES256 with the identity provider's keys."_s);
        }
        algorithm = *named;
    }
    // RFC 7515, section 4.1.11: unknown critical extensions must be refused; we know none.
    if (header->find("crit"))
        return malformed(u"The token header has critical extensions (\"crit\")."_s);
    if (m_keySet) {
        const Value *kid = header->find("kid");
        if (kid && !kid->isString())
            return malformed(u"The token header's \"kid\" is not a string."_s);
        keySet = m_keySet->current();
        if (!keySet) {
            m_keySet->requestRefresh();
            return fail(JwtErrorCode::UnknownKey,
                        u"The identity provider's signing keys are not loaded (yet); the token "
                        "cannot be checked."_s);
        }
        if (kid && !keySet->containsKeyId(kid->utf8())) {
            // Perhaps the provider has rotated its keys: fetch them (rate-limited) for the
            // client's next attempt; this one is refused now, without waiting.
            m_keySet->requestRefresh();
            return fail(JwtErrorCode::UnknownKey,
                        u"The token's signing key%1 is not among the identity provider's keys; "
                        "they are being refreshed, try again."_s.arg(keyIdForMessage(kid->utf8())));
        }
        for (const Jwk &k : keySet->keys()) {
            if ((!kid || k.kid == kid->utf8()) && k.accepts(algorithm))
                keys.append(k.key.get());
        }
        if (keys.isEmpty()) {
            return fail(JwtErrorCode::UnsupportedAlgorithm,
                        u"The token algorithm %1 is not allowed for its signing key%2."_s.arg(
                            QLatin1StringView(jwtAlgorithmName(algorithm)),
                            kid ? keyIdForMessage(kid->utf8()) : QString()));
        }
    }

    // --- signature over the ASCII of header.payload ------------------------------------------
    const std::optional<QByteArray> signature = Detail::base64UrlDecode(signatureSegment);
    if (!signature)
        return malformed(u"The token signature is not strict base64url."_s);
    const std::optional<QByteArray> payloadJson = Detail::base64UrlDecode(payloadSegment);
    if (!payloadJson)
        return malformed(u"The token payload is not strict base64url."_s);
    const QByteArrayView signingInput = token.first(secondDot);
    const bool verified = std::any_of(keys.cbegin(), keys.cend(), [&](const Detail::JwtKey *k) {
        return Detail::verifySignature(*k, algorithm, signingInput, *signature);
    });
    if (!verified)
        return fail(JwtErrorCode::BadSignature, u"The token signature is invalid."_s);

    // --- payload: a JSON object of claims ----------------------------------------------------
    Expected<Value> parsed = Json::parse(*payloadJson, MaxJsonDepth);
    if (!parsed || !parsed->isMap() || hasDuplicateKeys(*parsed))
        return malformed(u"The token payload is not a JSON object with unique claim names."_s);
    Claims claims;
    claims.payload = std::move(parsed).value();
    const Value &payload = claims.payload;

    // Types of the claims we interpret (RFC 7519, section 4.1, and the hub's own).
    const Value *exp = payload.find("exp");
    if (!exp || exp->isNull())
        return fail(JwtErrorCode::MissingClaim, u"The token has no \"exp\" claim."_s);
    if (!numericDate(*exp, false, &claims.expiresAt))
        return malformed(u"The \"exp\" claim is not a NumericDate."_s);
    qint64 notBefore = 0;
    const Value *nbf = payload.find("nbf");
    const bool hasNotBefore = nbf && !nbf->isNull();
    if (hasNotBefore && !numericDate(*nbf, true, &notBefore))
        return malformed(u"The \"nbf\" claim is not a NumericDate."_s);
    if (const Value *iat = payload.find("iat"); iat && !iat->isNull()) {
        if (!numericDate(*iat, false, &claims.issuedAt))
            return malformed(u"The \"iat\" claim is not a NumericDate."_s);
    }
    QByteArray issuer;
    if (!optionalString(payload, "iss", &issuer))
        return malformed(u"The \"iss\" claim is not a string."_s);
    const Value *aud = payload.find("aud");
    if (aud && !aud->isNull() && !aud->isString()) {
        const bool allStrings = aud->isArray()
            && std::all_of(aud->array().cbegin(), aud->array().cend(),
                           [](const Value &v) { return v.isString(); });
        if (!allStrings)
            return malformed(u"The \"aud\" claim is not a string or an array of strings."_s);
    }
    if (!optionalString(payload, m_options.userClaim, &claims.subject))
        return malformed(
            u"The user claim \"%1\" is not a string."_s.arg(claimForMessage(m_options.userClaim)));
    if (!optionalString(payload, m_options.tenantClaim, &claims.tenantId))
        return malformed(u"The tenant claim \"%1\" is not a string."_s.arg(
            claimForMessage(m_options.tenantClaim)));
    QByteArray name;
    for (const QByteArray &nameClaim : m_options.nameClaims) {
        if (!optionalString(payload, nameClaim, &name))
            return malformed(
                u"The name claim \"%1\" is not a string."_s.arg(claimForMessage(nameClaim)));
        if (!name.isEmpty())
            break;
    }
    claims.name = QString::fromUtf8(name);
    for (const QByteArray &roleClaim : m_options.roleClaims) {
        if (!collectRoles(findClaim(payload, roleClaim), claims.roles))
            return malformed(u"The role claim \"%1\" is not a string or an array of strings."_s.arg(
                claimForMessage(roleClaim)));
    }

    // --- lifetime ----------------------------------------------------------------------------
    const qint64 now = m_options.clock ? m_options.clock() : QDateTime::currentSecsSinceEpoch();
    const qint64 skew = std::max<qint64>(0, m_options.clockSkew.count());
    // RFC 7519, 4.1.4: valid only while now < exp; 4.1.5: not before nbf. Both with the skew.
    if (now >= saturatingAdd(claims.expiresAt, skew)) {
        return fail(JwtErrorCode::Expired,
                    u"The token expired at %1 (now %2, clock skew %3 s)."_s.arg(
                        formatTime(claims.expiresAt), formatTime(now), QString::number(skew)));
    }
    if (hasNotBefore && saturatingAdd(now, skew) < notBefore) {
        return fail(JwtErrorCode::NotYetValid,
                    u"The token is not valid before %1 (now %2, clock skew %3 s)."_s.arg(
                        formatTime(notBefore), formatTime(now), QString::number(skew)));
    }

    // --- issuer and audience -----------------------------------------------------------------
    const QByteArray &expectedIssuer
        = !m_options.issuer.isEmpty() || !keySet ? m_options.issuer : keySet->issuer();
    if (!expectedIssuer.isEmpty() && issuer != expectedIssuer)
        return fail(JwtErrorCode::WrongIssuer,
                    u"The token issuer is missing or not the expected issuer."_s);
    if (!m_options.audience.isEmpty()) {
        bool match = false;
        if (aud && aud->isString()) {
            match = aud->bytes() == m_options.audience;
        } else if (aud && aud->isArray()) {
            match = std::any_of(aud->array().cbegin(), aud->array().cend(),
                                [this](const Value &v) { return v.bytes() == m_options.audience; });
        }
        if (!match)
            return fail(JwtErrorCode::WrongAudience,
                        u"The token audience is missing or does not include the expected one."_s);
    }

    // --- claims the hub requires -------------------------------------------------------------
    for (const QByteArray &required : m_options.requiredClaims) {
        if (isEmptyClaim(findClaim(payload, required))) {
            return fail(
                JwtErrorCode::MissingClaim,
                u"The token has no \"%1\" claim or it is empty."_s.arg(claimForMessage(required)));
        }
    }
    return claims;
}

} // namespace Heliograph::Server
