// SPDX-License-Identifier: MIT
#include "session.h"

#include "desktoplogging.h"
#include "desktopnotifier.h"
#include "jwtclaims.h"
#include "notificationmodel.h"
#include "qmlhubconnection.h"
#include "refreshtokenstore.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/resilience.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcSession, "heliograph.desktop.session")

namespace {

QString problemText(const QJsonObject &answer, const QString &fallback)
{
    const QString detail = answer.value(u"detail").toString();
    if (!detail.isEmpty())
        return detail;
    const QString title = answer.value(u"title").toString();
    return title.isEmpty() ? fallback : title;
}

/// Adds one GetNotifications page to `model`; true when the history is complete (a short
/// page, or the list at its maximum). Rows created before `readBefore` (the server's time at
/// connect) are what the user had before, so they come in read; anything newer was not
/// delivered yet when the page was read, and stays unread when it comes live.
bool addHistoryPage(Qml::NotificationModel *model, const Value &page, int asked,
                    const QDateTime &readBefore)
{
    const qsizetype size = page.isArray() ? page.size() : 0;
    bool full = false;
    for (qsizetype i = 0; i < size; ++i) {
        const Value &n = page[i];
        if (!model->add(n)) {
            // A duplicate (also replayed or live) is fine; a list at its maximum is full.
            full = model->maximumCount() > 0 && model->count() >= model->maximumCount();
            if (full)
                break;
            continue;
        }
        if (!readBefore.isValid() || !(n["createdAt"].toDateTime() < readBefore))
            continue;
        const QString id = n["id"].toString();
        for (int row = model->rowCount() - 1; row >= 0; --row) {
            const QModelIndex index = model->index(row);
            if (index.data(Qml::NotificationModel::IdRole).toString() == id) {
                model->setData(index, true, Qml::NotificationModel::ReadRole);
                break;
            }
        }
    }
    return full || size < asked;
}

} // namespace

Session::Session(QObject *parent)
    : QObject(parent)
    , m_nam(new QNetworkAccessManager(this))
    , m_keychain(new RefreshTokenStore(this))
    , m_notifier(new DesktopNotifier(this))
    , m_notifications(new Qml::NotificationModel(this))
    , m_filter(new NotificationFilterModel(this))
    , m_presence(new PresenceModel(this))
    , m_document(new DocumentModel(this))
{
    m_nam->setTransferTimeout(15'000);
    m_filter->setSourceModel(m_notifications);
    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &Session::refreshNow);
    m_countdownTimer.setInterval(250);
    connect(&m_countdownTimer, &QTimer::timeout, this, &Session::updateCountdown);
    // Joins and leaves come in bursts: one GetOnlineUsers() for a burst keeps the counts right.
    m_presenceTimer.setSingleShot(true);
    m_presenceTimer.setInterval(300);
    connect(&m_presenceTimer, &QTimer::timeout, this, &Session::refreshPresence);
}

Session::~Session()
{
    stopConnection();
}

QUrl Session::endpoint(const QString &path) const
{
    QUrl url = m_server;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + path);
    return url;
}

bool Session::canAdminister() const
{
    return m_roles.contains(u"Admin"_s) || m_roles.contains(u"Operator"_s);
}

bool Session::canEdit() const
{
    return m_roles.contains(u"Admin"_s) || m_roles.contains(u"Editor"_s);
}

void Session::setDesktopNotifications(bool on)
{
    if (on == m_desktopNotifications)
        return;
    m_desktopNotifications = on;
    Q_EMIT desktopNotificationsChanged();
}

HubConnection *Session::connection() const
{
    return m_hub ? m_hub->connection() : nullptr;
}

Session::ConnectionState Session::connectionState() const
{
    return m_hub ? ConnectionState(int(m_hub->connection()->state())) : Disconnected;
}

QString Session::transportName() const
{
    if (!m_hub)
        return {};
    switch (m_hub->connection()->transport()) {
    case HubConnection::Transport::WebSockets:
        return u"WebSockets"_s;
    case HubConnection::Transport::ServerSentEvents:
        return u"Server-Sent Events"_s;
    case HubConnection::Transport::LongPolling:
        return u"Long polling"_s;
    default:
        return {};
    }
}

QString Session::protocolName() const
{
    return m_hub ? m_hub->connection()->protocolName() : QString();
}

QString Session::connectionError() const
{
    return m_hub ? m_hub->connection()->errorString() : QString();
}

qint64 Session::roundTripTime() const
{
    return m_hub && m_hub->connection()->state() == HubConnection::State::Connected
        ? m_hub->connection()->roundTripTime()
        : -1;
}

bool Session::offline() const
{
    if (m_status != SignedIn || !m_hub)
        return false;
    const HubConnection::State state = m_hub->connection()->state();
    return state == HubConnection::State::Reconnecting
        || state == HubConnection::State::Disconnected;
}

void Session::retryNow()
{
    if (!m_hub)
        return;
    switch (m_hub->connection()->state()) {
    case HubConnection::State::Disconnected:
        qCInfo(lcSession) << "retry now: connecting";
        m_hub->connection()->start();
        break;
    case HubConnection::State::Reconnecting:
        qCInfo(lcSession) << "retry now: a new connection instead of the scheduled attempt";
        m_restartWhenDisconnected = true;
        m_hub->connection()->stop();
        break;
    default:
        break;
    }
}

int Session::reconnectCount() const
{
    return m_hub ? m_hub->connection()->reconnectCount() : 0;
}

int Session::queuedMessages() const
{
    return m_hub ? m_hub->connection()->queuedMessages() : 0;
}

int Session::replayedSinceConnect() const
{
    return m_hub ? int(m_hub->connection()->replayedMessages() - m_replayedBase) : 0;
}

int Session::replayedTotal() const
{
    return m_hub ? int(m_hub->connection()->replayedMessages()) : 0;
}

bool Session::recovered() const
{
    return m_hub ? m_hub->connection()->recovered() : true;
}

// --- signing in ----------------------------------------------------------------------------

void Session::post(const QString &path, const QJsonObject &body,
                   std::function<void(int, const QJsonObject &, const QString &)> done)
{
    QNetworkRequest request(endpoint(path));
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    QNetworkReply *reply = m_nam->post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
    m_signInReply = reply;
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation, done] {
        reply->deleteLater();
        if (generation != m_generation)
            return; // signed out (or in again, or cancelled) meanwhile
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject answer
            = status == 0 ? QJsonObject() : QJsonDocument::fromJson(reply->readAll()).object();
        const QString server = m_server.toDisplayString();
        QString why;
        if (status == 0 && reply->error() == QNetworkReply::OperationCanceledError)
            why = tr("%1 did not answer in time. Check the address, or try again.").arg(server);
        else if (status == 0)
            why = tr("Cannot reach %1: %2").arg(server, reply->errorString());
        else if (status == 404 || status == 405)
            why = tr("%1 is not a Heliograph server (it has no sign-in). Check the address.")
                      .arg(server);
        else if (status >= 300)
            why = problemText(answer, tr("The server answered %1.").arg(status));
        done(status, answer, why);
    });
}

QUrl Session::serverUrlFromText(const QString &text)
{
    QString t = text.trimmed();
    if (t.isEmpty())
        return {};
    if (!t.contains(u"://"_s)) {
        // host[:port][/path]: http only where nothing leaves the machine.
        const QUrl probe(u"http://"_s + t, QUrl::StrictMode);
        const QString host = probe.host();
        const QHostAddress address(host);
        const bool loopback = host.compare(u"localhost"_s, Qt::CaseInsensitive) == 0
            || (!address.isNull() && address.isLoopback());
        t.prepend(loopback ? u"http://"_s : u"https://"_s);
    }
    QUrl url(t, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty() || (scheme != u"http"_s && scheme != u"https"_s))
        return {};
    QString path = url.path();
    for (const QString &tail : {u"/hubs/"_s, u"/auth/"_s}) {
        const qsizetype at = path.indexOf(tail);
        if (at >= 0)
            path.truncate(at);
    }
    while (path.endsWith(u'/'))
        path.chop(1);
    url.setPath(path);
    url.setQuery(QString());
    url.setFragment(QString());
    url.setUserInfo(QString());
    return url;
}

int Session::requestTimeout() const
{
    return m_nam->transferTimeout();
}

void Session::setRequestTimeout(int milliseconds)
{
    if (milliseconds == m_nam->transferTimeout())
        return;
    m_nam->setTransferTimeout(milliseconds);
    Q_EMIT requestTimeoutChanged();
}

void Session::cancelSignIn()
{
    if (m_status != SigningIn)
        return;
    ++m_generation; // the answer, if it still comes, is dropped
    if (QNetworkReply *reply = m_signInReply)
        reply->abort();
    qCInfo(lcSession) << "sign-in cancelled";
    setError({});
    setStatus(SignedOut);
}

void Session::signIn(const QUrl &server, const QString &username, const QString &password)
{
    if (m_status != SignedOut)
        signOut();
    if (!server.isValid() || server.scheme().isEmpty() || server.host().isEmpty()) {
        setError(tr("Enter the server's address, e.g. heliograph.example.com or 127.0.0.1:5000."));
        return;
    }
    if (username.isEmpty() || password.isEmpty()) {
        setError(tr("Enter your username and password."));
        return;
    }
    ++m_generation;
    m_server = server;
    m_username = username;
    setError({});
    setStatus(SigningIn);
    qCInfo(lcSession) << "signing in to" << server.toDisplayString() << "as" << username;
    post(u"/auth/login"_s, {{u"username"_s, username}, {u"password"_s, password}},
         [this](int status, const QJsonObject &answer, const QString &why) {
             if (!why.isEmpty()) {
                 if (status == 401) {
                     failSignIn(tr("Wrong username or password."));
                     Q_EMIT credentialsRejected();
                 } else {
                     failSignIn(why);
                 }
                 return;
             }
             acceptTokens(answer);
         });
}

void Session::resume(const QUrl &server, const QString &username)
{
    if (m_status != SignedOut)
        signOut();
    if (!m_keychainEnabled)
        return;
    ++m_generation;
    m_server = server;
    m_username = username;
    setError({});
    setStatus(SigningIn);
    const quint64 generation = m_generation;
    m_keychain->read(RefreshTokenStore::keyFor(server.toString(), username),
                     [this, generation](RefreshTokenStore::Status status, const QString &token,
                                        const QString &why) {
                         if (generation != m_generation)
                             return;
                         if (status == RefreshTokenStore::Status::Unavailable) {
                             keychainUnavailable(why, false);
                             setStatus(SignedOut);
                             return;
                         }
                         if (status == RefreshTokenStore::Status::NotFound || token.isEmpty()) {
                             setStatus(SignedOut);
                             return;
                         }
                         m_refreshToken = token;
                         refreshNow();
                     });
}

void Session::signInWithToken(const QUrl &server, const QString &accessToken)
{
    if (m_status != SignedOut)
        signOut();
    const auto claims = decodeJwtClaims(accessToken);
    if (!claims || claims->subject.isEmpty()) {
        setError(u"That is not an access token."_s);
        return;
    }
    ++m_generation;
    m_server = server;
    m_username = claims->subject;
    m_userId = claims->subject;
    m_userName = claims->name;
    m_tenant = claims->tenant;
    m_roles = claims->roles;
    m_accessExpiresAt = claims->expiresAt;
    setError({});
    Q_EMIT userChanged();
    Q_EMIT tokensChanged();
    m_accessToken = accessToken;
    startConnection(accessToken);
    setStatus(SignedIn);
}

void Session::refreshNow()
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
                     m_keychain->remove(RefreshTokenStore::keyFor(m_server.toString(), m_username));
                 m_refreshToken.clear();
                 if (m_status == SigningIn) {
                     failSignIn(u"Your saved sign-in has expired: sign in again."_s);
                 } else {
                     signOut();
                     setError(u"Your session has ended: sign in again."_s);
                 }
                 return;
             }
             qCWarning(lcSession) << "token refresh failed, retrying in 15 s:" << why;
             if (m_status == SigningIn) {
                 failSignIn(why);
                 return;
             }
             m_refreshTimer.start(15s);
         });
}

void Session::acceptTokens(const QJsonObject &answer)
{
    const QString accessToken = answer.value(u"accessToken").toString();
    const QString refreshToken = answer.value(u"refreshToken").toString();
    if (accessToken.isEmpty()) {
        failSignIn(u"The server's answer has no access token."_s);
        return;
    }
    const QJsonObject user = answer.value(u"user").toObject();
    m_userId = user.value(u"id").toString();
    m_userName = user.value(u"name").toString(m_userId);
    m_tenant = user.value(u"tenant").toString();
    m_roles.clear();
    for (const QJsonValue &r : user.value(u"roles").toArray())
        m_roles.append(r.toString());
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
                RefreshTokenStore::keyFor(m_server.toString(), m_username), refreshToken,
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
    Q_EMIT userChanged();
    Q_EMIT tokensChanged();
    scheduleRefresh();
    if (m_hub)
        m_hub->setAccessToken(accessToken); // used from the next (re)connect on
    else
        startConnection(accessToken);
    setError({});
    setStatus(SignedIn);
}

void Session::scheduleRefresh()
{
    if (m_refreshToken.isEmpty() || !m_accessExpiresAt.isValid())
        return;
    const qint64 left = QDateTime::currentDateTimeUtc().msecsTo(m_accessExpiresAt);
    const qint64 margin = qMax<qint64>(m_refreshMargin.count(), left / 5);
    const qint64 delay = qMax<qint64>(1000, left - margin);
    qCInfo(lcSession) << "access token refresh in" << delay / 1000 << "s";
    m_refreshTimer.start(std::chrono::milliseconds(delay));
}

void Session::keychainUnavailable(const QString &why, bool afterSignIn)
{
    // The details (a D-Bus error, a service name) are for the log; the user gets plain words.
    qCWarning(lcSession).noquote() << "no keychain:" << why;
    setKeychainMessage(afterSignIn
                           ? tr("This computer has no password storage (keychain) running, so "
                                "you will be asked for your password again next time.")
                           : tr("This computer has no password storage (keychain) running: sign "
                                "in with your password."));
}

void Session::failSignIn(const QString &why)
{
    qCWarning(lcSession) << "sign-in failed:" << why;
    stopConnection();
    setStatus(SignedOut);
    setError(why);
}

void Session::signOut()
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
        m_keychain->remove(RefreshTokenStore::keyFor(m_server.toString(), m_username));
    ++m_generation;
    m_refreshTimer.stop();
    m_refreshToken.clear();
    m_accessToken.clear();
    stopConnection();
    m_userId.clear();
    m_userName.clear();
    m_tenant.clear();
    m_roles.clear();
    m_accessExpiresAt = {};
    Q_EMIT userChanged();
    Q_EMIT tokensChanged();
    setError({});
    setStatus(SignedOut);
}

// --- the hub connection ----------------------------------------------------------------------

void Session::startConnection(const QString &accessToken)
{
    stopConnection();
    m_hub = new Qml::QmlHubConnection(this);
    m_hub->setUrl(endpoint(u"/hubs/notifications"_s));
    m_hub->setAccessToken(accessToken);
    HubConnection *hub = m_hub->connection();
    // Notifications missed during an outage are replayed (and counted) at the next connect.
    ReplayCursorOptions cursor;
    cursor.method = "ReceiveNotification";
    hub->addReplayCursor(cursor);

    m_notifications->clear();
    m_notifications->setConnection(m_hub);
    m_presence->setMe(m_userId);
    m_document->setConnection(hub, m_userId);

    hub->on("ReceiveNotification", this, [this](const ValueList &args) {
        const Value &n = args.value(0);
        const bool replayed = n["replayed"].toBool();
        Q_EMIT notificationReceived(n["title"].toString(), n["body"].toString(),
                                    n["type"].toString(), replayed);
        if (!replayed && m_desktopNotifications)
            m_notifier->notify(n["title"].toString(), n["body"].toString());
    });
    // (connectionId, serverTime): sent before the replay, so history older than this is read.
    hub->on("ConnectionAcknowledged", this,
            [this](const ValueList &args) { m_acknowledgedAt = args.value(1).toDateTime(); });
    hub->on("UserJoined", this, [this](const ValueList &args) {
        m_presence->join(args.value(0).toString(), args.value(1).toString());
        m_presenceTimer.start();
    });
    hub->on("UserLeft", this, [this](const ValueList &args) {
        m_presence->leave(args.value(0).toString());
        m_presenceTimer.start();
    });
    hub->on("ReceiveSystemAlert", this, [this](const ValueList &args) {
        m_systemAlert = args.value(0)["message"].toString();
        Q_EMIT systemAlertChanged();
    });
    hub->onInvoke("GetClientInfo", HubConnection::SyncResultHandler([](const ValueList &) {
                      return Value::fromVariant(
                          QVariantMap {{u"client"_s, u"heliograph-desktop"_s},
                                       {u"qt"_s, QString::fromLatin1(qVersion())}});
                  }));

    const auto connectionChanged = [this] {
        Q_EMIT this->connectionChanged();
        updateCountdown();
    };
    connect(hub, &HubConnection::stateChanged, this, [connectionChanged, this] {
        connectionChanged();
        Q_EMIT statisticsChanged(); // roundTripTime is only shown while connected
    });
    connect(hub, &HubConnection::transportChanged, this, connectionChanged);
    connect(hub, &HubConnection::protocolChanged, this, connectionChanged);
    connect(hub, &HubConnection::errorChanged, this, connectionChanged);
    connect(hub, &HubConnection::statisticsChanged, this, &Session::statisticsChanged);
    connect(hub, &HubConnection::recoveredChanged, this, &Session::statisticsChanged);
    connect(hub, &HubConnection::connected, this, [this] {
        m_replayedBase = m_hub->connection()->replayedMessages();
        Q_EMIT statisticsChanged();
        refreshPresence();
        if (!m_historyStarted)
            loadOlderNotifications();
        else
            catchUp();
    });
    connect(hub, &HubConnection::reconnected, this, [this] {
        m_replayedBase = m_hub->connection()->replayedMessages();
        Q_EMIT statisticsChanged();
        refreshPresence();
        catchUp();
    });
    connect(hub, &HubConnection::disconnected, this, [this] {
        if (m_restartWhenDisconnected && m_hub) {
            m_restartWhenDisconnected = false;
            m_hub->connection()->start();
        }
    });
    connect(hub, &HubConnection::errorOccurred, this, [this] {
        qCWarning(lcSession) << "hub connection failed:" << m_hub->connection()->errorString();
    });
    m_replayedBase = 0;
    m_hub->start();
    Q_EMIT connectionChanged();
    Q_EMIT statisticsChanged();
}

void Session::stopConnection()
{
    m_presenceTimer.stop();
    m_countdownTimer.stop();
    m_document->setConnection(nullptr, {});
    m_document->leave();
    m_notifications->setConnection(nullptr);
    m_notifications->clear();
    m_presence->clear();
    m_presenceLoading = false;
    m_presenceError.clear();
    m_systemAlert.clear();
    m_restartWhenDisconnected = false;
    resetHistory();
    if (m_hub) {
        Qml::QmlHubConnection *hub = m_hub;
        m_hub = nullptr;
        hub->connection()->disconnect(this);
        hub->stop();
        hub->deleteLater();
        Q_EMIT connectionChanged();
        Q_EMIT statisticsChanged();
        Q_EMIT presenceStateChanged();
        Q_EMIT systemAlertChanged();
    }
    if (m_countdown != -1) {
        m_countdown = -1;
        Q_EMIT reconnectCountdownChanged();
    }
}

void Session::refreshPresence()
{
    if (!m_hub || m_hub->connection()->state() != HubConnection::State::Connected)
        return;
    m_presenceLoading = true;
    Q_EMIT presenceStateChanged();
    const quint64 generation = m_generation;
    m_hub->connection()->invoke(
        "GetOnlineUsers", {}, this, [this, generation](const HubResult<Value> &result) {
            if (generation != m_generation)
                return;
            m_presenceLoading = false;
            if (!result) {
                m_presenceError = u"Could not load who is online: %1"_s.arg(result.error().message);
            } else {
                m_presenceError.clear();
                m_presence->replace(result.value().toVariant().toList());
            }
            Q_EMIT presenceStateChanged();
        });
}

void Session::loadOlderNotifications()
{
    if (!m_hub || m_hub->connection()->state() != HubConnection::State::Connected
        || m_historyLoading || m_historyComplete)
        return;
    // Below the oldest row shown: live and replayed rows come newest first, so the history
    // continues where they end.
    qint64 before = 0;
    const int rows = m_notifications->rowCount();
    for (int i = 0; i < rows; ++i) {
        const qint64 sequence
            = m_notifications->index(i).data(Qml::NotificationModel::SequenceRole).toLongLong();
        if (sequence > 0 && (before == 0 || sequence < before))
            before = sequence;
    }
    if (before == 1) {
        m_historyStarted = true;
        m_historyComplete = true;
        Q_EMIT historyChanged();
        return;
    }
    m_historyStarted = true;
    m_historyLoading = true;
    m_historyError.clear();
    Q_EMIT historyChanged();
    const quint64 generation = m_generation;
    QPointer<Qml::QmlHubConnection> hub = m_hub;
    m_hub->connection()->invoke(
        "GetNotifications", {Value(before), Value(HistoryPageSize)}, this,
        [this, generation, hub](const HubResult<Value> &result) {
            if (generation != m_generation || hub != m_hub)
                return;
            m_historyLoading = false;
            if (!result) {
                m_historyError
                    = tr("Could not load older notifications: %1").arg(result.error().message);
                qCWarning(lcSession).noquote() << "history:" << result.error().message;
            } else {
                if (addHistoryPage(m_notifications, result.value(), HistoryPageSize,
                                   m_acknowledgedAt))
                    m_historyComplete = true;
            }
            Q_EMIT historyChanged();
        });
}

void Session::catchUp()
{
    // The replay covers an outage when the server knows where this client was (its cursor,
    // or when the user was last seen); the newest page covers the rest, e.g. a server that
    // restarted without its storage. What it adds was missed, so it stays unread.
    const quint64 generation = m_generation;
    QPointer<Qml::QmlHubConnection> hub = m_hub;
    m_hub->connection()->invoke(
        "GetNotifications", {Value(0), Value(HistoryPageSize)}, this,
        [this, generation, hub](const HubResult<Value> &result) {
            if (generation != m_generation || hub != m_hub)
                return;
            if (!result) {
                qCWarning(lcSession).noquote() << "catching up:" << result.error().message;
                return;
            }
            addHistoryPage(m_notifications, result.value(), HistoryPageSize, {});
        });
}

void Session::resetHistory()
{
    m_acknowledgedAt = {};
    if (!m_historyLoading && !m_historyComplete && !m_historyStarted && m_historyError.isEmpty())
        return;
    m_historyLoading = false;
    m_historyComplete = false;
    m_historyStarted = false;
    m_historyError.clear();
    Q_EMIT historyChanged();
}

void Session::dismissSystemAlert()
{
    if (m_systemAlert.isEmpty())
        return;
    m_systemAlert.clear();
    Q_EMIT systemAlertChanged();
}

void Session::updateCountdown()
{
    int seconds = -1;
    if (m_hub && m_hub->connection()->state() == HubConnection::State::Reconnecting) {
        if (!m_countdownTimer.isActive())
            m_countdownTimer.start();
        const QDateTime at = m_hub->connection()->nextRetryAt();
        if (at.isValid())
            seconds
                = int(qMax<qint64>(0, (QDateTime::currentDateTimeUtc().msecsTo(at) + 999) / 1000));
    } else {
        m_countdownTimer.stop();
    }
    if (seconds != m_countdown) {
        m_countdown = seconds;
        Q_EMIT reconnectCountdownChanged();
    }
}

void Session::setStatus(Status status)
{
    if (status == m_status)
        return;
    m_status = status;
    qCInfo(lcSession).noquote() << "status:" << readableName(status);
    Q_EMIT statusChanged();
    Q_EMIT connectionChanged(); // offline depends on the status too
}

void Session::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    Q_EMIT errorChanged();
}

void Session::setKeychainMessage(const QString &message)
{
    if (message == m_keychainMessage)
        return;
    m_keychainMessage = message;
    if (!message.isEmpty())
        qCWarning(lcSession) << message;
    Q_EMIT keychainChanged();
}

} // namespace Heliograph::Desktop
