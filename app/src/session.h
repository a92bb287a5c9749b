// SPDX-License-Identifier: MIT
// Session: one signed-in user of one server, and everything the dashboard shows for them.
//
//   Session { id: session }
//   session.signIn("http://127.0.0.1:5000", "alice", password)   // POST /auth/login
//   session.resume("http://127.0.0.1:5000", "alice")             // the keychain's refresh token
//   session.signInWithToken(url, accessToken)                     // tests, --token-stdin
//   session.connection.state === HubConnection.Connected          // the hub connection itself
//
// The sign-in API (tokens, their refresh, the keychain) is the AuthClient (session.auth); the
// session turns it into a status and a user, and owns what a sign-in gets: a hub connection
// (Heliograph.Client's HubConnection, `connection`) with a replay cursor on
// ReceiveNotification, so notifications missed during an outage are replayed and counted, and
// the models behind the views: notifications (Heliograph.Client's NotificationModel behind a
// NotificationFilterModel), presence and the joined document. Each sign-in gets a new
// connection; signed out, `connection` is an idle one (Disconnected, never started), so
// bindings never meet null. Nothing here blocks: HTTP, keychain and hub calls are all
// asynchronous; no token or password is ever logged.
#pragma once

#include "authclient.h"
#include "documentmodel.h"
#include "notificationfilter.h"
#include "presencemodel.h"
#include "qmlhubconnection.h"

#include <QtCore/QDateTime>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Qml {
class NotificationModel;
} // namespace Heliograph::Qml

namespace Heliograph::Desktop {

class DesktopNotifier;

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
    /// The sign-in API: tokens, keychain (keychainMessage), request timeout.
    Q_PROPERTY(Heliograph::Desktop::AuthClient *auth READ auth CONSTANT)
    /// Show desktop notifications for live (not replayed) notifications. Default true.
    Q_PROPERTY(bool desktopNotifications READ desktopNotifications WRITE setDesktopNotifications
                   NOTIFY desktopNotificationsChanged)

    // --- the connection ----------------------------------------------------------------------
    /// The hub connection of this sign-in (state, error, transport, statistics); an idle one
    /// when signed out. Replaced by every sign-in, never null.
    Q_PROPERTY(
        Heliograph::Qml::QmlHubConnection *connection READ connection NOTIFY connectionChanged)
    /// Signed in, but the hub connection is not Connected (Reconnecting or Disconnected).
    Q_PROPERTY(bool offline READ offline NOTIFY offlineChanged)
    /// Notifications replayed since the latest connect or reconnect (missed while offline).
    Q_PROPERTY(
        int replayedSinceConnect READ replayedSinceConnect NOTIFY replayedSinceConnectChanged)
    /// Seconds until the next reconnect attempt; -1 when none is scheduled.
    Q_PROPERTY(int reconnectCountdown READ reconnectCountdown NOTIFY reconnectCountdownChanged)
    /// The latest ReceiveSystemAlert's message; empty: none.
    Q_PROPERTY(QString systemAlert READ systemAlert NOTIFY systemAlertChanged)

    // --- the models --------------------------------------------------------------------------
    Q_PROPERTY(
        Heliograph::Desktop::NotificationFilterModel *notifications READ notifications CONSTANT)
    /// Who is online (it fetches and follows the connection itself: presence.refresh()).
    Q_PROPERTY(Heliograph::Desktop::PresenceModel *presence READ presence CONSTANT)
    Q_PROPERTY(Heliograph::Desktop::DocumentModel *document READ document CONSTANT)
    /// A page of the notification history (GetNotifications) is being loaded.
    Q_PROPERTY(bool historyLoading READ historyLoading NOTIFY historyChanged)
    /// Every older notification the server keeps is in the list (or the list is full).
    Q_PROPERTY(bool historyComplete READ historyComplete NOTIFY historyChanged)
    /// Why the latest history page failed, for humans; empty otherwise.
    Q_PROPERTY(QString historyError READ historyError NOTIFY historyChanged)

public:
    enum Status { SignedOut, SigningIn, SignedIn };
    Q_ENUM(Status)

    explicit Session(QObject *parent = nullptr);
    ~Session() override;

    Status status() const { return m_status; }
    QString errorString() const { return m_error; }
    QUrl serverUrl() const { return m_server; }
    QString userId() const { return m_user.id; }
    QString userName() const { return m_user.name; }
    QString tenant() const { return m_user.tenant; }
    QStringList roles() const { return m_user.roles; }
    bool canAdminister() const;
    bool canEdit() const;
    AuthClient *auth() const { return m_auth; }
    bool desktopNotifications() const { return m_desktopNotifications; }
    void setDesktopNotifications(bool on);

    /// The server URL meant by what a user typed or pasted: `host:port` gets http:// for a
    /// loopback host and https:// for any other, and a pasted hub or sign-in path
    /// (`/hubs/...`, `/auth/...`), query and fragment are dropped. Empty (invalid) when it
    /// cannot be a Heliograph server's URL (no host, a scheme other than http or https).
    Q_INVOKABLE static QUrl serverUrlFromText(const QString &text);

    /// The hub connection (see the property); never null.
    Qml::QmlHubConnection *connection() const { return m_hub; }
    /// The C++ connection inside it.
    HubConnection *hubConnection() const;
    bool offline() const;
    int replayedSinceConnect() const;
    int reconnectCountdown() const { return m_countdown; }
    QString systemAlert() const { return m_systemAlert; }

    NotificationFilterModel *notifications() const { return m_filter; }
    PresenceModel *presence() const { return m_presence; }
    DocumentModel *document() const { return m_document; }
    bool historyLoading() const { return m_historyLoading; }
    bool historyComplete() const { return m_historyComplete; }
    QString historyError() const { return m_historyError; }
    /// Notifications one history page asks for.
    static constexpr int HistoryPageSize = 50;
    /// The unfiltered notifications (Heliograph.Client's model).
    Qml::NotificationModel *notificationSource() const { return m_notifications; }

    /// POST /auth/login; SigningIn, then SignedIn or SignedOut with errorString.
    Q_INVOKABLE void signIn(const QUrl &server, const QString &username, const QString &password);
    /// Stops a sign-in under way (SigningIn): SignedOut, no error.
    Q_INVOKABLE void cancelSignIn();
    /// Signs in with the refresh token the keychain keeps for (server, username); SignedOut
    /// (errorString or auth.keychainMessage saying why) when there is none.
    Q_INVOKABLE void resume(const QUrl &server, const QString &username);
    /// Signs in with an access token obtained elsewhere (tests; `--token-stdin`): no refresh.
    Q_INVOKABLE void signInWithToken(const QUrl &server, const QString &accessToken);
    /// Revokes the refresh token (POST /auth/logout), forgets it, closes the connection.
    Q_INVOKABLE void signOut();
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
    void desktopNotificationsChanged();
    /// The server refused the username and password (the view forgets the password then;
    /// after any other error it is kept for the next try).
    void credentialsRejected();
    /// A new connection replaced the previous one (a sign-in or a sign-out).
    void connectionChanged();
    void offlineChanged();
    void replayedSinceConnectChanged();
    void reconnectCountdownChanged();
    void systemAlertChanged();
    void historyChanged();
    /// A notification arrived live or by replay.
    void notificationReceived(const QString &title, const QString &body, const QString &type,
                              bool replayed);

private:
    void signedIn();
    void takeUser();
    void startConnection();
    void stopConnection();
    void replaceConnection(Qml::QmlHubConnection *hub);
    void setStatus(Status status);
    void setError(const QString &error);
    void updateCountdown();
    void updateOffline();
    void updateReplayed();
    void failSignIn(const QString &why);
    void resetHistory();
    /// After a reconnect: the newest page of history, merged (what the replay did not bring).
    void catchUp();

    AuthClient *m_auth;
    DesktopNotifier *m_notifier;
    Qml::NotificationModel *m_notifications;
    NotificationFilterModel *m_filter;
    PresenceModel *m_presence;
    DocumentModel *m_document;
    Qml::QmlHubConnection *m_hub = nullptr; ///< never null after the constructor

    Status m_status = SignedOut;
    QString m_error;
    QUrl m_server;
    AuthClient::User m_user;
    bool m_desktopNotifications = true;
    QTimer m_countdownTimer;
    int m_countdown = -1;
    bool m_offline = false;
    int m_replayedSinceConnect = 0;
    quint64 m_replayedBase = 0;
    quint64 m_generation = 0; ///< bumped by every new connection: stale answers dropped
    bool m_restartWhenDisconnected = false; ///< retryNow() while Reconnecting
    bool m_historyLoading = false;
    bool m_historyComplete = false;
    bool m_historyStarted = false; ///< the first page was asked for on this connection
    QString m_historyError;
    QDateTime m_acknowledgedAt; ///< the server's time in the latest ConnectionAcknowledged
    QString m_systemAlert;
};

} // namespace Heliograph::Desktop
