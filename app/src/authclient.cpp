// SPDX-License-Identifier: MIT
#include "authclient.h"

#include "jwtclaims.h"
#include "refreshtokenstore.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

// The user-visible texts keep the translation context they had when they lived in Session
// (resources/translations: "Heliograph::Desktop::Session"), so the finished German
// translations still apply: QCoreApplication::translate() with that context, spelt out at each
// text so lupdate finds them.

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcAuth, "heliograph.desktop.auth")

namespace {

QString problemText(const QJsonObject &answer, const QString &fallback)
{
    QString detail = answer.value(u"detail").toString();
    if (!detail.isEmpty())
        return detail;
    const QString title = answer.value(u"title").toString();
    return title.isEmpty() ? fallback : title;
}

} // namespace

AuthClient::AuthClient(QObject *parent)
    : QObject(parent)
    , m_nam(new QNetworkAccessManager(this))
    , m_keychain(new RefreshTokenStore(this))
{
    m_nam->setTransferTimeout(15'000);
    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &AuthClient::refreshNow);
}

AuthClient::~AuthClient() = default;

QUrl AuthClient::endpoint(const QString &path) const
{
    QUrl url = m_server;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + path);
    return url;
}

int AuthClient::requestTimeout() const
{
    return m_nam->transferTimeout();
}

void AuthClient::setRequestTimeout(int milliseconds)
{
    if (milliseconds == m_nam->transferTimeout())
        return;
    m_nam->setTransferTimeout(milliseconds);
    Q_EMIT requestTimeoutChanged();
}

QString AuthClient::keychainKey() const
{
    return RefreshTokenStore::keyFor(m_server.toString(), m_username);
}

void AuthClient::post(const QString &path, const QJsonObject &body, Done done)
{
    QNetworkRequest request(endpoint(path));
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    QNetworkReply *reply = m_nam->post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
    m_pendingReply = reply;
    const quint64 generation = m_generation;
    connect(
        reply, &QNetworkReply::finished, this, [this, reply, generation, done = std::move(done)] {
            reply->deleteLater();
            if (generation != m_generation)
                return; // signed out (or in again, or cancelled) meanwhile
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const QJsonObject answer
                = status == 0 ? QJsonObject() : QJsonDocument::fromJson(reply->readAll()).object();
            const QString server = m_server.toDisplayString();
            QString why;
            if (status == 0 && reply->error() == QNetworkReply::OperationCanceledError)
                why = QCoreApplication::translate(
                          "Heliograph::Desktop::Session",
                          "%1 did not answer in time. Check the address, or try again.")
                          .arg(server);
            else if (status == 0)
                why = QCoreApplication::translate("Heliograph::Desktop::Session",
                                                  "Cannot reach %1: %2")
                          .arg(server, reply->errorString());
            else if (status == 404 || status == 405)
                why = QCoreApplication::translate(
                          "Heliograph::Desktop::Session",
                          "%1 is not a Heliograph server (it has no sign-in). Check the address.")
                          .arg(server);
            else if (status >= 300)
                why = problemText(answer,
                                  QCoreApplication::translate("Heliograph::Desktop::Session",
                                                              "The server answered %1.")
                                      .arg(status));
            done(status, answer, why);
        });
}

void AuthClient::start(const QUrl &server, const QString &username)
{
    ++m_generation;
    m_server = server;
    m_username = username;
    m_signingIn = true;
}

void AuthClient::login(const QUrl &server, const QString &username, const QString &password)
{
    start(server, username);
    qCInfo(lcAuth) << "signing in to" << server.toDisplayString() << "as" << username;
    post(u"/auth/login"_s, {{u"username"_s, username}, {u"password"_s, password}},
         [this](int status, const QJsonObject &answer, const QString &why) {
             if (why.isEmpty()) {
                 acceptTokens(answer);
             } else if (status == 401) {
                 fail(QCoreApplication::translate("Heliograph::Desktop::Session",
                                                  "Wrong username or password."));
                 Q_EMIT credentialsRejected();
             } else {
                 fail(why);
             }
         });
}

void AuthClient::resume(const QUrl &server, const QString &username)
{
    start(server, username);
    const quint64 generation = m_generation;
    m_keychain->read(keychainKey(),
                     [this, generation](RefreshTokenStore::Status status, const QString &token,
                                        const QString &why) {
                         if (generation != m_generation)
                             return;
                         if (status == RefreshTokenStore::Status::Unavailable) {
                             keychainUnavailable(why, false);
                             m_signingIn = false;
                             Q_EMIT failed({});
                             return;
                         }
                         if (status == RefreshTokenStore::Status::NotFound || token.isEmpty()) {
                             m_signingIn = false;
                             Q_EMIT failed({});
                             return;
                         }
                         m_refreshToken = token;
                         refreshNow();
                     });
}

void AuthClient::useAccessToken(const QUrl &server, const QString &username,
                                const QString &accessToken, const QDateTime &expiresAt)
{
    ++m_generation;
    m_server = server;
    m_username = username;
    m_signingIn = false;
    m_accessToken = accessToken;
    m_accessExpiresAt = expiresAt;
    Q_EMIT tokensChanged();
}

void AuthClient::cancel()
{
    if (!m_signingIn)
        return;
    ++m_generation; // the answer, if it still comes, is dropped
    m_signingIn = false;
    if (QNetworkReply *reply = m_pendingReply)
        reply->abort();
    qCInfo(lcAuth) << "sign-in cancelled";
}

void AuthClient::refreshNow()
{
    if (m_refreshToken.isEmpty())
        return;
    m_refreshTimer.stop();
    post(u"/auth/refresh"_s, {{u"refreshToken"_s, m_refreshToken}},
         [this](int status, const QJsonObject &answer, const QString &why) {
             if (why.isEmpty()) {
                 acceptTokens(answer);
                 return;
             }
             if (status == 401 || status == 403) {
                 // Revoked, expired or reused: it is no good anymore.
                 if (m_keychainEnabled)
                     m_keychain->remove(keychainKey());
                 m_refreshToken.clear();
                 if (m_signingIn)
                     fail(u"Your saved sign-in has expired: sign in again."_s);
                 else
                     Q_EMIT expired();
                 return;
             }
             qCWarning(lcAuth) << "token refresh failed, retrying in 15 s:" << why;
             if (m_signingIn) {
                 fail(why);
                 return;
             }
             m_refreshTimer.start(15s);
         });
}

void AuthClient::acceptTokens(const QJsonObject &answer)
{
    const QString accessToken = answer.value(u"accessToken").toString();
    const QString refreshToken = answer.value(u"refreshToken").toString();
    if (accessToken.isEmpty()) {
        fail(u"The server's answer has no access token."_s);
        return;
    }
    const QJsonObject user = answer.value(u"user").toObject();
    m_user.id = user.value(u"id").toString();
    m_user.name = user.value(u"name").toString(m_user.id);
    m_user.tenant = user.value(u"tenant").toString();
    m_user.roles.clear();
    const QJsonArray roles = user.value(u"roles").toArray();
    for (const auto &r : roles)
        m_user.roles.append(r.toString());
    m_accessExpiresAt = QDateTime::fromString(answer.value(u"expiresAt").toString(), Qt::ISODate);
    if (!m_accessExpiresAt.isValid()) {
        if (const auto claims = decodeJwtClaims(accessToken))
            m_accessExpiresAt = claims->expiresAt;
    }
    if (!refreshToken.isEmpty() && refreshToken != m_refreshToken) {
        m_refreshToken = refreshToken;
        if (m_keychainEnabled) {
            const quint64 generation = m_generation;
            m_keychain->write(
                keychainKey(), refreshToken,
                [this, generation](RefreshTokenStore::Status status, const QString &why) {
                    if (generation != m_generation)
                        return;
                    if (status == RefreshTokenStore::Status::Ok)
                        setKeychainMessage({});
                    else
                        keychainUnavailable(why, true);
                });
        }
    }
    m_accessToken = accessToken;
    Q_EMIT tokensChanged();
    scheduleRefresh();
    if (std::exchange(m_signingIn, false))
        Q_EMIT signedIn();
}

void AuthClient::fail(const QString &why)
{
    m_signingIn = false;
    m_refreshTimer.stop();
    m_accessToken.clear();
    Q_EMIT failed(why);
}

void AuthClient::scheduleRefresh()
{
    if (m_refreshToken.isEmpty() || !m_accessExpiresAt.isValid())
        return;
    const qint64 left = QDateTime::currentDateTimeUtc().msecsTo(m_accessExpiresAt);
    const qint64 margin = qMax<qint64>(m_refreshMargin.count(), left / 5);
    const qint64 delay = qMax<qint64>(1000, left - margin);
    qCInfo(lcAuth) << "access token refresh in" << delay / 1000 << "s";
    m_refreshTimer.start(std::chrono::milliseconds(delay));
}

void AuthClient::keychainUnavailable(const QString &why, bool afterSignIn)
{
    // The details (a D-Bus error, a service name) are for the log; the user gets plain words.
    qCWarning(lcAuth).noquote() << "no keychain:" << why;
    setKeychainMessage(afterSignIn
                           ? QCoreApplication::translate(
                               "Heliograph::Desktop::Session",
                               "This computer has no password storage (keychain) running, so "
                               "you will be asked for your password again next time.")
                           : QCoreApplication::translate(
                               "Heliograph::Desktop::Session",
                               "This computer has no password storage (keychain) running: sign "
                               "in with your password."));
}

void AuthClient::logout()
{
    if (!m_refreshToken.isEmpty()) {
        QNetworkRequest request(endpoint(u"/auth/logout"_s));
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        QNetworkReply *reply
            = m_nam->post(request,
                          QJsonDocument(QJsonObject {{u"refreshToken"_s, m_refreshToken}})
                              .toJson(QJsonDocument::Compact));
        connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    }
    if (m_keychainEnabled && !m_username.isEmpty())
        m_keychain->remove(keychainKey());
    ++m_generation;
    m_signingIn = false;
    m_refreshTimer.stop();
    m_refreshToken.clear();
    m_accessToken.clear();
    m_user = {};
    m_accessExpiresAt = {};
    Q_EMIT tokensChanged();
}

void AuthClient::setKeychainMessage(const QString &message)
{
    if (message == m_keychainMessage)
        return;
    m_keychainMessage = message;
    if (!message.isEmpty())
        qCWarning(lcAuth) << message;
    Q_EMIT keychainChanged();
}

} // namespace Heliograph::Desktop
