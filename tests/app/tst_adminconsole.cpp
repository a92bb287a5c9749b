// SPDX-License-Identifier: MIT
// The admin console: its models (RecordListModel under QAbstractItemModelTester,
// MetricsHistory, LineChart's scale) and AdminConsole against the real heliograph-server
// in-process: an Admin sees exactly its tenant, an Operator every tenant; live snapshots,
// history, drill-down, events and the audit log; the cluster's nodes (Operators only; with
// two servers on a real redis-server, both); the three actions reach the users they name and
// are audited; after a server restart everything starts again; refusals are reported, never
// retried.
#include "adminconsole.h"
#include "adminmodels.h"
#include "desktoplogging.h"
#include "desktoptestsupport.h"
#include "linechart.h"
#include "redisserver.h"
#include "session.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QScopeGuard>
#include <QtCore/QSysInfo>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Desktop;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

QUrl baseUrl(quint16 port)
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(port));
}

QStringList keys(const RecordListModel &model)
{
    QStringList out;
    for (const RecordListModel::Record &r : model.records())
        out.append(r.value(0).toString());
    return out;
}

QVariant field(const RecordListModel &model, const QString &key, const QString &name)
{
    return model.get(model.indexOfKey(key)).value(name);
}

QVariantMap rowOfConnection(const RecordListModel &model, const QString &connectionId)
{
    for (int r = 0; r < model.count(); ++r) {
        if (model.get(r).value(u"connectionId"_s) == connectionId)
            return model.get(r);
    }
    return {};
}

// A snapshot as the admin hub sends it (JSON shape).
Value snapshot(const QDateTime &at, const QList<std::pair<QString, int>> &tenantConnections)
{
    QJsonArray tenants;
    for (const auto &[tenant, connections] : tenantConnections) {
        tenants.append(QJsonObject {{u"tenant"_s, tenant},
                                    {u"connections"_s, connections},
                                    {u"onlineUsers"_s, 1},
                                    {u"messagesInPerSecond"_s, connections * 1.5},
                                    {u"messagesOutPerSecond"_s, 0.5},
                                    {u"activeDocuments"_s, 0}});
    }
    return Value::fromJsonValue(QJsonObject {{u"at"_s, at.toString(Qt::ISODateWithMs)},
                                             {u"tenants"_s, tenants},
                                             {u"health"_s, QJsonObject {}}});
}

// A notification-hub connection of (user, tenant), connected.
std::unique_ptr<HubConnection> connectUser(quint16 port, const QByteArray &user,
                                           const QByteArray &tenant)
{
    auto hub = std::make_unique<HubConnection>(
        QUrl(u"http://127.0.0.1:%1/hubs/notifications"_s.arg(port)));
    hub->setAccessTokenProvider([t = token(user, tenant, {"Viewer"})] { return readyToken(t); });
    hub->on("ConnectionAcknowledged", hub.get(), [](const ValueList &) {});
    hub->on("UserJoined", hub.get(), [](const ValueList &) {});
    hub->on("UserLeft", hub.get(), [](const ValueList &) {});
    QSignalSpy connected(hub.get(), &HubConnection::connected);
    hub->start();
    if (!connected.wait(15'000))
        return nullptr;
    return hub;
}

} // namespace

class tst_AdminConsole : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;
    std::unique_ptr<Server::ServerApp> m_server;

    // A session signed in with `roles` in `tenant`, and a live console on it.
    struct Console {
        std::unique_ptr<Session> session = std::make_unique<Session>();
        std::unique_ptr<AdminConsole> admin = std::make_unique<AdminConsole>();
    };
    std::unique_ptr<Console> openConsole(const QByteArray &user, const QByteArray &tenant,
                                         QList<QByteArray> roles)
    {
        return openConsoleWithToken(token(user, tenant, std::move(roles)), m_server->port());
    }
    static std::unique_ptr<Console> openConsoleWithToken(const QString &accessToken, quint16 port)
    {
        auto c = std::make_unique<Console>();
        c->session->auth()->setKeychainEnabled(false);
        c->session->setDesktopNotifications(false);
        c->session->signInWithToken(baseUrl(port), accessToken);
        c->admin->setSession(c->session.get());
        return c;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_settings.isValid());
        isolateSettings(m_settings);
        m_server = startDesktopServer();
        QVERIFY(m_server);
    }
    void cleanupTestCase() { m_server.reset(); }

    // --- the models ----------------------------------------------------------------------

    void recordListModelMergesByKey()
    {
        RecordListModel model({"name", "value"});
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy count(&model, &RecordListModel::countChanged);

        model.setRecords({{u"c"_s, 3}, {u"a"_s, 1}, {u"b"_s, 2}});
        QCOMPARE(keys(model), (QStringList {u"a"_s, u"b"_s, u"c"_s})); // sorted by key
        QCOMPARE(count.size(), 1);

        // b goes, d comes, c changes, a stays as it is.
        inserted.clear();
        model.setRecords({{u"d"_s, 4}, {u"a"_s, 1}, {u"c"_s, 30}});
        QCOMPARE(keys(model), (QStringList {u"a"_s, u"c"_s, u"d"_s}));
        QCOMPARE(field(model, u"c"_s, u"value"_s).toInt(), 30);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
        QCOMPARE(reset.size(), 0);

        // The same records again: no signal at all.
        changed.clear();
        inserted.clear();
        removed.clear();
        model.setRecords({{u"a"_s, 1}, {u"c"_s, 30}, {u"d"_s, 4}});
        QCOMPARE(changed.size() + inserted.size() + removed.size(), 0);

        // Roles by name, for QML.
        const QHash<int, QByteArray> roles = model.roleNames();
        QCOMPARE(roles.value(Qt::UserRole + 2), QByteArray("value"));
        QCOMPARE(model.index(2, 0).data(Qt::UserRole + 2).toInt(), 4);
        QCOMPARE(model.get(0), (QVariantMap {{u"name"_s, u"a"_s}, {u"value"_s, 1}}));
        QVERIFY(model.get(7).isEmpty());
        QCOMPARE(model.indexOfKey(u"zz"_s), -1);

        model.setRecords({});
        QCOMPARE(model.count(), 0);
        QCOMPARE(reset.size(), 0);
    }

    void recordListModelPrependKeepsTheLimit()
    {
        RecordListModel model({"key", "text"});
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 0; i < 7; ++i)
            model.prepend({QString::number(i), u"event %1"_s.arg(i)}, 5);
        QCOMPARE(model.count(), 5);
        QCOMPARE(keys(model), (QStringList {u"6"_s, u"5"_s, u"4"_s, u"3"_s, u"2"_s}));
        model.clear();
        QCOMPARE(model.count(), 0);
    }

    void metricsHistory()
    {
        MetricsHistory history;
        QSignalSpy changed(&history, &MetricsHistory::changed);
        const QDateTime t0 = QDateTime::currentDateTimeUtc().addSecs(-10);
        Value list = Value::fromJsonValue(QJsonArray {});
        for (int i = 0; i < 3; ++i)
            list.asArray().append(snapshot(t0.addSecs(i), {{u"a"_s, i + 1}, {u"b"_s, 10}}));
        history.replace(list);
        QCOMPARE(history.count(), 3);
        QCOMPARE(changed.size(), 1);

        // The stream starts with the newest snapshot, which the history already had.
        QVERIFY(!history.append(snapshot(t0.addSecs(2), {{u"a"_s, 99}})));
        QVERIFY(!history.append(Value(u"not a snapshot"_s)));
        QVERIFY(history.append(snapshot(t0.addSecs(3), {{u"b"_s, 11}}))); // a was idle
        QCOMPARE(history.count(), 4);

        const QList<QPointF> a = history.series(u"a"_s, MetricsHistory::Connections);
        QCOMPARE(a.size(), 4);
        QCOMPARE(a.at(0).y(), 1.0);
        QCOMPARE(a.at(2).y(), 3.0);
        QCOMPARE(a.at(3).y(), 0.0);
        QCOMPARE(a.at(1).x() - a.at(0).x(), 1000.0);
        const QList<QPointF> all = history.series({}, MetricsHistory::Connections);
        QCOMPARE(all.at(0).y(), 11.0); // both tenants summed
        QCOMPARE(all.at(3).y(), 11.0);
        QCOMPARE(history.series(u"a"_s, MetricsHistory::MessagesIn).at(1).y(), 3.0);

        // 15 minutes at most.
        for (int i = 4; i < MetricsHistory::Capacity + 20; ++i)
            QVERIFY(history.append(snapshot(t0.addSecs(i), {{u"a"_s, 1}})));
        QCOMPARE(history.count(), MetricsHistory::Capacity);
        QCOMPARE(history.first(), t0.addSecs(20));
        QCOMPARE(MetricsHistory::metricFromName(u"messagesOut"),
                 std::optional(MetricsHistory::MessagesOut));
        QVERIFY(!MetricsHistory::metricFromName(u"nonsense"));
    }

    void lineChartScale()
    {
        MetricsHistory history;
        LineChart chart;
        chart.setHistory(&history);
        chart.setMetrics({u"connections"_s, u"messagesIn"_s});
        QCOMPARE(chart.maximum(), 1.0); // nothing yet: a scale of 1
        const QDateTime t0 = QDateTime::currentDateTimeUtc();
        history.append(snapshot(t0, {{u"a"_s, 2}}));
        history.append(snapshot(t0.addSecs(1), {{u"a"_s, 130}}));
        QCOMPARE(chart.maximum(), 200.0); // 130 connections, 195 in: rounded up to 200
        QCOMPARE(chart.latest(), (QList<double> {130.0, 195.0}));
        chart.setTenant(u"other"_s);
        QCOMPARE(chart.latest(), (QList<double> {0.0, 0.0}));
        QCOMPARE(chart.maximum(), 1.0);
    }

    // --- against the server ----------------------------------------------------------------

    void adminSeesOnlyItsTenant()
    {
        auto bob = connectUser(m_server->port(), "bob", "adm-one");
        auto eve = connectUser(m_server->port(), "eve", "adm-other");
        QVERIFY(bob && eve);

        auto c = openConsole("ann", "adm-one", {"Admin"});
        AdminConsole &admin = *c->admin;
        QAbstractItemModelTester tenantsTester(
            admin.tenants(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester connectionsTester(
            admin.connections(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(admin.allTenants(), false);
        QCOMPARE(admin.selectedTenant(), u"adm-one"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);

        // Snapshots: exactly the own tenant, with bob and the admin's own dashboard.
        QTRY_COMPARE_WITH_TIMEOUT(field(*admin.tenants(), u"adm-one"_s, u"connections"_s).toInt(),
                                  2, 10'000);
        QCOMPARE(keys(*admin.tenants()), QStringList {u"adm-one"_s});
        QCOMPARE(admin.nodes()->count(), 0); // the servers are the Operators' business
        QVERIFY(!admin.health().value(u"version"_s).toString().isEmpty());
        QCOMPARE(admin.health().value(u"storageOk"_s).toBool(), true);
        QTRY_VERIFY_WITH_TIMEOUT(admin.history()->count() >= 2, 10'000); // one a second

        // The drill-down: users and their connections, with transport and protocol.
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 2, 10'000);
        QCOMPARE(admin.userCount(), 2);
        const QVariantMap bobRow = rowOfConnection(*admin.connections(), bob->connectionId());
        QCOMPARE(bobRow.value(u"connectionId"_s).toString(), bob->connectionId());
        QCOMPARE(bobRow.value(u"transport"_s).toString(), u"WebSockets"_s);
        QCOMPARE(bobRow.value(u"protocol"_s).toString(), u"json"_s);
        QVERIFY(bobRow.value(u"connectedSince"_s).toDateTime().isValid());
        QVERIFY(!bobRow.value(u"remoteAddress"_s).toString().isEmpty());

        // A new connection shows up as an event and in the drill-down, without a reload.
        auto bob2 = connectUser(m_server->port(), "bob", "adm-one");
        QVERIFY(bob2);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 3, 10'000);
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(admin.events()->records().cbegin(),
                                             admin.events()->records().cend(),
                                             [&](const RecordListModel::Record &e) {
                                                 return e.value(2) == u"connectionOpened"_s
                                                     && e.value(6) == bob2->connectionId();
                                             }),
                                 10'000);
        // Nothing of the other tenant, ever.
        for (const RecordListModel::Record &e : admin.events()->records())
            QCOMPARE(e.value(3).toString(), u"adm-one"_s);

        // The Admin cannot look elsewhere: the server refuses, the console says so.
        admin.setSelectedTenant(u"adm-other"_s);
        QTRY_VERIFY_WITH_TIMEOUT(!admin.detailsError().isEmpty(), 10'000);
        QVERIFY2(admin.detailsError().contains(u"unauthorized"_s),
                 qPrintable(admin.detailsError()));
        QCOMPARE(admin.connections()->count(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!admin.auditError().isEmpty(), 10'000);
    }

    void actionsReachTheirTargetsAndAreAudited()
    {
        auto bob = connectUser(m_server->port(), "bob", "adm-act");
        QVERIFY(bob);
        QList<QString> alertTexts;
        QList<QString> notificationTitles;
        bob->on("ReceiveSystemAlert", bob.get(), [&](const ValueList &args) {
            alertTexts.append(args.value(0)["message"].toString());
        });
        bob->on("ReceiveNotification", bob.get(), [&](const ValueList &args) {
            notificationTitles.append(args.value(0)["title"].toString());
        });

        auto c = openConsole("ann", "adm-act", {"Admin"});
        AdminConsole &admin = *c->admin;
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);
        QSignalSpy finished(&admin, &AdminConsole::actionFinished);

        admin.broadcastAlert(u"adm-act"_s, u"Maintenance at noon"_s);
        QCOMPARE(admin.pendingActions(), 1);
        QVERIFY(finished.wait(10'000));
        QCOMPARE(finished.last().at(0).toString(), u"broadcastAlert"_s);
        QVERIFY2(finished.last().at(1).toBool(), qPrintable(finished.last().at(2).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(alertTexts, QList<QString> {u"Maintenance at noon"_s}, 10'000);

        admin.sendNotification(u"adm-act"_s, u"bob"_s, u"Hello from the admin"_s, u"text"_s,
                               u"info"_s);
        QVERIFY(finished.wait(10'000));
        QVERIFY2(finished.last().at(1).toBool(), qPrintable(finished.last().at(2).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(notificationTitles, QList<QString> {u"Hello from the admin"_s},
                                  10'000);

        // Each action is in the tenant's audit log, live, newest first.
        QTRY_VERIFY_WITH_TIMEOUT(admin.auditLog()->count() >= 2, 10'000);
        QCOMPARE(admin.auditLog()->get(0).value(u"auditAction"_s).toString(),
                 u"admin.SendNotification"_s);
        QCOMPARE(admin.auditLog()->get(1).value(u"auditAction"_s).toString(),
                 u"admin.BroadcastAlert"_s);
        QCOMPARE(admin.auditLog()->get(0).value(u"actor"_s).toString(), u"ann"_s);

        // An unknown connection: the server's error, nothing done.
        admin.disconnectConnection(u"adm-act"_s, u"no-such-connection"_s);
        QVERIFY(finished.wait(10'000));
        QCOMPARE(finished.last().at(1).toBool(), false);
        QVERIFY2(finished.last().at(2).toString().contains(u"has no connection"_s),
                 qPrintable(finished.last().at(2).toString()));

        // Another tenant: refused by the server.
        admin.broadcastAlert(u"adm-other"_s, u"not mine"_s);
        QVERIFY(finished.wait(10'000));
        QCOMPARE(finished.last().at(1).toBool(), false);

        // Disconnect bob: his connection ends and does not come back by itself.
        QSignalSpy bobDisconnected(bob.get(), &HubConnection::disconnected);
        admin.disconnectConnection(u"adm-act"_s, bob->connectionId());
        QVERIFY(finished.wait(10'000));
        QVERIFY2(finished.last().at(1).toBool(), qPrintable(finished.last().at(2).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(bobDisconnected.size(), 1, 10'000);
        QCOMPARE(bob->state(), HubConnection::State::Disconnected);
        QVERIFY(bob->errorString().contains(u"closed by an administrator"_s));
        QTRY_COMPARE_WITH_TIMEOUT(admin.auditLog()->get(0).value(u"auditAction"_s).toString(),
                                  u"admin.DisconnectConnection"_s, 10'000);
        QCOMPARE(admin.pendingActions(), 0);
    }

    void operatorSeesEveryTenant()
    {
        auto carl = connectUser(m_server->port(), "carl", "op-a");
        auto dina = connectUser(m_server->port(), "dina", "op-b");
        QVERIFY(carl && dina);
        auto c = openConsole("olga", "op-home", {"Operator"});
        AdminConsole &admin = *c->admin;
        QVERIFY(admin.allTenants());
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);
        QTRY_VERIFY_WITH_TIMEOUT(admin.tenants()->indexOfKey(u"op-a"_s) >= 0
                                     && admin.tenants()->indexOfKey(u"op-b"_s) >= 0,
                                 10'000);
        // Until one is chosen, the first live tenant is selected.
        QVERIFY(!admin.selectedTenant().isEmpty());

        // A single server: one node, itself, named by the host, with every connection.
        QCOMPARE(admin.nodes()->count(), 1);
        const QVariantMap node = admin.nodes()->get(0);
        QCOMPARE(node.value(u"name"_s).toString(), QSysInfo::machineHostName());
        QCOMPARE(node.value(u"self"_s).toBool(), true);
        QCOMPARE(node.value(u"healthy"_s).toBool(), true);
        QVERIFY(node.value(u"connections"_s).toInt() >= 3); // carl, dina and olga's console
        QVERIFY(node.value(u"uptimeSeconds"_s).toLongLong() >= 0);

        admin.setSelectedTenant(u"op-b"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 1, 10'000);
        QCOMPARE(admin.connections()->get(0).value(u"userId"_s).toString(), u"dina"_s);
        admin.setSelectedTenant(u"op-a"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 1, 10'000);
        QCOMPARE(admin.connections()->get(0).value(u"userId"_s).toString(), u"carl"_s);
        QVERIFY(admin.detailsError().isEmpty());

        // Signed out: nothing of the server is left.
        c->session->signOut();
        QCOMPARE(admin.nodes()->count(), 0);
    }

    // The view binds to allTenants: it follows the roles of a sign-in that comes after the
    // session was set (the tenant picker and the nodes are the Operator's).
    void allTenantsFollowsTheSignIn()
    {
        Console c;
        c.session->auth()->setKeychainEnabled(false);
        c.session->setDesktopNotifications(false);
        c.admin->setSession(c.session.get());
        QSignalSpy changed(c.admin.get(), &AdminConsole::allTenantsChanged);
        QCOMPARE(c.admin->allTenants(), false);
        c.session->signInWithToken(baseUrl(m_server->port()),
                                   token("olga", "op-late", {"Operator"}));
        QVERIFY(changed.size() >= 1);
        QCOMPARE(c.admin->allTenants(), true);
        QTRY_COMPARE_WITH_TIMEOUT(c.admin->nodes()->count(), 1, 15'000);
        changed.clear();
        c.session->signInWithToken(baseUrl(m_server->port()), token("ann", "op-late", {"Admin"}));
        QVERIFY(changed.size() >= 1);
        QCOMPARE(c.admin->allTenants(), false);
        QCOMPARE(c.admin->nodes()->count(), 0);
    }

    // Two servers on one redis-server (docs/cluster.md): an Operator's console on either
    // lists both, sorted by name, the one it is connected to as `self`; each node's
    // connections come from its heartbeat; a stopped node leaves the list.
    void operatorSeesEveryNodeOfACluster()
    {
        RedisServer redis;
        QVERIFY(redis.start());
        const auto startNode = [&](const QByteArray &name) {
            return startServer(0, [&](Server::ServeOptions &o) {
                o.redis = redis.url();
                o.nodeName = name;
            });
        };
        auto a = startNode("desk-node-a");
        auto b = startNode("desk-node-b");
        QVERIFY(a && b);
        auto c = openConsoleWithToken(token("olga", "cl-home", {"Operator"}), b->port());
        AdminConsole &admin = *c->admin;
        QAbstractItemModelTester tester(admin.nodes(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);
        QTRY_COMPARE_WITH_TIMEOUT(keys(*admin.nodes()),
                                  (QStringList {u"desk-node-a"_s, u"desk-node-b"_s}), 10'000);
        QCOMPARE(field(*admin.nodes(), u"desk-node-a"_s, u"self"_s).toBool(), false);
        QCOMPARE(field(*admin.nodes(), u"desk-node-b"_s, u"self"_s).toBool(), true);
        // A node's first heartbeat may come before its Redis subscriber is up (not healthy).
        QTRY_VERIFY_WITH_TIMEOUT(
            field(*admin.nodes(), u"desk-node-a"_s, u"healthy"_s).toBool()
                && field(*admin.nodes(), u"desk-node-b"_s, u"healthy"_s).toBool(),
            10'000);

        // Two users on a: its heartbeat says so.
        auto pia = connectUser(a->port(), "pia", "cl-one");
        auto rex = connectUser(a->port(), "rex", "cl-two");
        QVERIFY(pia && rex);
        QTRY_COMPARE_WITH_TIMEOUT(field(*admin.nodes(), u"desk-node-a"_s, u"connections"_s).toInt(),
                                  2, 10'000);
        QVERIFY(field(*admin.nodes(), u"desk-node-b"_s, u"connections"_s).toInt() >= 1);

        // a stops: within seconds only b is left.
        pia.reset();
        rex.reset();
        a.reset();
        QTRY_COMPARE_WITH_TIMEOUT(keys(*admin.nodes()), QStringList {u"desk-node-b"_s}, 15'000);
    }

    // Two tenants with the same user ids: each tenant's rows are its own connections, grouped
    // by user, and only the first row of each user carries the heading (firstOfUser).
    void drillDownGroupsTheSelectedTenantsUsers()
    {
        auto samA1 = connectUser(m_server->port(), "sam", "grp-a");
        auto samA2 = connectUser(m_server->port(), "sam", "grp-a");
        auto leeA = connectUser(m_server->port(), "lee", "grp-a");
        auto samB = connectUser(m_server->port(), "sam", "grp-b");
        QVERIFY(samA1 && samA2 && leeA && samB);
        auto c = openConsole("olga", "grp-home", {"Operator"});
        AdminConsole &admin = *c->admin;
        QAbstractItemModelTester tester(admin.connections(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);

        const auto column = [&](const QString &role) {
            QStringList out;
            for (int r = 0; r < admin.connections()->count(); ++r)
                out.append(admin.connections()->get(r).value(role).toString());
            return out;
        };
        admin.setSelectedTenant(u"grp-a"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 3, 10'000);
        QCOMPARE(column(u"userId"_s), (QStringList {u"lee"_s, u"sam"_s, u"sam"_s}));
        QCOMPARE(column(u"firstOfUser"_s), (QStringList {u"true"_s, u"true"_s, u"false"_s}));

        admin.setSelectedTenant(u"grp-b"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 1, 10'000);
        QCOMPARE(column(u"connectionId"_s), QStringList {samB->connectionId()});
        QCOMPARE(column(u"firstOfUser"_s), QStringList {u"true"_s});

        // Lee leaves a: the remaining first row of a user becomes the heading.
        admin.setSelectedTenant(u"grp-a"_s);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 3, 10'000);
        leeA->stop();
        QTRY_COMPARE_WITH_TIMEOUT(leeA->state(), HubConnection::State::Disconnected, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 2, 10'000);
        QCOMPARE(column(u"firstOfUser"_s), (QStringList {u"true"_s, u"false"_s}));
        QVERIFY(column(u"connectionId"_s).contains(samA1->connectionId()));
        QVERIFY(column(u"connectionId"_s).contains(samA2->connectionId()));
    }

    // Issue 14, bug 4: states are logged as words ("status: signed in"), not as C++ enum
    // names ("Heliograph::Desktop::Session::SignedIn").
    void logsReadableStateNames()
    {
        static QStringList lines;
        static QtMessageHandler previous = nullptr;
        lines.clear();
        previous = qInstallMessageHandler(
            [](QtMsgType type, const QMessageLogContext &context, const QString &message) {
                if (context.category && QByteArrayView(context.category).startsWith("heliograph"))
                    lines.append(message);
                previous(type, context, message);
            });
        const auto restore = qScopeGuard([] { qInstallMessageHandler(previous); });
        QCOMPARE(readableName(Session::SignedIn), u"signed in"_s);
        QCOMPARE(readableName(AdminConsole::Live), u"live"_s);

        auto c = openConsole("lena", "log-one", {"Admin"});
        QTRY_COMPARE_WITH_TIMEOUT(c->admin->state(), AdminConsole::Live, 15'000);
        c->session->signOut();
        QCOMPARE(c->admin->state(), AdminConsole::Inactive);
        QVERIFY2(lines.contains(u"status: signed in"_s), qPrintable(lines.join(u'\n')));
        QVERIFY2(lines.contains(u"status: signed out"_s), qPrintable(lines.join(u'\n')));
        QVERIFY2(lines.contains(u"admin console: live"_s), qPrintable(lines.join(u'\n')));
        QVERIFY2(lines.contains(u"admin console: inactive"_s), qPrintable(lines.join(u'\n')));
        for (const QString &line : std::as_const(lines))
            QVERIFY2(!line.contains(u"Desktop::"_s), qPrintable(line));
    }

    void resubscribesAfterServerRestart()
    {
        auto server = startDesktopServer();
        QVERIFY(server);
        const quint16 port = server->port();
        auto c = openConsoleWithToken(token("ann", "adm-restart", {"Admin"}), port);
        AdminConsole &admin = *c->admin;
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 15'000);
        QTRY_COMPARE_WITH_TIMEOUT(
            field(*admin.tenants(), u"adm-restart"_s, u"connections"_s).toInt(), 1, 10'000);
        QTRY_VERIFY_WITH_TIMEOUT(admin.history()->count() >= 2, 10'000);

        server.reset();
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Reconnecting, 10'000);
        const QDateTime restartedAt = QDateTime::currentDateTimeUtc();
        server = startDesktopServer(std::chrono::seconds(900), port);
        QVERIFY(server);

        // A new connection: the streams and the history start again from the new server.
        QTRY_COMPARE_WITH_TIMEOUT(admin.state(), AdminConsole::Live, 30'000);
        QTRY_COMPARE_WITH_TIMEOUT(
            field(*admin.tenants(), u"adm-restart"_s, u"connections"_s).toInt(), 1, 30'000);
        // The old server's points are gone at once, not when GetHistory answers.
        QTRY_VERIFY_WITH_TIMEOUT(admin.history()->count() >= 1, 10'000);
        QVERIFY2(admin.history()->first() >= restartedAt.addSecs(-1),
                 qPrintable(admin.history()->first().toString(Qt::ISODateWithMs) + u" < "_s
                            + restartedAt.toString(Qt::ISODateWithMs)));
        const int points = admin.history()->count();
        QTRY_VERIFY_WITH_TIMEOUT(admin.history()->count() > points, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(admin.connections()->count(), 1, 10'000);
    }

    void refusalsAreReportedNotRetried()
    {
        // A Viewer: no console at all.
        auto viewer = openConsole("vera", "adm-one", {"Viewer"});
        QCOMPARE(viewer->admin->state(), AdminConsole::Inactive);
        QVERIFY(viewer->admin->connection() == nullptr);

        // A token the server does not accept (bad signature) but that says Admin: the hub
        // answers 401 and the console shows why, without retrying.
        QString forged = token("mallory", "adm-one", {"Admin"});
        forged.chop(4);
        forged += u"AAAA"_s;
        auto c = openConsoleWithToken(forged, m_server->port());
        QTRY_COMPARE_WITH_TIMEOUT(c->admin->state(), AdminConsole::Refused, 15'000);
        QVERIFY(!c->admin->errorString().isEmpty());

        // Signing out ends the console.
        auto ok = openConsole("ann", "adm-one", {"Admin"});
        QTRY_COMPARE_WITH_TIMEOUT(ok->admin->state(), AdminConsole::Live, 15'000);
        ok->session->signOut();
        QCOMPARE(ok->admin->state(), AdminConsole::Inactive);
        QCOMPARE(ok->admin->tenants()->count(), 0);
    }
};

QTEST_MAIN(tst_AdminConsole)
#include "tst_adminconsole.moc"
