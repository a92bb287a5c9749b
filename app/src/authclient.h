// SPDX-License-Identifier: MIT
// AuthClient: the sign-in API of a Heliograph server, for one account at a time.
//
//   POST /auth/login    {username, password}  -> {accessToken, refreshToken, expiresAt, user}
//   POST /auth/refresh  {refreshToken}        -> the same, with a new refresh token
//   POST /auth/logout   {refreshToken}        (revokes it)
//
// The refresh token goes to the OS keychain (RefreshTokenStore) and nowhere else; without a
// keychain, keychainMessage says so and the next run asks for the password again. The access
// token is refreshed before it expires. Nothing blocks, and no token or password is ever
// logged. A Session owns one (Session.auth) and turns its signals into the session's status.
#pragma once

#include <QtCore/QDateTime>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QStringList>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtQml/qqmlregistration.h>

#include <chrono>
#include <functional>

QT_BEGIN_NAMESPACE
class QJsonObject;
class QNetworkAccessManager;
class QNetworkReply;
QT_END_NAMESPACE

namespace Heliograph::Desktop {

class RefreshTokenStore;

class AuthClient : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("a Session owns it (Session.auth)")
    Q_PROPERTY(QDateTime accessTokenExpiresAt READ accessTokenExpiresAt NOTIFY tokensChanged)
    /// Whether the refresh token could be kept in the keychain (true until a try failed).
    Q_PROPERTY(bool keychainAvailable READ keychainAvailable NOTIFY keychainChanged)
    /// Says what the missing keychain means for the user; empty when there is a keychain.
    Q_PROPERTY(QString keychainMessage READ keychainMessage NOTIFY keychainChanged)
    /// How long a sign-in or refresh request may wait for the server's answer, in
    /// milliseconds (then: "did not answer in time"). Default 15 000.
    Q_PROPERTY(
        int requestTimeout READ requestTimeout WRITE setRequestTimeout NOTIFY requestTimeoutChanged)

public:
    /// Who the server says signed in.
    struct User {
        QString id;
        QString name;
        QString tenant;
        QStringList roles;
    };

    explicit AuthClient(QObject *parent = nullptr);
    ~AuthClient() override;

    /// The server of the latest login() or resume().
    QUrl server() const { return m_server; }
    /// `path` on that server (e.g. "/hubs/notifications").
    QUrl endpoint(const QString &path) const;
    /// The user of the latest accepted tokens.
    User user() const { return m_user; }
    /// The current access token; empty unless signed in. Never log it.
    QString accessToken() const { return m_accessToken; }
    QDateTime accessTokenExpiresAt() const { return m_accessExpiresAt; }
    bool keychainAvailable() const { return m_keychainMessage.isEmpty(); }
    QString keychainMessage() const { return m_keychainMessage; }
    int requestTimeout() const;
    void setRequestTimeout(int milliseconds);
    /// The refresh is scheduled this long before the access token expires (at least a fifth
    /// of its lifetime). Default 60 s.
    void setRefreshMargin(std::chrono::milliseconds margin) { m_refreshMargin = margin; }
    /// Whether the refresh token goes to the keychain. Default true; tests turn it off.
    void setKeychainEnabled(bool on) { m_keychainEnabled = on; }
    bool isKeychainEnabled() const { return m_keychainEnabled; }

    /// POST /auth/login: signedIn() or failed() (and credentialsRejected() for a 401).
    void login(const QUrl &server, const QString &username, const QString &password);
    /// Signs in with the refresh token the keychain keeps for (server, username): signedIn(),
    /// or failed() (an empty text when there is no saved sign-in, or no keychain: see
    /// keychainMessage).
    void resume(const QUrl &server, const QString &username);
    /// An access token obtained elsewhere (tests, `--token-stdin`): no refresh, no keychain.
    void useAccessToken(const QUrl &server, const QString &username, const QString &accessToken,
                        const QDateTime &expiresAt);
    /// Stops a login() or resume() under way; nothing more is emitted for it.
    void cancel();
    /// Refreshes the tokens now (the timer does it before expiry).
    void refreshNow();
    /// Revokes the refresh token (POST /auth/logout), forgets it and the access token.
    void logout();

Q_SIGNALS:
    /// login() or resume() succeeded: user() and accessToken() are set.
    void signedIn();
    /// login() or resume() failed; `why` is for humans (empty: nothing to say, e.g. no saved
    /// sign-in).
    void failed(const QString &why);
    /// The server refused the username and password.
    void credentialsRejected();
    /// After signedIn(), the server no longer accepts the refresh token: signed out.
    void expired();
    /// The access token (and its expiry) changed: a sign-in or a refresh.
    void tokensChanged();
    void keychainChanged();
    void requestTimeoutChanged();

private:
    using Done = std::function<void(int status, const QJsonObject &answer, const QString &why)>;
    void post(const QString &path, const QJsonObject &body, Done done);
    void start(const QUrl &server, const QString &username);
    void acceptTokens(const QJsonObject &answer);
    void fail(const QString &why);
    void scheduleRefresh();
    void keychainUnavailable(const QString &why, bool afterSignIn);
    void setKeychainMessage(const QString &message);
    QString keychainKey() const;

    QNetworkAccessManager *m_nam;
    RefreshTokenStore *m_keychain;
    QPointer<QNetworkReply> m_pendingReply; ///< the login or refresh under way (cancel())
    QUrl m_server;
    QString m_username; ///< as typed (the keychain key)
    User m_user;
    QString m_refreshToken;
    QString m_accessToken;
    QDateTime m_accessExpiresAt;
    QString m_keychainMessage;
    bool m_keychainEnabled = true;
    bool m_signingIn = false; ///< a login() or resume() has not succeeded or failed yet
    std::chrono::milliseconds m_refreshMargin {60'000};
    QTimer m_refreshTimer;
    quint64 m_generation = 0; ///< bumped by every sign-in, cancel and logout: stale answers dropped
};

} // namespace Heliograph::Desktop
