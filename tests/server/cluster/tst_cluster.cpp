// SPDX-License-Identifier: MIT
// Nodes joined on a real redis-server (in-process, each its own ServerApp on a free port):
// sends to a user, a tenant and all reach the connections of every node exactly once; the
// channels follow the configured hub names and prefix; a malformed backplane message is
// dropped; a node started while Redis is down is not ready and refuses pushes with 503 until
// Redis comes, and a Redis restart is survived without restarting a node.
#include "clienttestsupport.h"
#include "redisserver.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/hubstream.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

namespace {

struct Response {
    int status = 0;
    QByteArray body;
    QByteArray retryAfter;
};

Response request(QNetworkAccessManager &nam, const QByteArray &verb, const QUrl &url,
                 const QString &bearer = {}, const QByteArray &body = {})
{
    QNetworkRequest r(url);
    if (!bearer.isEmpty())
        r.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());
    if (!body.isEmpty())
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    QNetworkReply *reply = nam.sendCustomRequest(r, verb, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(15'000);
    Response out {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                  reply->readAll(), reply->rawHeader("Retry-After")};
    reply->deleteLater();
    return out;
}

/// What redis-cli prints for a command (a subprocess run to its end, not a wait for time).
QByteArray redisCli(quint16 port, const QStringList &args)
{
    QProcess p;
    p.start(u"redis-cli"_s, QStringList {u"-p"_s, QString::number(port)} + args);
    if (!p.waitForFinished(10'000))
        return {};
    return p.readAllStandardOutput().trimmed();
}

/// PUBLISH of raw bytes (redis-cli -x takes the last argument from stdin, byte for byte).
void publishRaw(quint16 port, const QByteArray &channel, const QByteArray &payload)
{
    QProcess p;
    p.start(u"redis-cli"_s,
            {u"-p"_s, QString::number(port), u"-x"_s, u"PUBLISH"_s, QString::fromUtf8(channel)});
    p.write(payload);
    p.closeWriteChannel();
    p.waitForFinished(10'000);
}

/// Subscribers of `channel` on the Redis at `port`.
int subscribers(quint16 port, const QByteArray &channel)
{
    const QList<QByteArray> lines
        = redisCli(port, {u"PUBSUB"_s, u"NUMSUB"_s, QString::fromUtf8(channel)}).split('\n');
    return lines.size() == 2 ? lines[1].trimmed().toInt() : -1;
}

/// A notification-hub connection that counts what it receives.
struct Client {
    std::unique_ptr<HubConnection> hub;
    QList<QString> notifications; ///< titles
    QList<QString> joined; ///< UserJoined user ids
    QList<QString> alerts;
};

std::unique_ptr<Client> connectClient(quint16 port, const QByteArray &user,
                                      const QByteArray &tenant, QList<QByteArray> roles = {})
{
    auto c = std::make_unique<Client>();
    c->hub = std::make_unique<HubConnection>(
        QUrl(u"http://127.0.0.1:%1/hubs/notifications"_s.arg(port)));
    c->hub->setAccessTokenProvider(
        [t = token(user, tenant, std::move(roles))] { return readyToken(t); });
    Client *raw = c.get();
    c->hub->on("ReceiveNotification", c->hub.get(), [raw](const ValueList &args) {
        raw->notifications.append(args.value(0)["title"].toString());
    });
    c->hub->on("UserJoined", c->hub.get(),
               [raw](const ValueList &args) { raw->joined.append(args.value(0).toString()); });
    c->hub->on("ReceiveSystemAlert", c->hub.get(), [raw](const ValueList &args) {
        raw->alerts.append(args.value(0)["message"].toString());
    });
    c->hub->on("ConnectionAcknowledged", c->hub.get(), [](const ValueList &) {});
    c->hub->on("UserLeft", c->hub.get(), [](const ValueList &) {});
    if (!connectNow(*c->hub))
        return nullptr;
    return c;
}

const QByteArray Hub = "Heliograph.Server.NotificationHub";

} // namespace

class tst_Cluster : public QObject {
    Q_OBJECT
    RedisServer m_redis;
    QNetworkAccessManager m_nam;

    std::unique_ptr<Server::ServerApp>
    startNode(const QByteArray &name, quint16 redisPort,
              const std::function<void(Server::ServeOptions &)> &tweak = {})
    {
        return startServer(0, [&](Server::ServeOptions &o) {
            o.redis = u"redis://127.0.0.1:%1"_s.arg(redisPort);
            o.nodeName = name;
            if (tweak)
                tweak(o);
        });
    }
    Response get(quint16 port, const char *path)
    {
        return request(m_nam, "GET",
                       QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(QLatin1StringView(path))));
    }
    Response push(quint16 port, const QByteArray &tenant, const QByteArray &user,
                  const QString &title)
    {
        return request(
            m_nam, "POST",
            QUrl(u"http://127.0.0.1:%1/api/tenants/%2/users/%3/notifications"_s.arg(port).arg(
                QString::fromUtf8(tenant), QString::fromUtf8(user))),
            token("pusher", "ops", {"Service"}),
            QJsonDocument(QJsonObject {{u"title"_s, title}}).toJson());
    }
    bool ready(quint16 port) { return get(port, "/ready").status == 200; }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_redis.start()); }

    void sendsReachEveryNodeOnce()
    {
        auto a = startNode("node-a", m_redis.port());
        auto b = startNode("node-b", m_redis.port());
        QVERIFY(a && b);
        QTRY_VERIFY_WITH_TIMEOUT(ready(a->port()) && ready(b->port()), 10'000);
        QCOMPARE(get(b->port(), "/health").body, QByteArray("Healthy\nnode: node-b"));

        // bob of acme on A; alice of acme on A and on B; carl of another tenant on B.
        auto bobA = connectClient(a->port(), "bob", "acme");
        QVERIFY(bobA);
        auto aliceA = connectClient(a->port(), "alice", "acme");
        auto aliceB = connectClient(b->port(), "alice", "acme");
        auto carlB = connectClient(b->port(), "carl", "globex");
        QVERIFY(aliceA && aliceB && carlB);
        // Each node subscribes to the user's group once, however many connections it has.
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(m_redis.port(), Hub + ":group:user:acme/alice"), 2,
                                  10'000);
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(m_redis.port(), Hub + ":group:tenant:globex"), 1,
                                  10'000);
        // alice's first connection anywhere on a node is announced to the tenant, across nodes.
        QTRY_VERIFY_WITH_TIMEOUT(bobA->joined.contains(u"alice"_s), 10'000);

        // Pushes on B reach both of alice's connections once, in order. (Through one node: the
        // notification store and its sequence numbers are still per node, docs/cluster.md.)
        for (int i = 0; i < 5; ++i)
            QCOMPARE(push(b->port(), "acme", "alice", u"n%1"_s.arg(i)).status, 202);
        const QList<QString> expected {u"n0"_s, u"n1"_s, u"n2"_s, u"n3"_s, u"n4"_s};
        QTRY_COMPARE_WITH_TIMEOUT(aliceA->notifications, expected, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(aliceB->notifications, expected, 10'000);
        // A marker after them on the same channel: once it is there, nothing else is on the
        // way (exactly once); and nobody else got them.
        QCOMPARE(push(b->port(), "acme", "alice", u"marker"_s).status, 202);
        const QList<QString> withMarker = expected + QList<QString> {u"marker"_s};
        QTRY_COMPARE_WITH_TIMEOUT(aliceA->notifications, withMarker, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(aliceB->notifications, withMarker, 10'000);
        QCOMPARE(push(a->port(), "acme", "bob", u"for bob"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(bobA->notifications, QList<QString> {u"for bob"_s}, 10'000);
        QVERIFY(carlB->notifications.isEmpty());

        // A tenant alert from B reaches acme on A and B, not globex.
        const Response alert = request(
            m_nam, "POST", QUrl(u"http://127.0.0.1:%1/api/tenants/acme/alerts"_s.arg(b->port())),
            token("pusher", "ops", {"Service"}), R"({"message":"maintenance"})");
        QCOMPARE(alert.status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(bobA->alerts, QList<QString> {u"maintenance"_s}, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(aliceB->alerts, QList<QString> {u"maintenance"_s}, 10'000);
        QCOMPARE(aliceA->alerts, QList<QString> {u"maintenance"_s});
        QVERIFY(carlB->alerts.isEmpty());

        // When alice's connections on B close, B gives up her channels; A keeps its own.
        aliceB->hub->stop();
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(m_redis.port(), Hub + ":group:user:acme/alice"), 1,
                                  10'000);
    }

    // Heartbeats: an Operator's admin console lists every node with a fresh heartbeat, an
    // Admin of a tenant none; a stopped node leaves the list within seconds.
    void operatorSeesEveryNode()
    {
        auto a = startNode("node-x", m_redis.port());
        auto b = startNode("node-y", m_redis.port());
        QVERIFY(a && b);
        const auto names = [](const Value &snapshot) {
            QStringList out;
            for (const Value &n : snapshot["nodes"].array())
                out.append(n["name"].toString() + (n["self"].toBool() ? u"*"_s : QString()));
            return out;
        };
        const auto console = [](quint16 port, QList<QByteArray> roles, QList<Value> &items) {
            auto hub = std::make_unique<HubConnection>(
                QUrl(u"http://127.0.0.1:%1/hubs/admin"_s.arg(port)));
            hub->setAccessTokenProvider(
                [t = token("olga", "ops", std::move(roles))] { return readyToken(t); });
            if (!connectNow(*hub))
                return std::unique_ptr<HubConnection>();
            HubStream *stream = hub->stream("StreamMetrics");
            QObject::connect(stream, &HubStream::item, hub.get(),
                             [&items](const Value &v) { items.append(v); });
            return hub;
        };
        QList<Value> operatorItems, adminItems;
        auto op = console(a->port(), {"Operator"}, operatorItems);
        auto admin = console(a->port(), {"Admin"}, adminItems);
        QVERIFY(op && admin);
        // Other tests' nodes may still be in the hash for a few seconds: look for ours.
        QTRY_VERIFY_WITH_TIMEOUT(!operatorItems.isEmpty()
                                     && names(operatorItems.constLast()).contains(u"node-x*"_s)
                                     && names(operatorItems.constLast()).contains(u"node-y"_s),
                                 10'000);
        QTRY_VERIFY_WITH_TIMEOUT(!adminItems.isEmpty(), 10'000);
        QVERIFY(adminItems.constLast()["nodes"].array().isEmpty());

        b.reset();
        QTRY_VERIFY_WITH_TIMEOUT(!names(operatorItems.constLast()).contains(u"node-y"_s), 15'000);
        QVERIFY(names(operatorItems.constLast()).contains(u"node-x*"_s));
    }

    // A node receives a user's live notifications only once Redis confirmed its SUBSCRIBE. A
    // notification stored and published before that (here: SUBSCRIBEs held in a proxy while a
    // client connects and a push is made) comes from the store when the confirmation arrives,
    // before any later live one: both arrive, once, in order.
    void pushBeforeTheSubscriptionIsConfirmedIsNotLost()
    {
        TcpProxy proxy(m_redis.port());
        auto b = startNode("node-h", proxy.port());
        QVERIFY(b);
        QTRY_VERIFY_WITH_TIMEOUT(ready(b->port()), 10'000);

        proxy.holdFrom("SUBSCRIBE");
        auto c = connectClient(b->port(), "held", "acme");
        QVERIFY(c);
        QTRY_VERIFY_WITH_TIMEOUT(proxy.heldBytes() > 0, 10'000); // B's SUBSCRIBE is waiting
        QCOMPARE(push(b->port(), "acme", "held", u"first"_s).status, 202);
        QCOMPARE(subscribers(m_redis.port(), Hub + ":group:user:acme/held"), 0);
        QVERIFY(c->notifications.isEmpty());

        proxy.release();
        QTRY_COMPARE_WITH_TIMEOUT(c->notifications, QList<QString> {u"first"_s}, 10'000);
        QCOMPARE(push(b->port(), "acme", "held", u"second"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(c->notifications, (QList<QString> {u"first"_s, u"second"_s}),
                                  10'000);
        QCOMPARE(push(b->port(), "acme", "held", u"third"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(c->notifications.size(), 3, 10'000);
        QCOMPARE(c->notifications, (QList<QString> {u"first"_s, u"second"_s, u"third"_s}));
    }

    void hubNamesAndPrefixAreConfigurable()
    {
        auto n = startNode("node-p", m_redis.port(), [](Server::ServeOptions &o) {
            o.redisPrefix = "MyApp";
            o.backplaneHubNames.insert("notifications", "Contoso.Hubs.Feed");
        });
        QVERIFY(n);
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(m_redis.port(), "MyAppContoso.Hubs.Feed:all"), 1,
                                  10'000);
        QTRY_COMPARE_WITH_TIMEOUT(
            subscribers(m_redis.port(), "MyAppContoso.Hubs.Feed:internal:groups"), 1, 10'000);
    }

    void malformedBackplaneMessagesAreDropped()
    {
        auto a = startNode("node-m", m_redis.port());
        QVERIFY(a);
        auto dana = connectClient(a->port(), "dana", "acme");
        QVERIFY(dana);
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(m_redis.port(), Hub + ":group:user:acme/dana"), 1,
                                  10'000);
        // Not MessagePack; a valid envelope around a JSON payload that does not parse; an
        // envelope that ends early.
        for (const QByteArray &garbage :
             {QByteArray("not messagepack"), QByteArray("\x92\x90\x81\xa4json\xc4\x03{}x"),
              QByteArray("\x92\x90\x81\xa4json\xc4\x10{")}) {
            publishRaw(m_redis.port(), Hub + ":all", garbage);
            publishRaw(m_redis.port(), Hub + ":group:user:acme/dana", garbage);
        }
        QCOMPARE(push(a->port(), "acme", "dana", u"still here"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(dana->notifications, QList<QString> {u"still here"_s}, 10'000);
        QCOMPARE(dana->hub->state(), HubConnection::State::Connected);
    }

    void redisDownAtStartThenRestarted()
    {
        RedisServer redis;
        const quint16 port = RedisServer::freePort();
        auto a = startNode("node-r", port);
        QVERIFY(a);
        // No Redis yet: not ready, pushes refused before anything is stored.
        const Response notReady = get(a->port(), "/ready");
        QCOMPARE(notReady.status, 503);
        QVERIFY2(notReady.body.startsWith("Redis unavailable"), notReady.body.constData());
        const Response refused = push(a->port(), "acme", "erin", u"lost?"_s);
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.retryAfter, QByteArray("1"));

        QVERIFY(redis.start(port));
        QTRY_VERIFY_WITH_TIMEOUT(ready(a->port()), 15'000);
        auto erin = connectClient(a->port(), "erin", "acme");
        QVERIFY(erin);
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(port, Hub + ":group:user:acme/erin"), 1, 10'000);
        QCOMPARE(push(a->port(), "acme", "erin", u"one"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(erin->notifications, QList<QString> {u"one"_s}, 10'000);

        auto editor = connectClient(a->port(), "ed", "acme", {"Editor"});
        QVERIFY(editor);
        QCOMPARE(call(*editor->hub, "SendDocumentPatch", {Value("d1"), Value("{}")}), Value(1));

        // Redis restarts: the node reconnects and subscribes again by itself. Meanwhile what
        // would be stored and sent to others is refused, with the reason.
        redis.stop();
        QTRY_COMPARE_WITH_TIMEOUT(get(a->port(), "/ready").status, 503, 10'000);
        QCOMPARE(push(a->port(), "acme", "erin", u"refused"_s).status, 503);
        QCOMPARE(call(*editor->hub, "SendDocumentPatch", {Value("d1"), Value("{}")}),
                 Value("error: An unexpected error occurred invoking 'SendDocumentPatch' on the "
                       "server. HubException: The cluster's Redis is unavailable: nothing was "
                       "changed. Try again shortly."));
        QVERIFY(redis.start(port));
        QTRY_VERIFY_WITH_TIMEOUT(ready(a->port()), 15'000);
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(port, Hub + ":group:user:acme/erin"), 1, 10'000);
        QCOMPARE(push(a->port(), "acme", "erin", u"two"_s).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(erin->notifications, (QList<QString> {u"one"_s, u"two"_s}),
                                  10'000);
        // The refused patch was not stored: the next one is version 2.
        QCOMPARE(call(*editor->hub, "SendDocumentPatch", {Value("d1"), Value("{}")}), Value(2));
        QCOMPARE(erin->hub->state(), HubConnection::State::Connected);
    }
};

QTEST_MAIN(tst_Cluster)
#include "tst_cluster.moc"
