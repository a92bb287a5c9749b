// SPDX-License-Identifier: MIT
// AdminConsole: the admin hub (/hubs/admin) as the admin console shows it. Role Admin sees
// and acts on its own tenant, role Operator on every tenant; the server enforces it.
//
//   AdminConsole { id: admin; session: theSession; active: adminViewShown }
//
// While active and the session is signed in as Admin or Operator it keeps one hub
// connection (its own, with the session's access token) and
//  - streams metric snapshots (StreamMetrics) into `tenants`, `health`, `nodes` and `history`
//    (the 15 minutes of GetHistory(), then a point each second);
//  - loads the selected tenant's users, connections and groups (GetTenantDetails) when the
//    selection changes, when an event names that tenant, and every 5 s;
//  - streams live events (StreamEvents) and the selected tenant's audit log of the last 24
//    hours (StreamAuditLog), newest first;
//  - runs the actions (broadcastAlert, sendNotification, disconnectConnection; the view asks
//    for confirmation first), each answered by actionFinished().
// After a reconnect the streams and the history start again; after a stateful resume they
// simply carry on. A token without either role gets `Refused` and the hub's reason.
#pragma once

#include "adminmodels.h"
#include "session.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtCore/QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace Heliograph {
class HubConnection;
class HubStream;
inline namespace Protocol {
class Value;
}
} // namespace Heliograph

namespace Heliograph::Desktop {

class AdminConsole : public QObject {
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(
        Heliograph::Desktop::Session *session READ session WRITE setSession NOTIFY sessionChanged)
    /// Connect while true (the view is shown). Default true.
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    /// Why the console is not live, for humans; empty while it is.
    Q_PROPERTY(QString errorString READ errorString NOTIFY stateChanged)
    /// True for an Operator: every tenant, and the tenant can be chosen.
    Q_PROPERTY(bool allTenants READ allTenants NOTIFY allTenantsChanged)

    /// Live tenants: tenant, connections, onlineUsers, messagesIn, messagesOut,
    /// activeDocuments (per second rates), from the newest snapshot.
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *tenants READ tenants CONSTANT)
    /// The cluster's nodes from the newest snapshot, sorted by name: name, connections,
    /// uptimeSeconds, healthy, self (the node this console is connected to). One row for a
    /// single server; none for an Admin (the server sends nodes to Operators only).
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *nodes READ nodes CONSTANT)
    /// The server's health from the newest snapshot: uptimeSeconds, connections, rssBytes,
    /// storageOk, version; and `at`, the snapshot's time.
    Q_PROPERTY(QVariantMap health READ health NOTIFY healthChanged)
    Q_PROPERTY(Heliograph::Desktop::MetricsHistory *history READ history CONSTANT)

    /// The tenant of the drill-down, the charts and the audit log. An Admin's own tenant;
    /// an Operator's choice (the first live tenant until one is chosen).
    Q_PROPERTY(QString selectedTenant READ selectedTenant WRITE setSelectedTenant NOTIFY
                   selectedTenantChanged)
    /// The selected tenant's connections, by user: key, userId, displayName, connectionId,
    /// hub, transport, protocol, client, connectedSince, remoteAddress, firstOfUser (the
    /// user's first row, which carries the user's heading). Sorted by name, user, connection.
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *connections READ connections CONSTANT)
    /// The selected tenant's groups: name, members.
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *groups READ groups CONSTANT)
    Q_PROPERTY(int userCount READ userCount NOTIFY detailsChanged)
    Q_PROPERTY(int activeDocuments READ activeDocuments NOTIFY detailsChanged)
    Q_PROPERTY(bool detailsLoading READ detailsLoading NOTIFY detailsChanged)
    Q_PROPERTY(QString detailsError READ detailsError NOTIFY detailsChanged)

    /// Live events, newest first (at most 500): key, at, kind, tenant, who, details.
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *events READ events CONSTANT)
    /// The selected tenant's audit log, newest first (at most 500): key (the event id), at,
    /// actor, auditAction (an ItemDelegate has an `action` already), details.
    Q_PROPERTY(Heliograph::Desktop::RecordListModel *auditLog READ auditLog CONSTANT)
    Q_PROPERTY(QString auditError READ auditError NOTIFY auditErrorChanged)

    /// Actions under way.
    Q_PROPERTY(int pendingActions READ pendingActions NOTIFY pendingActionsChanged)
public:
    enum State {
        Inactive, ///< not active, signed out, or not an Admin or Operator
        Connecting, ///< connecting; nothing shown yet
        Live, ///< connected, snapshots arriving
        Reconnecting, ///< the connection was lost; what is shown is from before
        Refused, ///< the server refused (role, scope): errorString says why
        Failed, ///< the connection failed and will not be retried: errorString
    };
    Q_ENUM(State)
    /// How many events and audit entries are kept.
    static constexpr int LogLimit = 500;

    explicit AdminConsole(QObject *parent = nullptr);
    ~AdminConsole() override;

    Session *session() const { return m_session; }
    void setSession(Session *session);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    State state() const { return m_state; }
    QString errorString() const { return m_error; }
    bool allTenants() const;

    RecordListModel *tenants() const { return m_tenants; }
    RecordListModel *nodes() const { return m_nodes; }
    QVariantMap health() const { return m_health; }
    MetricsHistory *history() const { return m_history; }
    QString selectedTenant() const { return m_selected; }
    void setSelectedTenant(const QString &tenant);
    RecordListModel *connections() const { return m_connections; }
    RecordListModel *groups() const { return m_groups; }
    int userCount() const { return m_userCount; }
    int activeDocuments() const { return m_activeDocuments; }
    bool detailsLoading() const { return m_detailsLoading; }
    QString detailsError() const { return m_detailsError; }
    RecordListModel *events() const { return m_events; }
    RecordListModel *auditLog() const { return m_auditLog; }
    QString auditError() const { return m_auditError; }
    int pendingActions() const { return m_pendingActions; }
    /// The admin hub connection; nullptr while Inactive.
    HubConnection *connection() const { return m_hub; }

    /// ReceiveSystemAlert to every connection of `tenant`.
    Q_INVOKABLE void broadcastAlert(const QString &tenant, const QString &message);
    /// A stored notification for one user, delivered live or replayed later.
    Q_INVOKABLE void sendNotification(const QString &tenant, const QString &userId,
                                      const QString &title, const QString &body,
                                      const QString &type);
    /// Closes one connection (no automatic reconnect for it).
    Q_INVOKABLE void disconnectConnection(const QString &tenant, const QString &connectionId);
    /// Loads the selected tenant's details now.
    Q_INVOKABLE void refreshDetails();

Q_SIGNALS:
    void sessionChanged();
    /// The session, or its user's roles, changed.
    void allTenantsChanged();
    void activeChanged();
    void stateChanged();
    void healthChanged();
    void selectedTenantChanged();
    void detailsChanged();
    void auditErrorChanged();
    void pendingActionsChanged();
    /// An action's outcome: `action` as the method is named, `message` for humans.
    void actionFinished(const QString &action, bool ok, const QString &message);

private:
    void evaluate();
    void start();
    void stop();
    void subscribe();
    void subscribeAuditLog();
    void onSnapshot(const Value &snapshot);
    void onEvent(const Value &event);
    void applyDetails(const Value &details);
    void runAction(const QString &action, const QByteArray &method, const QList<Value> &args,
                   const QString &done);
    void setState(State state, const QString &error = {});
    void clearData();
    static QString scopeOf(const Session *session);

    QPointer<Session> m_session;
    bool m_active = true;
    State m_state = Inactive;
    QString m_error;
    QString m_scope; ///< server, user and roles the connection was made for
    HubConnection *m_hub = nullptr;
    QPointer<HubStream> m_metricsStream;
    QPointer<HubStream> m_eventStream;
    QPointer<HubStream> m_auditStream;
    RecordListModel *m_tenants;
    RecordListModel *m_nodes;
    RecordListModel *m_connections;
    RecordListModel *m_groups;
    RecordListModel *m_events;
    RecordListModel *m_auditLog;
    MetricsHistory *m_history;
    QVariantMap m_health;
    QString m_selected;
    int m_userCount = 0;
    int m_activeDocuments = 0;
    bool m_detailsLoading = false;
    QString m_detailsError;
    QString m_auditError;
    int m_pendingActions = 0;
    quint64 m_detailsGeneration = 0;
    quint64 m_eventSerial = 0;
    QTimer m_detailsTimer; ///< every 5 s
    QTimer m_detailsSoon; ///< an event named the tenant: a burst makes one call
};

} // namespace Heliograph::Desktop
