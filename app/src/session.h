// SPDX-License-Identifier: MIT
// Session: one signed-in user of one server, and everything the dashboard shows for them.
//
//   Session { id: session }
//   session.signIn("http://127.0.0.1:5000", "alice", password)   // POST /auth/login
//   session.resume("http://127.0.0.1:5000", "alice")             // the keychain's refresh token
//   session.signInWithToken(url, accessToken)                     // tests, --token-stdin
//
// Signing in gives an access token (used for the notification hub, refreshed with
// POST /auth/refresh before it expires) and a refresh token, which goes to the OS keychain
// (RefreshTokenStore) and nowhere else; without a keychain, keychainMessage says so and the
// next run asks for the password again. Each sign-in owns a new hub connection
// (Heliograph.Client's QML HubConnection, wrapped in C++) with a replay cursor on
// ReceiveNotification, so notifications missed during an outage are replayed and counted, and
// the models behind the views: notifications (Heliograph.Client's NotificationModel behind a
// NotificationFilterModel), presence and the joined document. Nothing here blocks: HTTP,
// keychain and hub calls are all asynchronous; no token or password is ever logged.
#pragma once

#include "documentmodel.h"
#include "notificationfilter.h"
#include "presencemodel.h"

#include <QtCore/QDateTime>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtQml/qqmlregistration.h>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
class QJsonObject;
QT_END_NAMESPACE

namespace Heliograph {
class HubConnection;
namespace Qml {
class QmlHubConnection;
class NotificationModel;
} // namespace Qml
} // namespace Heliograph

namespace Heliograph::Desktop {

class DesktopNotifier;
class RefreshTokenStore;

class Session : public QObject {
    Q_OBJECT
    QML_ELEMENT

    // --- who ---------------------------------------------------------------------------------
    Q_PROPERTY(Status status READ status NOTIFY statusChanged)
    /// Why the latest sign-in, refresh or resume failed, for humans; empty otherwise.
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorChanged)
    Q_PROPERTY(QUrl serverUrl READ serverUrl NOTIFY userChanged)
    Q_PROPERTY(QString userId READ userId NOTIFY userChanged)
    Q_PROPERTY(QString userName READ userName NOTIFY userChanged)
    Q_PROPERTY(QString tenant READ tenant NOTIFY userChanged)
    Q_PROPERTY(QStringList roles READ roles NOTIFY userChanged)
    /// Admin or Operator: the admin console's place in the navigation is shown.
    Q_PROPERTY(bool canAdminister READ canAdminister NOTIFY userChanged)
    /// Editor or Admin: the hub accepts document patches.
    Q_PROPERTY(bool canEdit READ canEdit NOTIFY userChanged)
    Q_PROPERTY(QDateTime accessTokenExpiresAt READ accessTokenExpiresAt NOTIFY tokensChanged)
    /// Whether the refresh token could be kept in the keychain (true until a try failed).
    Q_PROPERTY(bool keychainAvailable READ keychainAvailable NOTIFY keychainChanged)
    /// Says what the missing keychain means for the user; empty when there is a keychain.
    Q_PROPERTY(QString keychainMessage READ keychainMessage NOTIFY keychainChanged)
    /// How long a sign-in or refresh request may wait for the server's answer, in
    /// milliseconds (then: "did not answer in time"). Default 15 000.
    Q_PROPERTY(
        int requestTimeout READ requestTimeout WRITE setRequestTimeout NOTIFY requestTimeoutChanged)
    /// Show desktop notifications for live (not replayed) notifications. Default true.
    Q_PROPERTY(bool desktopNotifications READ desktopNotifications WRITE setDesktopNotifications
                   NOTIFY desktopNotificationsChanged)

    // --- the connection ----------------------------------------------------------------------
    Q_PROPERTY(ConnectionState connectionState READ connectionState NOTIFY connectionChanged)
    /// "WebSockets", "Server-Sent Events", "Long polling"; empty unless connected.
    Q_PROPERTY(QString transportName READ transportName NOTIFY connectionChanged)
    /// "json" or "messagepack".
    Q_PROPERTY(QString protocolName READ protocolName NOTIFY connectionChanged)
    /// The connection's latest error, for humans.
    Q_PROPERTY(QString connectionError READ connectionError NOTIFY connectionChanged)
    /// Milliseconds; -1 until measured and whenever not Connected (no stale figure offline).
    Q_PROPERTY(bool offline READ offline NOTIFY connectionChanged)
    Q_PROPERTY(qint64 roundTripTime READ roundTripTime NOTIFY statisticsChanged)
    Q_PROPERTY(int reconnectCount READ reconnectCount NOTIFY statisticsChanged)
    Q_PROPERTY(int queuedMessages READ queuedMessages NOTIFY statisticsChanged)
    /// Notifications replayed since the latest connect or reconnect (missed while offline).
    Q_PROPERTY(int replayedSinceConnect READ replayedSinceConnect NOTIFY statisticsChanged)
    /// Notifications replayed since sign-in.
    Q_PROPERTY(int replayedTotal READ replayedTotal NOTIFY statisticsChanged)
    /// False once the notification stream had a gap the server did not replay.
    Q_PROPERTY(bool recovered READ recovered NOTIFY statisticsChanged)
    /// Seconds until the next reconnect attempt; -1 when none is scheduled.
    Q_PROPERTY(int reconnectCountdown READ reconnectCountdown NOTIFY reconnectCountdownChanged)
    /// The latest ReceiveSystemAlert's message; empty: none.
    Q_PROPERTY(QString systemAlert READ systemAlert NOTIFY systemAlertChanged)

    // --- the models --------------------------------------------------------------------------
    Q_PROPERTY(
        Heliograph::Desktop::NotificationFilterModel *notifications READ notifications CONSTANT)
    Q_PROPERTY(Heliograph::Desktop::PresenceModel *presence READ presence CONSTANT)
    Q_PROPERTY(Heliograph::Desktop::DocumentModel *document READ document CONSTANT)
    /// A GetOnlineUsers() call is under way.
    Q_PROPERTY(bool presenceLoading READ presenceLoading NOTIFY presenceStateChanged)
    /// Why the latest GetOnlineUsers() failed; empty otherwise.
    Q_PROPERTY(QString presenceError READ presenceError NOTIFY presenceStateChanged)
    /// A page of the notification history (GetNotifications) is being loaded.
    Q_PROPERTY(bool historyLoading READ historyLoading NOTIFY historyChanged)
    /// Every older notification the server keeps is in the list (or the list is full).
    Q_PROPERTY(bool historyComplete READ historyComplete NOTIFY historyChanged)
    /// Why the latest history page failed, for humans; empty otherwise.
    Q_PROPERTY(QString historyError READ historyError NOTIFY historyChanged)

public:
    enum Status { SignedOut, SigningIn, SignedIn };
    Q_ENUM(Status)
    enum ConnectionState { Disconnected, Connecting, Connected, Reconnecting, Disconnecting };
    Q_ENUM(ConnectionState)

    explicit Session(QObject *parent = nullptr);
    ~Session() override;

    Status status() const { return m_status; }
    QString errorString() const { return m_error; }
    QUrl serverUrl() const { return m_server; }
    QString userId() const { return m_userId; }
    QString userName() const { return m_userName; }
    QString tenant() const { return m_tenant; }
    QStringList roles() const { return m_roles; }
    bool canAdminister() const;
    bool canEdit() const;
    QDateTime accessTokenExpiresAt() const { return m_accessExpiresAt; }
    bool keychainAvailable() const { return m_keychainMessage.isEmpty(); }
    QString keychainMessage() const { return m_keychainMessage; }
    bool desktopNotifications() const { return m_desktopNotifications; }
    void setDesktopNotifications(bool on);
    int requestTimeout() const;
    void setRequestTimeout(int milliseconds);

    /// The server URL meant by what a user typed or pasted: `host:port` gets http:// for a
    /// loopback host and https:// for any other, and a pasted hub or sign-in path
    /// (`/hubs/...`, `/auth/...`), query and fragment are dropped. Empty (invalid) when it
    /// cannot be a Heliograph server's URL (no host, a scheme other than http or https).
    Q_INVOKABLE static QUrl serverUrlFromText(const QString &text);

    ConnectionState connectionState() const;
    QString transportName() const;
    QString protocolName() const;
    QString connectionError() const;
    qint64 roundTripTime() const;
    /// Signed in, but the hub connection is not Connected (Reconnecting or Disconnected).
    bool offline() const;
    int reconnectCount() const;
    int queuedMessages() const;
    int replayedSinceConnect() const;
    int replayedTotal() const;
    bool recovered() const;
    int reconnectCountdown() const { return m_countdown; }
    QString systemAlert() const { return m_systemAlert; }

    NotificationFilterModel *notifications() const { return m_filter; }
    PresenceModel *presence() const { return m_presence; }
    DocumentModel *document() const { return m_document; }
    bool presenceLoading() const { return m_presenceLoading; }
    QString presenceError() const { return m_presenceError; }
    bool historyLoading() const { return m_historyLoading; }
    bool historyComplete() const { return m_historyComplete; }
    QString historyError() const { return m_historyError; }
    /// Notifications one history page asks for.
    static constexpr int HistoryPageSize = 50;
    /// The unfiltered notifications (Heliograph.Client's model).
    Qml::NotificationModel *notificationSource() const { return m_notifications; }
    /// The current access token (for the admin console's own connection); empty when signed
    /// out. Never log it.
    QString accessToken() const { return m_accessToken; }
    /// `path` on the signed-in server (e.g. "/hubs/admin").
    QUrl endpoint(const QString &path) const;
    /// The hub connection of this sign-in; nullptr when signed out.
    HubConnection *connection() const;

    /// The refresh is scheduled this long before the access token expires (at least a fifth
    /// of its lifetime). Default 60 s.
    void setRefreshMargin(std::chrono::milliseconds margin) { m_refreshMargin = margin; }
    /// Whether the refresh token goes to the keychain. Default true; tests turn it off.
    void setKeychainEnabled(bool on) { m_keychainEnabled = on; }

    /// POST /auth/login; SigningIn, then SignedIn or SignedOut with errorString.
    Q_INVOKABLE void signIn(const QUrl &server, const QString &username, const QString &password);
    /// Stops a sign-in under way (SigningIn): SignedOut, no error.
    Q_INVOKABLE void cancelSignIn();
    /// Signs in with the refresh token the keychain keeps for (server, username); SignedOut
    /// (errorString or keychainMessage saying why) when there is none.
    Q_INVOKABLE void resume(const QUrl &server, const QString &username);
    /// Signs in with an access token obtained elsewhere (tests; `--token-stdin`): no refresh.
    Q_INVOKABLE void signInWithToken(const QUrl &server, const QString &accessToken);
    /// Refreshes the tokens now (the timer does it before expiry).
    Q_INVOKABLE void refreshNow();
    /// Revokes the refresh token (POST /auth/logout), forgets it, closes the connection.
    Q_INVOKABLE void signOut();
    /// Asks the hub for the online users again.
    Q_INVOKABLE void refreshPresence();
    /// Offline: tries to connect now instead of waiting for the next automatic attempt (or
    /// after the automatic reconnect gave up). While Reconnecting, the attempt under way is
    /// ended and a new connection started; the replay cursor brings what was missed.
    Q_INVOKABLE void retryNow();
    /// Hides the latest system alert.
    Q_INVOKABLE void dismissSystemAlert();
    /// Loads the next page of history (GetNotifications), older than the oldest notification
    /// in the list, as read rows. The first page is loaded by itself at the first connect.
    /// Nothing happens while a page is loading, when the history is complete or offline.
    Q_INVOKABLE void loadOlderNotifications();

Q_SIGNALS:
    void statusChanged();
    void errorChanged();
    void userChanged();
    void tokensChanged();
    void keychainChanged();
    void desktopNotificationsChanged();
    void requestTimeoutChanged();
    /// The server refused the username and password (the view forgets the password then;
    /// after any other error it is kept for the next try).
    void credentialsRejected();
    void connectionChanged();
    void statisticsChanged();
    void reconnectCountdownChanged();
    void systemAlertChanged();
    void presenceStateChanged();
    void historyChanged();
    /// A notification arrived live or by replay.
    void notificationReceived(const QString &title, const QString &body, const QString &type,
                              bool replayed);

private:
    void post(const QString &path, const QJsonObject &body,
              std::function<void(int status, const QJsonObject &answer, const QString &why)> done);
    void acceptTokens(const QJsonObject &answer);
    void startConnection(const QString &accessToken);
    void stopConnection();
    void setStatus(Status status);
    void setError(const QString &error);
    void setKeychainMessage(const QString &message);
    void scheduleRefresh();
    void updateCountdown();
    void failSignIn(const QString &why);
    void keychainUnavailable(const QString &why, bool afterSignIn);
    void resetHistory();
    /// After a reconnect: the newest page of history, merged (what the replay did not bring).
    void catchUp();

    QNetworkAccessManager *m_nam;
    RefreshTokenStore *m_keychain;
    DesktopNotifier *m_notifier;
    Qml::NotificationModel *m_notifications;
    NotificationFilterModel *m_filter;
    PresenceModel *m_presence;
    DocumentModel *m_document;
    QPointer<Qml::QmlHubConnection> m_hub;
    QPointer<QNetworkReply> m_signInReply; ///< the sign-in request under way (cancelSignIn)

    Status m_status = SignedOut;
    QString m_error;
    QUrl m_server;
    QString m_username; ///< as typed (the keychain key)
    QString m_userId;
    QString m_userName;
    QString m_tenant;
    QStringList m_roles;
    QString m_refreshToken;
    QString m_accessToken;
    QDateTime m_accessExpiresAt;
    QString m_keychainMessage;
    bool m_keychainEnabled = true;
    bool m_desktopNotifications = true;
    std::chrono::milliseconds m_refreshMargin {60'000};
    QTimer m_refreshTimer;
    QTimer m_countdownTimer;
    QTimer m_presenceTimer;
    int m_countdown = -1;
    quint64 m_replayedBase = 0;
    quint64 m_generation = 0; ///< bumped by every sign-in and sign-out: stale answers dropped
    bool m_presenceLoading = false;
    QString m_presenceError;
    bool m_restartWhenDisconnected = false; ///< retryNow() while Reconnecting
    bool m_historyLoading = false;
    bool m_historyComplete = false;
    bool m_historyStarted = false; ///< the first page was asked for on this connection
    QString m_historyError;
    QDateTime m_acknowledgedAt; ///< the server's time in the latest ConnectionAcknowledged
    QString m_systemAlert;
};

} // namespace Heliograph::Desktop
