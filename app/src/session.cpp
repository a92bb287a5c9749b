// SPDX-License-Identifier: MIT
#include "session.h"

#include "desktoplogging.h"
#include "desktopnotifier.h"
#include "jwtclaims.h"
#include "notificationmodel.h"
#include "qmlhubconnection.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/resilience.h>

#include <QtCore/QLoggingCategory>
#include <QtNetwork/QHostAddress>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcSession, "heliograph.desktop.session")

namespace {

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
    , m_auth(new AuthClient(this))
    , m_notifier(new DesktopNotifier(this))
    , m_notifications(new Qml::NotificationModel(this))
    , m_filter(new NotificationFilterModel(this))
    , m_presence(new PresenceModel(this))
    , m_document(new DocumentModel(this))
    , m_hub(new Qml::QmlHubConnection(this))
{
    m_filter->setSourceModel(m_notifications);
    m_countdownTimer.setInterval(250);
    connect(&m_countdownTimer, &QTimer::timeout, this, &Session::updateCountdown);

    connect(m_auth, &AuthClient::signedIn, this, &Session::signedIn);
    connect(m_auth, &AuthClient::failed, this, &Session::failSignIn);
    connect(m_auth, &AuthClient::credentialsRejected, this, &Session::credentialsRejected);
    connect(m_auth, &AuthClient::expired, this, [this] {
        signOut();
        setError(u"Your session has ended: sign in again."_s);
    });
    connect(m_auth, &AuthClient::tokensChanged, this, [this] {
        if (m_status != SignedIn || m_auth->accessToken().isEmpty())
            return;
        takeUser(); // a refresh: the server's latest word on who this is
        m_hub->setAccessToken(m_auth->accessToken()); // used from the next (re)connect on
    });
}

Session::~Session()
{
    // Nothing reaches this half-destroyed session from the connection that goes with it.
    m_hub->connection()->disconnect(this);
    m_document->setConnection(nullptr, {});
    m_document->leave();
    m_notifications->setConnection(nullptr);
    m_presence->setConnection(nullptr);
    m_hub->stop();
}

bool Session::canAdminister() const
{
    return m_user.roles.contains(u"Admin"_s) || m_user.roles.contains(u"Operator"_s);
}

bool Session::canEdit() const
{
    return m_user.roles.contains(u"Admin"_s) || m_user.roles.contains(u"Editor"_s);
}

void Session::setDesktopNotifications(bool on)
{
    if (on == m_desktopNotifications)
        return;
    m_desktopNotifications = on;
    Q_EMIT desktopNotificationsChanged();
}

HubConnection *Session::hubConnection() const
{
    return m_hub->connection();
}

bool Session::offline() const
{
    return m_offline;
}

int Session::replayedSinceConnect() const
{
    return m_replayedSinceConnect;
}

void Session::updateOffline()
{
    const HubConnection::State state = hubConnection()->state();
    const bool offline = m_status == SignedIn
        && (state == HubConnection::State::Reconnecting
            || state == HubConnection::State::Disconnected);
    if (offline == m_offline)
        return;
    m_offline = offline;
    Q_EMIT offlineChanged();
}

void Session::updateReplayed()
{
    const int replayed = int(hubConnection()->replayedMessages() - m_replayedBase);
    if (replayed == m_replayedSinceConnect)
        return;
    m_replayedSinceConnect = replayed;
    Q_EMIT replayedSinceConnectChanged();
}

void Session::retryNow()
{
    if (m_status != SignedIn)
        return;
    HubConnection *hub = hubConnection();
    switch (hub->state()) {
    case HubConnection::State::Disconnected:
        qCInfo(lcSession) << "retry now: connecting";
        hub->start();
        break;
    case HubConnection::State::Reconnecting:
        qCInfo(lcSession) << "retry now: a new connection instead of the scheduled attempt";
        m_restartWhenDisconnected = true;
        hub->stop();
        break;
    default:
        break;
    }
}

// --- signing in ----------------------------------------------------------------------------

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

void Session::cancelSignIn()
{
    if (m_status != SigningIn)
        return;
    m_auth->cancel();
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
    m_server = server;
    setError({});
    setStatus(SigningIn);
    m_auth->login(server, username, password);
}

void Session::resume(const QUrl &server, const QString &username)
{
    if (m_status != SignedOut)
        signOut();
    if (!m_auth->isKeychainEnabled())
        return;
    m_server = server;
    setError({});
    setStatus(SigningIn);
    m_auth->resume(server, username);
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
    m_server = server;
    m_auth->useAccessToken(server, claims->subject, accessToken, claims->expiresAt);
    m_user = {claims->subject, claims->name, claims->tenant, claims->roles};
    setError({});
    Q_EMIT userChanged();
    startConnection();
    setStatus(SignedIn);
}

void Session::signedIn()
{
    takeUser();
    startConnection();
    setError({});
    setStatus(SignedIn);
}

void Session::takeUser()
{
    m_user = m_auth->user();
    Q_EMIT userChanged();
}

void Session::failSignIn(const QString &why)
{
    if (!why.isEmpty())
        qCWarning(lcSession) << "sign-in failed:" << why;
    stopConnection();
    setStatus(SignedOut);
    setError(why);
}

void Session::signOut()
{
    m_auth->logout();
    stopConnection();
    m_user = {};
    Q_EMIT userChanged();
    setError({});
    setStatus(SignedOut);
}

// --- the hub connection ----------------------------------------------------------------------

void Session::startConnection()
{
    stopConnection();
    auto *qmlHub = new Qml::QmlHubConnection(this);
    qmlHub->setUrl(m_auth->endpoint(u"/hubs/notifications"_s));
    qmlHub->setAccessToken(m_auth->accessToken());
    HubConnection *hub = qmlHub->connection();
    // Notifications missed during an outage are replayed (and counted) at the next connect.
    ReplayCursorOptions cursor;
    cursor.method = "ReceiveNotification";
    hub->addReplayCursor(cursor);

    m_notifications->clear();
    m_notifications->setConnection(hub);
    m_presence->setMe(m_user.id);
    m_presence->setConnection(hub);
    m_document->setConnection(hub, m_user.id);

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
    hub->on("ReceiveSystemAlert", this, [this](const ValueList &args) {
        m_systemAlert = args.value(0)["message"].toString();
        Q_EMIT systemAlertChanged();
    });
    hub->onInvoke("GetClientInfo", HubConnection::SyncResultHandler([](const ValueList &) {
                      return Value::fromVariant(
                          QVariantMap {{u"client"_s, u"heliograph-desktop"_s},
                                       {u"qt"_s, QString::fromLatin1(qVersion())}});
                  }));

    connect(hub, &HubConnection::stateChanged, this, [this] {
        updateOffline();
        updateCountdown();
    });
    connect(hub, &HubConnection::statisticsChanged, this, &Session::updateReplayed);
    connect(hub, &HubConnection::connected, this, [this] {
        m_replayedBase = hubConnection()->replayedMessages();
        updateReplayed();
        if (!m_historyStarted)
            loadOlderNotifications();
        else
            catchUp();
    });
    connect(hub, &HubConnection::reconnected, this, [this] {
        m_replayedBase = hubConnection()->replayedMessages();
        updateReplayed();
        catchUp();
    });
    connect(hub, &HubConnection::disconnected, this, [this] {
        if (std::exchange(m_restartWhenDisconnected, false))
            hubConnection()->start();
    });
    connect(hub, &HubConnection::errorOccurred, this, [this] {
        qCWarning(lcSession) << "hub connection failed:" << hubConnection()->errorString();
    });
    m_replayedBase = 0;
    replaceConnection(qmlHub);
    qmlHub->start();
}

void Session::stopConnection()
{
    m_countdownTimer.stop();
    m_document->setConnection(nullptr, {});
    m_document->leave();
    m_notifications->setConnection(nullptr);
    m_notifications->clear();
    m_presence->setConnection(nullptr);
    m_presence->clear();
    m_restartWhenDisconnected = false;
    resetHistory();
    if (!m_systemAlert.isEmpty()) {
        m_systemAlert.clear();
        Q_EMIT systemAlertChanged();
    }
    // A connection that was never configured (signed out already) stays; a used one is
    // replaced by an idle one.
    if (!m_hub->url().isEmpty())
        replaceConnection(new Qml::QmlHubConnection(this));
}

void Session::replaceConnection(Qml::QmlHubConnection *hub)
{
    Qml::QmlHubConnection *old = std::exchange(m_hub, hub);
    ++m_generation; // answers for the old connection are dropped
    old->connection()->disconnect(this);
    old->stop();
    old->deleteLater();
    Q_EMIT connectionChanged();
    updateOffline();
    updateReplayed();
    updateCountdown();
}

void Session::loadOlderNotifications()
{
    if (hubConnection()->state() != HubConnection::State::Connected || m_historyLoading
        || m_historyComplete)
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
    hubConnection()->invoke(
        "GetNotifications", {Value(before), Value(HistoryPageSize)}, this,
        [this, generation](const HubResult<Value> &result) {
            if (generation != m_generation)
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
    hubConnection()->invoke(
        "GetNotifications", {Value(0), Value(HistoryPageSize)}, this,
        [this, generation](const HubResult<Value> &result) {
            if (generation != m_generation)
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
    const HubConnection *hub = hubConnection();
    if (hub->state() == HubConnection::State::Reconnecting) {
        if (!m_countdownTimer.isActive())
            m_countdownTimer.start();
        const QDateTime at = hub->nextRetryAt();
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
    updateOffline(); // offline depends on the status too
}

void Session::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    Q_EMIT errorChanged();
}

} // namespace Heliograph::Desktop
