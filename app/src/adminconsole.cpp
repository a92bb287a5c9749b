// SPDX-License-Identifier: MIT
#include "adminconsole.h"

#include "desktoplogging.h"
#include "session.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>

#include <algorithm>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcAdmin, "heliograph.desktop.admin")

namespace {

// A field the console shows as text: strings as they are, anything else as compact JSON.
QString text(const Value &v)
{
    if (v.isString() || v.isNull())
        return v.toString();
    const QJsonValue json = v.toJsonValue();
    if (json.isObject())
        return QString::fromUtf8(QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact));
    if (json.isArray())
        return QString::fromUtf8(QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact));
    return json.toVariant().toString();
}

} // namespace

QString AdminConsole::scopeOf(const Session *session)
{
    return session->serverUrl().toString() + u'\n' + session->userId() + u'\n'
        + session->roles().join(u',');
}

AdminConsole::AdminConsole(QObject *parent)
    : QObject(parent)
    , m_tenants(new RecordListModel(
          {"tenant", "connections", "onlineUsers", "messagesIn", "messagesOut", "activeDocuments"},
          this))
    , m_nodes(
          new RecordListModel({"name", "connections", "uptimeSeconds", "healthy", "self"}, this))
    , m_connections(new RecordListModel({"key", "userId", "displayName", "connectionId", "hub",
                                         "transport", "protocol", "client", "connectedSince",
                                         "remoteAddress", "firstOfUser"},
                                        this))
    , m_groups(new RecordListModel({"name", "members"}, this))
    , m_events(new RecordListModel(
          {"key", "at", "kind", "tenant", "who", "details", "connectionId"}, this))
    , m_auditLog(new RecordListModel({"key", "at", "actor", "auditAction", "details"}, this))
    , m_history(new MetricsHistory(this))
{
    m_detailsTimer.setInterval(5s);
    connect(&m_detailsTimer, &QTimer::timeout, this, &AdminConsole::refreshDetails);
    m_detailsSoon.setSingleShot(true);
    m_detailsSoon.setInterval(250ms);
    connect(&m_detailsSoon, &QTimer::timeout, this, &AdminConsole::refreshDetails);
}

AdminConsole::~AdminConsole()
{
    stop();
}

void AdminConsole::setSession(Session *session)
{
    if (session == m_session)
        return;
    stop();
    if (m_session)
        m_session->disconnect(this);
    m_session = session;
    if (m_session) {
        connect(m_session, &Session::statusChanged, this, &AdminConsole::evaluate);
        // Another user, server or set of roles: start over with that scope. (userChanged also
        // comes with every token refresh, which changes nothing here.)
        connect(m_session, &Session::userChanged, this, [this] {
            if (scopeOf(m_session) == m_scope)
                return;
            Q_EMIT allTenantsChanged(); // the roles may be others (or come with the sign-in)
            stop();
            evaluate();
        });
    }
    Q_EMIT sessionChanged();
    Q_EMIT allTenantsChanged();
    evaluate();
}

void AdminConsole::setActive(bool active)
{
    if (active == m_active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
    evaluate();
}

bool AdminConsole::allTenants() const
{
    return m_session && m_session->roles().contains(u"Operator"_s);
}

void AdminConsole::evaluate()
{
    const bool wanted = m_active && m_session && m_session->status() == Session::SignedIn
        && m_session->canAdminister();
    if (wanted && !m_hub)
        start();
    else if (!wanted && m_hub)
        stop();
}

void AdminConsole::start()
{
    clearData();
    m_scope = scopeOf(m_session);
    const QString own = allTenants() ? QString() : m_session->tenant();
    if (own != m_selected) {
        m_selected = own;
        Q_EMIT selectedTenantChanged();
    }
    m_hub = new HubConnection(m_session->auth()->endpoint(u"/hubs/admin"_s), this);
    m_hub->setAccessTokenProvider([session = m_session] {
        return QtFuture::makeReadyFuture(session ? session->auth()->accessToken() : QString());
    });
    connect(m_hub, &HubConnection::connected, this, &AdminConsole::subscribe);
    connect(m_hub, &HubConnection::reconnected, this, &AdminConsole::subscribe);
    connect(m_hub, &HubConnection::reconnecting, this, [this] { setState(Reconnecting); });
    connect(m_hub, &HubConnection::disconnected, this, [this] {
        const HubConnection::Error error = m_hub->error();
        if (error == HubConnection::Error::NoError)
            setState(Inactive);
        else if (error == HubConnection::Error::ServerClosed
                 || error == HubConnection::Error::Unauthorized)
            setState(Refused, m_hub->errorString());
        else
            setState(Failed, m_hub->errorString());
        m_detailsTimer.stop();
    });
    setState(Connecting);
    m_hub->start();
}

void AdminConsole::stop()
{
    m_detailsTimer.stop();
    m_detailsSoon.stop();
    delete m_metricsStream;
    delete m_eventStream;
    delete m_auditStream;
    if (m_hub) {
        HubConnection *hub = m_hub;
        m_hub = nullptr;
        hub->disconnect(this);
        hub->stop();
        hub->deleteLater();
    }
    ++m_detailsGeneration;
    if (m_pendingActions != 0) {
        m_pendingActions = 0;
        Q_EMIT pendingActionsChanged();
    }
    m_scope.clear();
    clearData();
    setState(Inactive);
}

void AdminConsole::clearData()
{
    m_tenants->clear();
    m_nodes->clear();
    m_connections->clear();
    m_groups->clear();
    m_events->clear();
    m_auditLog->clear();
    m_history->clear();
    m_userCount = 0;
    m_activeDocuments = 0;
    m_detailsLoading = false;
    m_detailsError.clear();
    Q_EMIT detailsChanged();
    if (!m_auditError.isEmpty()) {
        m_auditError.clear();
        Q_EMIT auditErrorChanged();
    }
    if (!m_health.isEmpty()) {
        m_health.clear();
        Q_EMIT healthChanged();
    }
}

void AdminConsole::setState(State state, const QString &error)
{
    if (state == m_state && error == m_error)
        return;
    m_state = state;
    m_error = error;
    if (error.isEmpty())
        qCInfo(lcAdmin).noquote() << "admin console:" << readableName(state);
    else
        qCInfo(lcAdmin).noquote() << "admin console:" << readableName(state) << "-" << error;
    Q_EMIT stateChanged();
}

// A new connection (first connect or automatic reconnect): the streams of the last one are
// gone, so everything starts again. A stateful resume keeps them and does not come here.
void AdminConsole::subscribe()
{
    delete m_metricsStream;
    delete m_eventStream;
    // The previous server's points would read as this one's until GetHistory answers.
    m_history->clear();
    m_hub->invoke("GetHistory", {}, this, [this](const HubResult<Value> &result) {
        if (result)
            m_history->replace(result.value());
        else
            qCWarning(lcAdmin) << "GetHistory failed:" << result.error().message;
    });
    m_metricsStream = m_hub->stream("StreamMetrics");
    connect(m_metricsStream, &HubStream::item, this, &AdminConsole::onSnapshot);
    connect(m_metricsStream, &HubStream::errorOccurred, this, [this](const HubError &error) {
        if (m_hub && m_hub->state() == HubConnection::State::Connected)
            setState(Failed, u"The server stopped sending metrics: %1"_s.arg(error.message));
    });
    m_eventStream = m_hub->stream("StreamEvents");
    connect(m_eventStream, &HubStream::item, this, &AdminConsole::onEvent);
    subscribeAuditLog();
    refreshDetails();
    m_detailsTimer.start();
    setState(Live);
}

void AdminConsole::subscribeAuditLog()
{
    delete m_auditStream;
    m_auditLog->clear();
    if (!m_auditError.isEmpty()) {
        m_auditError.clear();
        Q_EMIT auditErrorChanged();
    }
    if (!m_hub || m_hub->state() != HubConnection::State::Connected || m_selected.isEmpty())
        return;
    const QString from = QDateTime::currentDateTimeUtc().addDays(-1).toString(Qt::ISODateWithMs);
    m_auditStream = m_hub->stream("StreamAuditLog", {Value(m_selected), Value(from)});
    connect(m_auditStream, &HubStream::item, this, [this](const Value &e) {
        m_auditLog->prepend({text(e["id"]), e["at"].toDateTime(), e["actor"].toString(),
                             e["action"].toString(), text(e["details"])},
                            LogLimit);
    });
    connect(m_auditStream, &HubStream::errorOccurred, this, [this](const HubError &error) {
        m_auditError = u"The audit log is not available: %1"_s.arg(error.message);
        Q_EMIT auditErrorChanged();
    });
}

void AdminConsole::onSnapshot(const Value &snapshot)
{
    m_history->append(snapshot);
    QList<RecordListModel::Record> rows;
    for (const Value &t : snapshot["tenants"].array()) {
        rows.append({t["tenant"].toString(), t["connections"].toInteger(),
                     t["onlineUsers"].toInteger(), t["messagesInPerSecond"].toDouble(),
                     t["messagesOutPerSecond"].toDouble(), t["activeDocuments"].toInteger()});
    }
    m_tenants->setRecords(std::move(rows));
    QList<RecordListModel::Record> nodes;
    for (const Value &n : snapshot["nodes"].array()) {
        nodes.append({n["name"].toString(), n["connections"].toInteger(),
                      n["uptimeSeconds"].toInteger(), n["healthy"].toBool(), n["self"].toBool()});
    }
    m_nodes->setRecords(std::move(nodes));
    QVariantMap health = snapshot["health"].toVariant().toMap();
    health.insert(u"at"_s, snapshot["at"].toDateTime());
    m_health = std::move(health);
    Q_EMIT healthChanged();
    // An Operator who has not chosen sees the first live tenant.
    if (m_selected.isEmpty() && m_tenants->count() > 0)
        setSelectedTenant(m_tenants->records().constFirst().constFirst().toString());
}

void AdminConsole::onEvent(const Value &event)
{
    const QString tenant = event["tenant"].toString();
    const QString kind = event["kind"].toString();
    QString who = event["displayName"].toString();
    if (who.isEmpty())
        who = event["userId"].toString();
    m_events->prepend({QString::number(++m_eventSerial), event["at"].toDateTime(), kind, tenant,
                       who, text(event["details"]), event["connectionId"].toString()},
                      LogLimit);
    if (tenant == m_selected && kind != u"action")
        m_detailsSoon.start();
}

void AdminConsole::setSelectedTenant(const QString &tenant)
{
    if (tenant == m_selected)
        return;
    m_selected = tenant;
    ++m_detailsGeneration;
    m_connections->clear();
    m_groups->clear();
    m_userCount = 0;
    m_activeDocuments = 0;
    m_detailsError.clear();
    Q_EMIT selectedTenantChanged();
    Q_EMIT detailsChanged();
    refreshDetails();
    subscribeAuditLog();
}

void AdminConsole::refreshDetails()
{
    m_detailsSoon.stop();
    if (!m_hub || m_hub->state() != HubConnection::State::Connected || m_selected.isEmpty())
        return;
    const quint64 generation = ++m_detailsGeneration;
    if (m_connections->count() == 0 && !m_detailsLoading) {
        m_detailsLoading = true;
        Q_EMIT detailsChanged();
    }
    m_hub->invoke("GetTenantDetails", {Value(m_selected)}, this,
                  [this, generation](const HubResult<Value> &result) {
                      if (generation != m_detailsGeneration)
                          return;
                      m_detailsLoading = false;
                      if (result) {
                          m_detailsError.clear();
                          applyDetails(result.value());
                      } else {
                          m_detailsError
                              = u"Could not load the tenant: %1"_s.arg(result.error().message);
                      }
                      Q_EMIT detailsChanged();
                  });
}

void AdminConsole::applyDetails(const Value &details)
{
    QList<RecordListModel::Record> rows;
    const ValueList &users = details["users"].array();
    for (const Value &user : users) {
        const QString userId = user["userId"].toString();
        const QString name = user["displayName"].toString();
        for (const Value &c : user["connections"].array()) {
            const QString connectionId = c["connectionId"].toString();
            rows.append({QString(name + u'\x1f' + userId + u'\x1f' + connectionId), userId, name,
                         connectionId, c["hub"].toString(), c["transport"].toString(),
                         c["protocol"].toString(), c["client"].toString(),
                         c["connectedSince"].toDateTime(), c["remoteAddress"].toString(), false});
        }
    }
    // In the model's order (by key: name, user id, connection), the first connection of each
    // user carries the user's heading. The view draws it in the row itself: a ListView section
    // header is reused from a cache and, in Qt 6.4, can keep another tenant's name.
    std::stable_sort(rows.begin(), rows.end(),
                     [](const RecordListModel::Record &a, const RecordListModel::Record &b) {
                         return a.constFirst().toString() < b.constFirst().toString();
                     });
    for (qsizetype i = 0; i < rows.size(); ++i)
        rows[i][10] = i == 0 || rows.at(i - 1).at(1) != rows.at(i).at(1);
    m_connections->setRecords(std::move(rows));
    QList<RecordListModel::Record> groups;
    for (const Value &g : details["groups"].array())
        groups.append({g["name"].toString(), g["members"].toInteger()});
    m_groups->setRecords(std::move(groups));
    m_userCount = int(users.size());
    m_activeDocuments = int(details["activeDocuments"].toInteger());
}

void AdminConsole::runAction(const QString &action, const QByteArray &method,
                             const QList<Value> &args, const QString &done)
{
    if (!m_hub || m_hub->state() != HubConnection::State::Connected) {
        Q_EMIT actionFinished(action, false,
                              u"The admin console is not connected: nothing was done."_s);
        return;
    }
    ++m_pendingActions;
    Q_EMIT pendingActionsChanged();
    m_hub->invoke(method, args, this, [this, action, done](const HubResult<Value> &result) {
        m_pendingActions = std::max(0, m_pendingActions - 1);
        Q_EMIT pendingActionsChanged();
        if (result)
            Q_EMIT actionFinished(action, true, done);
        else
            Q_EMIT actionFinished(action, false, result.error().message);
        refreshDetails();
    });
}

void AdminConsole::broadcastAlert(const QString &tenant, const QString &message)
{
    runAction(u"broadcastAlert"_s, "BroadcastAlert", {Value(tenant), Value(message)},
              u"Alert sent to %1."_s.arg(tenant));
}

void AdminConsole::sendNotification(const QString &tenant, const QString &userId,
                                    const QString &title, const QString &body, const QString &type)
{
    runAction(u"sendNotification"_s, "SendNotification",
              {Value(tenant), Value(userId), Value(title), Value(body), Value(type)},
              u"Notification sent to %1."_s.arg(userId));
}

void AdminConsole::disconnectConnection(const QString &tenant, const QString &connectionId)
{
    runAction(u"disconnectConnection"_s, "DisconnectConnection",
              {Value(tenant), Value(connectionId)}, u"Connection %1 closed."_s.arg(connectionId));
}

} // namespace Heliograph::Desktop
