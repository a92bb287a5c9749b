// SPDX-License-Identifier: MIT
// The admin hub (/hubs/admin) end to end: the real heliograph-server in-process, Heliograph
// Client connections to the notification hub as the tenants' users, and to the admin hub as
// an Admin of one tenant or an Operator. Roles and tenant scope, live counts and rates, the
// drill-down, history, events, and each action with its audit entry.
#include "admin/adminhub.h"
#include "clienttestsupport.h"
#include "notifications/notificationhub.h"

#include <heliograph/client/heliographclient_version.h>
#include <heliograph/client/hubconnection.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using Server::AdminEventDto;
using Server::AdminHub;
using Server::AuditEventDto;
using Server::MetricsSnapshotDto;
using Server::TenantDetailsDto;
using Server::TenantMetricsDto;
using Transport = HubConnection::Transport;
using HubProtocolKind = HubConnection::Protocol;

namespace {

/// A user of the notification hub, with what it received.
struct Member {
    std::unique_ptr<HubConnection> connection;
    QString serverId; ///< from ConnectionAcknowledged
    QList<ValueList> alerts;
    QList<ValueList> notifications;
};

/// An admin console: the metrics and event streams it subscribed to, and what they brought.
struct Console {
    std::unique_ptr<HubConnection> connection;
    QList<MetricsSnapshotDto> snapshots;
    QList<AdminEventDto> events;
    QList<AuditEventDto> audit;

    std::optional<TenantMetricsDto> tenant(const QString &name) const
    {
        if (snapshots.isEmpty())
            return std::nullopt;
        for (const TenantMetricsDto &t : snapshots.last().tenants)
            if (t.tenant == name)
                return t;
        return std::nullopt;
    }
    QStringList tenants() const
    {
        QStringList out;
        if (!snapshots.isEmpty())
            for (const TenantMetricsDto &t : snapshots.last().tenants)
                out.append(t.tenant);
        return out;
    }
    bool sawEvent(const QString &kind, const QString &user) const
    {
        for (const AdminEventDto &e : events)
            if (e.kind == kind && e.userId == user)
                return true;
        return false;
    }
    bool sawTenant(const QString &tenant) const
    {
        for (const AdminEventDto &e : events)
            if (e.tenant == tenant)
                return true;
        return false;
    }
};

struct RawResponse {
    int status = 0; ///< 0: no complete head in time
    QByteArray head;
    QByteArray body;
};

/// One request on its own TCP connection, answered when the head (and a body of the stated
/// Content-Length) has arrived or the server has closed. A plain QTcpSocket, not
/// QNetworkAccessManager: runs under ThreadSanitizer too, and sends WebSocket upgrades.
RawResponse rawRequest(quint16 port, const QByteArray &method, const QByteArray &target,
                       const QString &accessToken, const QByteArray &extraHeaders = {})
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!accessToken.isEmpty())
        request += "Authorization: Bearer " + accessToken.toUtf8() + "\r\n";
    request += extraHeaders + "Content-Length: 0\r\n\r\n";
    socket.write(request);
    RawResponse r;
    QByteArray buffer;
    auto complete = [&] {
        buffer += socket.readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0 || !buffer.startsWith("HTTP/1.1 "))
            return false;
        r.head = buffer.left(end + 2);
        r.status = buffer.mid(9, 3).toInt();
        qsizetype length = 0;
        for (const QByteArray &line : r.head.split('\n'))
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        r.body = buffer.mid(end + 4, length);
        return buffer.size() >= end + 4 + length;
    };
    const bool done = QTest::qWaitFor(
        [&] { return complete() || socket.state() == QAbstractSocket::UnconnectedState; }, 10000);
    Q_UNUSED(done); // the status says what happened
    complete();
    socket.abort();
    return r;
}

QByteArray webSocketUpgrade()
{
    return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
}

QString unauthorized(const char *method)
{
    return u"error: Failed to invoke '%1' because user is unauthorized"_s.arg(
        QString::fromLatin1(method));
}

Value str(const QString &s)
{
    return Value(s);
}

} // namespace

class tst_AdminHub : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;

    QUrl url(const QString &path, bool negotiate) const
    {
        return QUrl(u"%1://127.0.0.1:%2%3"_s.arg(negotiate ? u"http"_s : u"ws"_s)
                        .arg(m_server->port())
                        .arg(path));
    }

    std::unique_ptr<HubConnection> open(const QString &path, const QString &accessToken,
                                        Transport transport = Transport::WebSockets,
                                        HubProtocolKind protocol = HubProtocolKind::Json,
                                        bool negotiate = false)
    {
        // Without negotiate (WebSockets only) where possible: no QNetworkAccessManager thread,
        // so these tests also run under ThreadSanitizer.
        auto c = std::make_unique<HubConnection>(url(path, negotiate));
        c->setTransports(transport);
        c->setProtocol(protocol);
        c->setSkipNegotiationEnabled(!negotiate);
        c->setAccessTokenProvider([accessToken] { return readyToken(accessToken); });
        return c;
    }

    std::unique_ptr<Member> join(const QByteArray &tenant, const QByteArray &user,
                                 Transport transport = Transport::WebSockets,
                                 HubProtocolKind protocol = HubProtocolKind::Json,
                                 bool negotiate = false, const QString &query = {})
    {
        auto m = std::make_unique<Member>();
        m->connection = open(u"/hubs/notifications"_s + query, token(user, tenant), transport,
                             protocol, negotiate);
        Member *raw = m.get();
        m->connection->on("ConnectionAcknowledged",
                          [raw](const ValueList &a) { raw->serverId = a.value(0).toString(); });
        m->connection->on("ReceiveSystemAlert",
                          [raw](const ValueList &a) { raw->alerts.append(a); });
        m->connection->on("ReceiveNotification",
                          [raw](const ValueList &a) { raw->notifications.append(a); });
        m->connection->on("UserJoined", [](const ValueList &) {});
        m->connection->on("UserLeft", [](const ValueList &) {});
        if (!connectNow(*m->connection))
            return nullptr;
        if (!QTest::qWaitFor([raw] { return !raw->serverId.isEmpty(); }, 10000))
            return nullptr;
        return m;
    }

    std::unique_ptr<Console> console(const QByteArray &user, const QByteArray &tenant,
                                     const QByteArray &role, bool streams = true)
    {
        auto c = std::make_unique<Console>();
        c->connection = open(u"/hubs/admin"_s, token(user, tenant, {role}));
        if (!connectNow(*c->connection))
            return nullptr;
        if (!streams)
            return c;
        Console *raw = c.get();
        HubStream *metrics = c->connection->stream("StreamMetrics");
        connect(metrics, &HubStream::item, c->connection.get(), [raw](const Value &v) {
            auto s = fromValue<MetricsSnapshotDto>(v);
            QVERIFY2(s.has_value(), qPrintable(s ? QString() : s.error().message));
            raw->snapshots.append(*s);
        });
        HubStream *events = c->connection->stream("StreamEvents");
        connect(events, &HubStream::item, c->connection.get(), [raw](const Value &v) {
            auto e = fromValue<AdminEventDto>(v);
            QVERIFY(e.has_value());
            raw->events.append(*e);
        });
        // The first snapshot comes at once: both streams are registered after it.
        if (!QTest::qWaitFor([raw] { return !raw->snapshots.isEmpty(); }, 10000))
            return nullptr;
        // A round trip: StreamEvents was invoked before this call, so it is subscribed.
        if (call(*c->connection, "GetHistory").isString())
            return nullptr;
        return c;
    }

    /// Subscribes `c` to the audit log of `tenant` from an hour ago.
    void streamAudit(Console &c, const QString &tenant)
    {
        Console *raw = &c;
        HubStream *s = c.connection->stream(
            "StreamAuditLog", {str(tenant), Value(QDateTime::currentDateTimeUtc().addSecs(-3600))});
        connect(s, &HubStream::item, c.connection.get(), [raw](const Value &v) {
            auto e = fromValue<AuditEventDto>(v);
            QVERIFY(e.has_value());
            raw->audit.append(*e);
        });
    }

private Q_SLOTS:
    void init()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }

    void cleanup() { m_server.reset(); }

    void refusesOtherRoles_data()
    {
        QTest::addColumn<QList<QByteArray>>("roles");
        QTest::newRow("viewer") << QList<QByteArray> {"Viewer"};
        QTest::newRow("editor") << QList<QByteArray> {"Editor"};
        QTest::newRow("no role") << QList<QByteArray> {};
    }

    void refusesOtherRoles()
    {
        // Without negotiate: the WebSocket upgrade itself is refused (403), before any hub
        // connection exists, and the client gives up at once.
        QFETCH(QList<QByteArray>, roles);
        const QString mallory = token("mallory", "acme", roles);
        auto c = open(u"/hubs/admin"_s, mallory);
        auto policy = std::make_shared<FixedRetryPolicy>(50ms);
        c->setRetryPolicy(policy);
        QSignalSpy disconnected(c.get(), &HubConnection::disconnected);
        c->start();
        QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 10000);
        QCOMPARE(c->state(), HubConnection::State::Disconnected);
        QCOMPARE(c->error(), HubConnection::Error::Unauthorized);
        QVERIFY2(c->errorString().contains(u"403"_s), qPrintable(c->errorString()));
        QVERIFY(policy->contexts.isEmpty());

        // A raw upgrade: 403 with the reason as text; no token at all stays 401.
        const RawResponse upgrade
            = rawRequest(m_server->port(), "GET", "/hubs/admin", mallory, webSocketUpgrade());
        QCOMPARE(upgrade.status, 403);
        QCOMPARE(upgrade.body, AdminHub::refusal().toUtf8());
        QCOMPARE(rawRequest(m_server->port(), "GET", "/hubs/admin", {}, webSocketUpgrade()).status,
                 401);

        // An Admin of the same tenant, and an Operator, connect and get data.
        auto admin = console("root", "acme", "Admin");
        QVERIFY(admin);
        QCOMPARE(admin->connection->state(), HubConnection::State::Connected);
        auto op = console("ops", "hq", "Operator", false);
        QVERIFY(op);
        QCOMPARE(op->connection->state(), HubConnection::State::Connected);
    }

    void refusedAtNegotiate_data()
    {
        QTest::addColumn<QList<QByteArray>>("roles");
        QTest::addColumn<int>("status");
        QTest::newRow("viewer") << QList<QByteArray> {"Viewer"} << 403;
        QTest::newRow("editor") << QList<QByteArray> {"Editor"} << 403;
        QTest::newRow("no role") << QList<QByteArray> {} << 403;
        QTest::newRow("admin") << QList<QByteArray> {"Admin"} << 200;
        QTest::newRow("operator") << QList<QByteArray> {"Operator"} << 200;
    }

    void refusedAtNegotiate()
    {
        QFETCH(QList<QByteArray>, roles);
        QFETCH(int, status);
        const QString accessToken = token("mallory", "acme", roles);

        QNetworkAccessManager network;
        QNetworkRequest request(url(u"/hubs/admin/negotiate?negotiateVersion=1"_s, true));
        request.setRawHeader("Authorization", "Bearer " + accessToken.toUtf8());
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"text/plain"_s);
        std::unique_ptr<QNetworkReply> reply(network.post(request, QByteArray()));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        QVERIFY(finished.wait(10000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), status);
        const QByteArray body = reply->readAll();
        if (status == 403)
            QCOMPARE(body, AdminHub::refusal().toUtf8());
        else
            QVERIFY2(body.contains("connectionToken"), body.constData());

        // Heliograph Client, every transport: refused at negotiate, no transport tried.
        auto c = open(u"/hubs/admin"_s, accessToken, Transport::WebSockets, HubProtocolKind::Json,
                      true);
        c->setTransports(Transport::WebSockets | Transport::ServerSentEvents
                         | Transport::LongPolling);
        if (status == 200) {
            QVERIFY(connectNow(*c));
            QCOMPARE(call(*c, "GetHistory").isArray(), true);
            return;
        }
        QSignalSpy disconnected(c.get(), &HubConnection::disconnected);
        c->start();
        QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 10000);
        QCOMPARE(c->state(), HubConnection::State::Disconnected);
        QCOMPARE(c->error(), HubConnection::Error::Unauthorized);
        QVERIFY2(c->errorString().contains(u"Status code '403'"_s), qPrintable(c->errorString()));
    }

    void refusedOnEveryRequest()
    {
        // A connection negotiated by an Admin, then used with a token of the same user without
        // the role (its roles were changed): each request of the connection is refused. Plain
        // sockets (no QNetworkAccessManager), so this runs under ThreadSanitizer as well.
        const quint16 port = m_server->port();
        const QString admin = token("root", "acme", {"Admin"});
        const QString viewer = token("root", "acme", {"Viewer"});
        const RawResponse negotiated
            = rawRequest(port, "POST", "/hubs/admin/negotiate?negotiateVersion=1", admin);
        QCOMPARE(negotiated.status, 200);
        const QByteArray id = QJsonDocument::fromJson(negotiated.body)
                                  .object()
                                  .value(u"connectionToken"_s)
                                  .toString()
                                  .toUtf8();
        QVERIFY(!id.isEmpty());
        const QByteArray target = "/hubs/admin?id=" + id;

        auto refused = [&](const QByteArray &method, const QByteArray &headers = {}) {
            const RawResponse r = rawRequest(port, method, target, viewer, headers);
            if (r.status != 403 || r.body != AdminHub::refusal().toUtf8()) {
                qWarning("%s %s: %s%s", method.constData(), headers.constData(), r.head.constData(),
                         r.body.constData());
                return false;
            }
            return true;
        };
        // Each request that would start a transport ...
        QVERIFY(refused("GET", webSocketUpgrade()));
        QVERIFY(refused("GET", "Accept: text/event-stream\r\n"));
        QVERIFY(refused("GET"));
        // ... and, once the Admin's first poll has started long polling, each that uses it.
        QCOMPARE(rawRequest(port, "GET", target, admin).status, 200);
        QVERIFY(refused("GET"));
        QVERIFY(refused("POST"));
        QVERIFY(refused("DELETE"));
        QCOMPARE(rawRequest(port, "DELETE", target, admin).status, 202);
    }

    void scopedCounts()
    {
        auto alice1 = join("acme", "alice");
        auto alice2 = join("acme", "alice");
        auto bob = join("acme", "bob");
        auto carol = join("globex", "carol");
        QVERIFY(alice1 && alice2 && bob && carol);

        auto admin = console("root", "acme", "Admin");
        auto op = console("ops", "hq", "Operator");
        QVERIFY(admin && op);

        // The Admin of acme sees acme only, and the health of acme only.
        QTRY_VERIFY_WITH_TIMEOUT(
            admin->tenant(u"acme"_s) && admin->tenant(u"acme"_s)->connections == 3, 5000);
        QCOMPARE(admin->tenants(), QStringList {u"acme"_s});
        QCOMPARE(admin->tenant(u"acme"_s)->onlineUsers, 2);
        QCOMPARE(admin->snapshots.last().health.connections, 3);
        QVERIFY(admin->snapshots.last().health.storageOk);
        QVERIFY(admin->snapshots.last().health.rssBytes > 0);
        QCOMPARE(admin->snapshots.last().health.version,
                 QString::fromLatin1(HELIOGRAPH_CLIENT_VERSION_STRING));

        // The Operator sees both tenants (its own has no connections, so it is not listed).
        QTRY_VERIFY_WITH_TIMEOUT(op->tenants() == (QStringList {u"acme"_s, u"globex"_s}), 5000);
        QCOMPARE(op->tenant(u"acme"_s)->connections, 3);
        QCOMPARE(op->tenant(u"acme"_s)->onlineUsers, 2);
        QCOMPARE(op->tenant(u"globex"_s)->connections, 1);
        QCOMPARE(op->tenant(u"globex"_s)->onlineUsers, 1);
        QCOMPARE(op->snapshots.last().health.connections, 4);

        // Connections that close are counted out.
        bob->connection->stop();
        alice2->connection->stop();
        QTRY_VERIFY_WITH_TIMEOUT(admin->tenant(u"acme"_s)->connections == 1, 5000);
        QCOMPARE(admin->tenant(u"acme"_s)->onlineUsers, 1);
        carol->connection->stop();
        QTRY_COMPARE_WITH_TIMEOUT(op->tenants(), QStringList {u"acme"_s}, 5000);
    }

    void ratesMove()
    {
        auto alice = join("acme", "alice");
        auto carol = join("globex", "carol");
        QVERIFY(alice && carol);
        auto op = console("ops", "hq", "Operator");
        QVERIFY(op);
        // Quiet first: joining sends a few messages; wait for a second without any.
        QTRY_VERIFY_WITH_TIMEOUT(op->tenant(u"acme"_s)
                                     && op->tenant(u"acme"_s)->messagesInPerSecond == 0
                                     && op->tenant(u"acme"_s)->messagesOutPerSecond == 0,
                                 5000);
        const qsizetype before = op->snapshots.size();

        constexpr int Calls = 60;
        QList<QFuture<Value>> calls;
        for (int i = 0; i < Calls; ++i)
            calls.append(alice->connection->invoke("GetOnlineUsers"));
        for (const auto &f : calls)
            QVERIFY(settle(f));
        // Every message is in some one-second rate: wait until acme is quiet again.
        QTRY_VERIFY_WITH_TIMEOUT(op->snapshots.size() > before + 1
                                     && op->tenant(u"acme"_s)->messagesInPerSecond == 0,
                                 10000);
        double in = 0, out = 0, globexIn = 0, peak = 0;
        for (qsizetype i = before; i < op->snapshots.size(); ++i)
            for (const TenantMetricsDto &t : op->snapshots[i].tenants) {
                if (t.tenant == u"acme"_s) {
                    in += t.messagesInPerSecond;
                    out += t.messagesOutPerSecond;
                    peak = qMax(peak, t.messagesInPerSecond);
                } else if (t.tenant == u"globex"_s) {
                    globexIn += t.messagesInPerSecond + t.messagesOutPerSecond;
                }
            }
        // A rate is a count over the measured interval (about 1 s): the sum is close to the
        // count, a little under it when a tick came late.
        QVERIFY2(in > Calls * 0.8 && in <= Calls * 1.05, qPrintable(QString::number(in)));
        QVERIFY2(out > Calls * 0.8 && out <= Calls * 1.05, qPrintable(QString::number(out)));
        QVERIFY(peak > 0);
        QCOMPARE(globexIn, 0.0);
    }

    void drillDown_data() { addTransportProtocolRows(); }

    void drillDown()
    {
        QFETCH(HubConnection::Transport, transport);
        QFETCH(HubConnection::Protocol, protocol);
        auto alice = join("acme", "alice", transport, protocol, true);
        auto bob = join("acme", "bob");
        auto carol = join("globex", "carol");
        QVERIFY(alice && bob && carol);
        QCOMPARE(call(*alice->connection, "JoinDocument", {Value("d1")}), Value(0));
        QCOMPARE(call(*bob->connection, "JoinDocument", {Value("d1")}), Value(0));
        QCOMPARE(call(*bob->connection, "JoinDocument", {Value("d2")}), Value(0));

        auto admin = console("root", "acme", "Admin", false);
        QVERIFY(admin);
        const Value v = call(*admin->connection, "GetTenantDetails", {Value("acme")});
        auto details = fromValue<TenantDetailsDto>(v);
        QVERIFY2(details, qPrintable(v.toString()));
        QCOMPARE(details->tenant, u"acme"_s);
        QCOMPARE(details->users.size(), 2);
        const Server::AdminUserDto &a = details->users[0];
        QCOMPARE(a.userId, u"alice"_s);
        QCOMPARE(a.connections.size(), 1);
        const Server::AdminConnectionDto &ac = a.connections[0];
        QCOMPARE(ac.connectionId, alice->serverId);
        QCOMPARE(ac.connectionId, alice->connection->connectionId()); // negotiated
        QCOMPARE(ac.hub, u"/hubs/notifications"_s);
        const QString transportName = transport == Transport::WebSockets ? u"WebSockets"_s
            : transport == Transport::ServerSentEvents                   ? u"ServerSentEvents"_s
                                                                         : u"LongPolling"_s;
        QCOMPARE(ac.transport, transportName);
        QCOMPARE(ac.protocol, protocol == HubProtocolKind::Json ? u"json"_s : u"messagepack"_s);
        QVERIFY2(ac.client.startsWith(u"Heliograph/"_s), qPrintable(ac.client));
        QCOMPARE(ac.remoteAddress, u"127.0.0.1"_s);
        QVERIFY(qAbs(ac.connectedSince.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        QCOMPARE(details->users[1].userId, u"bob"_s);
        QCOMPARE(details->users[1].connections.first().transport, u"WebSockets"_s);
        QCOMPARE(details->users[1].connections.first().connectionId, bob->serverId);

        QList<std::pair<QString, int>> groups;
        for (const Server::AdminGroupDto &g : details->groups)
            groups.append({g.name, g.members});
        const QList<std::pair<QString, int>> expected {{u"doc:acme:d1"_s, 2},
                                                       {u"doc:acme:d2"_s, 1},
                                                       {u"tenant:acme"_s, 2},
                                                       {u"user:acme/alice"_s, 1},
                                                       {u"user:acme/bob"_s, 1}};
        QCOMPARE(groups, expected);
        QCOMPARE(details->activeDocuments, 2);

        // Leaving a document shows at once.
        QCOMPARE(call(*bob->connection, "LeaveDocument", {Value("d2")}), Value());
        auto after = fromValue<TenantDetailsDto>(
            call(*admin->connection, "GetTenantDetails", {Value("acme")}));
        QVERIFY(after);
        QCOMPARE(after->activeDocuments, 1);
    }

    void activeDocumentsInMetrics()
    {
        auto alice = join("acme", "alice");
        QVERIFY(alice);
        auto admin = console("root", "acme", "Admin");
        QVERIFY(admin);
        QTRY_COMPARE_WITH_TIMEOUT(admin->tenant(u"acme"_s)->activeDocuments, 0, 5000);
        QCOMPARE(call(*alice->connection, "JoinDocument", {Value("d1")}), Value(0));
        QCOMPARE(call(*alice->connection, "JoinDocument", {Value("d2")}), Value(0));
        QTRY_COMPARE_WITH_TIMEOUT(admin->tenant(u"acme"_s)->activeDocuments, 2, 5000);
        alice->connection->stop();
        QTRY_COMPARE_WITH_TIMEOUT(admin->tenant(u"acme"_s)->activeDocuments, 0, 5000);
    }

    void history()
    {
        auto alice = join("acme", "alice");
        auto carol = join("globex", "carol");
        QVERIFY(alice && carol);
        auto admin = console("root", "acme", "Admin", false);
        auto op = console("ops", "hq", "Operator", false);
        QVERIFY(admin && op);
        QList<MetricsSnapshotDto> points;
        auto fetch = [&] {
            auto h = fromValue<QList<MetricsSnapshotDto>>(call(*op->connection, "GetHistory"));
            points = h ? *h : QList<MetricsSnapshotDto> {};
            return points.size() >= 3 && points.last().tenants.size() == 2;
        };
        QTRY_VERIFY_WITH_TIMEOUT(fetch(), 10000);
        for (qsizetype i = 1; i < points.size(); ++i)
            QVERIFY(points[i - 1].at < points[i].at);
        QVERIFY(points.size() <= Server::AdminMonitor::HistoryPoints);

        auto scoped = fromValue<QList<MetricsSnapshotDto>>(call(*admin->connection, "GetHistory"));
        QVERIFY(scoped);
        QVERIFY(scoped->size() >= points.size());
        for (const MetricsSnapshotDto &p : *scoped) {
            QCOMPARE(p.tenants.size(), 1);
            QCOMPARE(p.tenants.first().tenant, u"acme"_s);
        }
        QCOMPARE(scoped->last().tenants.first().connections, 1);
    }

    void events()
    {
        auto admin = console("root", "acme", "Admin");
        auto op = console("ops", "hq", "Operator");
        QVERIFY(admin && op);
        auto dave = join("acme", "dave");
        auto erin = join("globex", "erin");
        QVERIFY(dave && erin);
        QTRY_VERIFY_WITH_TIMEOUT(admin->sawEvent(u"connectionOpened"_s, u"dave"_s)
                                     && admin->sawEvent(u"userJoined"_s, u"dave"_s),
                                 5000);
        QTRY_VERIFY_WITH_TIMEOUT(op->sawEvent(u"userJoined"_s, u"erin"_s), 5000);
        QVERIFY(op->sawEvent(u"userJoined"_s, u"dave"_s));
        const AdminEventDto &opened = [&]() -> const AdminEventDto & {
            for (const AdminEventDto &e : admin->events)
                if (e.kind == u"connectionOpened"_s)
                    return e;
            return admin->events.first();
        }();
        QCOMPARE(opened.connectionId, dave->serverId);
        QCOMPARE(opened.tenant, u"acme"_s);
        QCOMPARE(opened.transport, u"WebSockets"_s);

        dave->connection->stop();
        erin->connection->stop();
        QTRY_VERIFY_WITH_TIMEOUT(admin->sawEvent(u"connectionClosed"_s, u"dave"_s)
                                     && admin->sawEvent(u"userLeft"_s, u"dave"_s),
                                 5000);
        QTRY_VERIFY_WITH_TIMEOUT(op->sawEvent(u"userLeft"_s, u"erin"_s), 5000);
        // The Admin of acme never saw globex: erin's events reached the Operator in the same
        // batches as dave's reached both.
        QVERIFY(!admin->sawTenant(u"globex"_s));
    }

    void broadcastAlert()
    {
        auto alice = join("acme", "alice");
        auto carol = join("globex", "carol");
        QVERIFY(alice && carol);
        auto admin = console("root", "acme", "Admin");
        QVERIFY(admin);
        streamAudit(*admin, u"acme"_s);

        const Value id = call(*admin->connection, "BroadcastAlert",
                              {Value("acme"), Value("maintenance at noon")});
        QVERIFY2(!id.isString(), qPrintable(id.toString()));
        QTRY_COMPARE_WITH_TIMEOUT(alice->alerts.size(), 1, 5000);
        auto alert = fromValue<Server::SystemAlertDto>(alice->alerts.first().value(0));
        QVERIFY(alert);
        QCOMPARE(alert->message, u"maintenance at noon"_s);
        QCOMPARE(alert->level, u"info"_s);

        QTRY_COMPARE_WITH_TIMEOUT(admin->audit.size(), 1, 5000);
        QCOMPARE(admin->audit.first().action, u"admin.BroadcastAlert"_s);
        QCOMPARE(admin->audit.first().actor, u"root"_s);
        QCOMPARE(admin->audit.first().details, u"maintenance at noon"_s);
        QTRY_VERIFY_WITH_TIMEOUT(admin->sawEvent(u"action"_s, u"root"_s), 5000);

        // globex heard nothing (a call answered after the broadcast went out).
        QCOMPARE(call(*carol->connection, "GetOnlineUsers").isArray(), true);
        QCOMPARE(carol->alerts.size(), 0);
    }

    void sendNotification()
    {
        auto alice = join("acme", "alice");
        auto bob = join("acme", "bob");
        QVERIFY(alice && bob);
        auto admin = console("root", "acme", "Admin");
        QVERIFY(admin);
        streamAudit(*admin, u"acme"_s);

        const Value v = call(
            *admin->connection, "SendNotification",
            {Value("acme"), Value("alice"), Value("Welcome"), Value("Hello"), Value("info")});
        auto sent = fromValue<Server::NotificationDto>(v);
        QVERIFY2(sent, qPrintable(v.toString()));
        QCOMPARE(sent->sequence, qint64(1));
        QTRY_COMPARE_WITH_TIMEOUT(alice->notifications.size(), 1, 5000);
        auto received = fromValue<Server::NotificationDto>(alice->notifications.first().value(0));
        QVERIFY(received);
        QCOMPARE(received->id, sent->id);
        QCOMPARE(received->title, u"Welcome"_s);
        QCOMPARE(received->body, u"Hello"_s);
        QCOMPARE(received->replayed, false);

        // Stored: a new connection asking for everything after sequence 0 gets it replayed.
        auto later = join("acme", "alice", Transport::WebSockets, HubProtocolKind::Json, false,
                          u"?lastSequence=0"_s);
        QVERIFY(later);
        QTRY_COMPARE_WITH_TIMEOUT(later->notifications.size(), 1, 5000);
        auto replayed = fromValue<Server::NotificationDto>(later->notifications.first().value(0));
        QVERIFY(replayed);
        QCOMPARE(replayed->id, sent->id);
        QCOMPARE(replayed->replayed, true);

        QTRY_COMPARE_WITH_TIMEOUT(admin->audit.size(), 1, 5000);
        QCOMPARE(admin->audit.first().action, u"admin.SendNotification"_s);
        QVERIFY2(admin->audit.first().details.contains(u"alice"_s),
                 qPrintable(admin->audit.first().details));
        QCOMPARE(bob->notifications.size(), 0);
    }

    void disconnectConnection()
    {
        auto alice = join("acme", "alice");
        auto alice2 = join("acme", "alice");
        QVERIFY(alice && alice2);
        auto policy = std::make_shared<FixedRetryPolicy>(50ms);
        alice->connection->setRetryPolicy(policy);
        QSignalSpy disconnected(alice->connection.get(), &HubConnection::disconnected);
        auto admin = console("root", "acme", "Admin");
        QVERIFY(admin);
        streamAudit(*admin, u"acme"_s);

        QCOMPARE(
            call(*admin->connection, "DisconnectConnection", {Value("acme"), str(alice->serverId)}),
            Value(true));
        QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 5000);
        QCOMPARE(alice->connection->state(), HubConnection::State::Disconnected);
        QVERIFY2(alice->connection->errorString().contains(
                     QString::fromUtf8(AdminHub::disconnectedByAdmin())),
                 qPrintable(alice->connection->errorString()));
        QVERIFY(policy->contexts.isEmpty()); // no reconnect
        QCOMPARE(alice2->connection->state(), HubConnection::State::Connected);

        QTRY_COMPARE_WITH_TIMEOUT(admin->audit.size(), 1, 5000);
        QCOMPARE(admin->audit.first().action, u"admin.DisconnectConnection"_s);
        QVERIFY(admin->audit.first().details.contains(alice->serverId));
        QTRY_VERIFY_WITH_TIMEOUT(admin->sawEvent(u"connectionClosed"_s, u"alice"_s), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(admin->tenant(u"acme"_s)->connections, 1, 5000);

        // Gone: a second attempt names the connection as unknown.
        QTRY_VERIFY_WITH_TIMEOUT(
            call(*admin->connection, "DisconnectConnection", {Value("acme"), str(alice->serverId)})
                .toString()
                .contains(u"has no connection"_s),
            5000);
    }

    void crossTenantRefused()
    {
        auto alice = join("acme", "alice");
        auto carol = join("globex", "carol");
        QVERIFY(alice && carol);
        auto admin = console("root", "acme", "Admin", false);
        auto op = console("ops", "hq", "Operator", false);
        QVERIFY(admin && op);
        Console &a = *admin;

        QCOMPARE(call(*a.connection, "GetTenantDetails", {Value("globex")}),
                 str(unauthorized("GetTenantDetails")));
        QCOMPARE(call(*a.connection, "BroadcastAlert", {Value("globex"), Value("x")}),
                 str(unauthorized("BroadcastAlert")));
        QCOMPARE(call(*a.connection, "SendNotification",
                      {Value("globex"), Value("carol"), Value("t"), Value("b"), Value("info")}),
                 str(unauthorized("SendNotification")));
        QCOMPARE(
            call(*a.connection, "DisconnectConnection", {Value("globex"), str(carol->serverId)}),
            str(unauthorized("DisconnectConnection")));
        // acme's tenant with globex's connection: not found in acme, nothing done.
        const Value wrong
            = call(*a.connection, "DisconnectConnection", {Value("acme"), str(carol->serverId)});
        QVERIFY2(wrong.toString().contains(u"has no connection"_s), qPrintable(wrong.toString()));
        HubStream *audit = a.connection->stream(
            "StreamAuditLog", {Value("globex"), Value(QDateTime::currentDateTimeUtc())});
        QSignalSpy auditFailed(audit, &HubStream::errorOccurred);
        QTRY_COMPARE_WITH_TIMEOUT(auditFailed.size(), 1, 5000);
        QCOMPARE(auditFailed.first().first().value<HubError>().message,
                 unauthorized("StreamAuditLog").mid(7));

        // Nothing reached globex: carol is connected, without alerts or notifications ...
        QCOMPARE(call(*carol->connection, "GetOnlineUsers").isArray(), true);
        QCOMPARE(carol->connection->state(), HubConnection::State::Connected);
        QCOMPARE(carol->alerts.size(), 0);
        QCOMPARE(carol->notifications.size(), 0);
        // ... and globex's audit log starts with what the Operator does now.
        streamAudit(*op, u"globex"_s);
        QCOMPARE(call(*op->connection, "BroadcastAlert", {Value("globex"), Value("from ops")})
                     .isString(),
                 false);
        QTRY_COMPARE_WITH_TIMEOUT(carol->alerts.size(), 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(op->audit.size(), 1, 5000);
        QCOMPARE(op->audit.first().action, u"admin.BroadcastAlert"_s);
        QCOMPARE(op->audit.first().actor, u"ops"_s);
        QVERIFY(op->audit.first().details.contains(u"Operator of tenant hq"_s));
        QCOMPARE(alice->alerts.size(), 0);
    }

    // Issue 17, finding 5: a null (or empty) tenant is no tenant, never "any tenant": every
    // method that names one refuses it, and nothing is read or written anywhere.
    void nullTenantRefused()
    {
        auto carol = join("globex", "carol");
        QVERIFY(carol);
        auto admin = console("root", "acme", "Admin", false);
        auto op = console("ops", "hq", "Operator", false);
        QVERIFY(admin && op);
        for (Console *c : {admin.get(), op.get()}) {
            for (const Value &tenant : {Value(), Value("")}) {
                QCOMPARE(call(*c->connection, "GetTenantDetails", {tenant}),
                         str(unauthorized("GetTenantDetails")));
                QCOMPARE(call(*c->connection, "BroadcastAlert", {tenant, Value("x")}),
                         str(unauthorized("BroadcastAlert")));
                QCOMPARE(call(*c->connection, "SendNotification",
                              {tenant, Value("carol"), Value("t"), Value("b"), Value("info")}),
                         str(unauthorized("SendNotification")));
                QCOMPARE(
                    call(*c->connection, "DisconnectConnection", {tenant, str(carol->serverId)}),
                    str(unauthorized("DisconnectConnection")));
                HubStream *audit = c->connection->stream(
                    "StreamAuditLog", {tenant, Value(QDateTime::currentDateTimeUtc())});
                QSignalSpy auditFailed(audit, &HubStream::errorOccurred);
                QTRY_COMPARE_WITH_TIMEOUT(auditFailed.size(), 1, 5000);
                QCOMPARE(auditFailed.first().first().value<HubError>().message,
                         unauthorized("StreamAuditLog").mid(7));
            }
        }
        // Ids are normalized: an Admin of acme may name "ACME".
        QVERIFY(call(*admin->connection, "GetTenantDetails", {Value("ACME")}).isMap());
        QCOMPARE(carol->connection->state(), HubConnection::State::Connected);
        QCOMPARE(carol->alerts.size(), 0);
        QCOMPARE(carol->notifications.size(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_AdminHub)
#include "tst_adminhub.moc"
