// SPDX-License-Identifier: MIT
// The transport-agnostic connection core: handshake, dispatch, errors, fan-out, timeouts.
#include "fakehubtransport.h"
#include "signalr/heartbeat_p.h"
#include "signalr/hubconnectioncontext.h"
#include "signalr/lifetimemanager.h"

#include <heliograph/protocol/handshake.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;
using Heliograph::Testing::FakeTransport;

namespace {

class TestHub : public Hub {
public:
    TestHub()
        : Hub("/hubs/test")
    {
        addMethod("Echo", [](HubCallContext &, QString s) { return s; });
        addMethod("Add", [](HubCallContext &, qint64 a, qint64 b) { return a + b; });
        addMethod("Nothing", [](HubCallContext &) {});
        addMethod("Throw",
                  [](HubCallContext &) -> int { throw std::runtime_error("secret detail"); });
        addMethod("HubThrow", [](HubCallContext &) -> int { throw HubException(u"visible"_s); });
        addMethod(
            "AdminOnly", [](HubCallContext &) { return 1; }, MethodPolicy {{"Admin"}, {}, false});
        addMethod("Join", [](HubCallContext &ctx, QString g) {
            ctx.clients().addToGroup(ctx.connectionId(), g.toUtf8());
        });
        addAsyncMethod("Wait", [this](HubCallContext &, HubReplyPtr reply) { pending = reply; });
        addAsyncMethod("AskClient", [](HubCallContext &ctx, HubReplyPtr reply, QString what) {
            ctx.caller().invokeClient("Question", {Value(what)}, [reply](const ClientResult &r) {
                if (r.ok)
                    reply->resolve(r.value);
                else
                    reply->reject(r.error);
            });
        });
        addMethod("SendGroup", [](HubCallContext &ctx, QString g, QString text) {
            ctx.clients().sendGroup(g.toUtf8(), makeInvocation("Receive", {Value(text)}),
                                    {ctx.connectionId()});
        });
    }
    void onConnected(HubCallContext &ctx) override
    {
        if (ctx.user().userId == "reject")
            throw HubException(u"not welcome"_s);
        ++connected;
    }
    void onDisconnected(HubCallContext &) override { ++disconnected; }
    int connected = 0;
    int disconnected = 0;
    HubReplyPtr pending;
};

Principal user(QByteArray id, QList<QByteArray> roles = {})
{
    Principal p;
    p.userId = std::move(id);
    p.tenantId = "t1";
    p.roles = std::move(roles);
    return p;
}

QByteArray frameJson(const QByteArray &json)
{
    return json + '\x1e';
}

} // namespace

class tst_HubConnectionContext : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void handshake_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("formats");
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<bool>("connected");
        const int both = int(TransferFormat::Text | TransferFormat::Binary);
        QTest::newRow("json v1") << frameJson("{\"protocol\":\"json\",\"version\":1}") << both
                                 << QByteArray("{}\x1e") << true;
        QTest::newRow("messagepack v2") << frameJson("{\"protocol\":\"messagepack\",\"version\":2}")
                                        << both << QByteArray("{}\x1e") << true;
        QTest::newRow("case-insensitive name") << frameJson("{\"protocol\":\"JSON\",\"version\":1}")
                                               << both << QByteArray("{}\x1e") << true;
        QTest::newRow("unknown protocol")
            << frameJson("{\"protocol\":\"foo\",\"version\":1}") << both
            << QByteArray("{\"error\":\"The protocol 'foo' is not supported.\"}"
                          "\x1e")
            << false;
        QTest::newRow("unsupported version")
            << frameJson("{\"protocol\":\"json\",\"version\":3}") << both
            << QByteArray(
                   "{\"error\":\"The server does not support version 3 of the 'json' protocol.\"}"
                   "\x1e")
            << false;
        QTest::newRow("messagepack over text-only transport")
            << frameJson("{\"protocol\":\"messagepack\",\"version\":1}")
            << int(TransferFormat::Text)
            << QByteArray("{\"error\":\"Cannot use the 'messagepack' protocol on the current "
                          "transport. The transport does not support 'Binary' transfer format.\"}"
                          "\x1e")
            << false;
        QTest::newRow("malformed")
            << frameJson("{\"protocol\":\"json\"}") << both
            << QByteArray(
                   "{\"error\":\"An unexpected error occurred during connection handshake.\"}"
                   "\x1e")
            << false;
    }

    void handshake()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, formats);
        QFETCH(QByteArray, response);
        QFETCH(bool, connected);
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport transport {TransferFormat(formats)};
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        QSignalSpy closed(&c, &HubConnectionContext::closed);
        c.attachTransport(&transport);
        // Byte by byte: the handshake may arrive split anyhow.
        for (char ch : request)
            c.receive(QByteArrayView(&ch, 1));
        QCOMPARE(transport.written, response);
        QCOMPARE(c.state() == HubConnectionContext::State::Connected, connected);
        QCOMPARE(transport.ended, !connected);
        QCOMPARE(closed.size(), connected ? 0 : 1);
        QCOMPARE(hub.connected, connected ? 1 : 0);
        if (connected && c.protocol() == &HubProtocol::messagePack())
            QCOMPARE(transport.active, TransferFormat::Binary);
    }

    void invocations_data()
    {
        QTest::addColumn<QByteArray>("protocol");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<ValueList>("args");
        QTest::addColumn<bool>("detailed");
        QTest::addColumn<Value>("result");
        QTest::addColumn<QByteArray>("error");
        for (const char *p : {"json", "messagepack"}) {
            const QByteArray proto(p);
            QTest::addRow("%s echo", p) << proto << QByteArray("Echo") << ValueList {Value("hé")}
                                        << false << Value("hé") << QByteArray();
            QTest::addRow("%s case-insensitive", p)
                << proto << QByteArray("echo") << ValueList {Value("x")} << false << Value("x")
                << QByteArray();
            QTest::addRow("%s int64", p)
                << proto << QByteArray("Add") << ValueList {Value(qint64(1) << 40), Value(2)}
                << false << Value((qint64(1) << 40) + 2) << QByteArray();
            QTest::addRow("%s void gives null", p) << proto << QByteArray("Nothing") << ValueList {}
                                                   << false << Value() << QByteArray();
            QTest::addRow("%s unknown", p)
                << proto << QByteArray("Nope") << ValueList {} << false << Value()
                << QByteArray("Failed to invoke 'Nope' due to an error on the server. "
                              "HubException: Method does not exist.");
            QTest::addRow("%s arity", p)
                << proto << QByteArray("Add") << ValueList {Value(1)} << false << Value()
                << QByteArray("Failed to invoke 'Add' due to an error on the server.");
            QTest::addRow("%s arity detailed", p)
                << proto << QByteArray("Add") << ValueList {Value(1)} << true << Value()
                << QByteArray("Failed to invoke 'Add' due to an error on the server. "
                              "InvalidDataException: Invocation provides 1 argument(s) but target "
                              "expects 2.");
            QTest::addRow("%s wrong type", p)
                << proto << QByteArray("Add") << ValueList {Value("a"), Value(1)} << false
                << Value() << QByteArray("Failed to invoke 'Add' due to an error on the server.");
            QTest::addRow("%s exception hidden", p)
                << proto << QByteArray("Throw") << ValueList {} << false << Value()
                << QByteArray("An unexpected error occurred invoking 'Throw' on the server.");
            QTest::addRow("%s HubException shown", p)
                << proto << QByteArray("HubThrow") << ValueList {} << false << Value()
                << QByteArray("An unexpected error occurred invoking 'HubThrow' on the server. "
                              "HubException: visible");
            QTest::addRow("%s unauthorized", p)
                << proto << QByteArray("AdminOnly") << ValueList {} << false << Value()
                << QByteArray("Failed to invoke 'AdminOnly' because user is unauthorized");
        }
    }

    void invocations()
    {
        QFETCH(QByteArray, protocol);
        QFETCH(QByteArray, target);
        QFETCH(ValueList, args);
        QFETCH(bool, detailed);
        QFETCH(Value, result);
        QFETCH(QByteArray, error);
        const HubProtocol &p = *HubProtocol::find(protocol);
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        options.enableDetailedErrors = detailed;
        FakeTransport transport;
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        c.attachTransport(&transport);
        // Handshake and the invocation in one read, plus a fire-and-forget call that must not
        // produce a completion.
        QByteArray in = Handshake::writeRequest({protocol, 1});
        p.write(InvocationMessage {{}, "7", target, args, {}}, in);
        p.write(InvocationMessage {{}, {}, target, args, {}}, in);
        c.receive(in);
        const auto out = transport.messages(p);
        QCOMPARE(out.size(), 1);
        const auto &completion = std::get<CompletionMessage>(out.first());
        QCOMPARE(completion.invocationId, QByteArray("7"));
        if (error.isEmpty()) {
            QCOMPARE(completion.kind, CompletionMessage::Kind::Result);
            QCOMPARE(completion.result, result);
        } else {
            QCOMPARE(completion.kind, CompletionMessage::Kind::Error);
            QCOMPARE(completion.error, error);
        }
        QCOMPARE(c.state(), HubConnectionContext::State::Connected);
    }

    void badInputClosesWithError_data()
    {
        QTest::addColumn<QByteArray>("protocol");
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("json garbage") << QByteArray("json") << QByteArray("not json\x1e");
        QTest::newRow("json oversize")
            << QByteArray("json")
            << QByteArray("{\"type\":1,\"target\":\"Echo\",\"arguments\":[\"")
                + QByteArray(40000, 'a') + QByteArray("\"]}\x1e");
        QTest::newRow("messagepack oversize prefix")
            << QByteArray("messagepack") << QByteArray::fromHex("ffff03");
        QTest::newRow("messagepack garbage")
            << QByteArray("messagepack") << QByteArray::fromHex("0291c1");
    }

    void badInputClosesWithError()
    {
        QFETCH(QByteArray, protocol);
        QFETCH(QByteArray, bytes);
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport transport;
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        QSignalSpy closed(&c, &HubConnectionContext::closed);
        c.attachTransport(&transport);
        c.receive(Handshake::writeRequest({protocol, 1}));
        c.receive(bytes);
        const auto out = transport.messages(*HubProtocol::find(protocol));
        QCOMPARE(out.size(), 1);
        const auto &close = std::get<CloseMessage>(out.first());
        QCOMPARE(close.error, std::optional<QByteArray>("Connection closed with an error."));
        QVERIFY(close.allowReconnect);
        QVERIFY(transport.ended);
        QCOMPARE(closed.size(), 1);
        QCOMPARE(hub.disconnected, 1);
        QCOMPARE(lifetime.connectionCount(), 0);
    }

    void onConnectedThrowRejects()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport transport;
        HubConnectionContext c(hub, lifetime, options, "c1", user("reject"));
        c.attachTransport(&transport);
        c.receive(Handshake::writeRequest({"json", 1}));
        const auto out = transport.messages(HubProtocol::json());
        QCOMPARE(out.size(), 1);
        const auto &close = std::get<CloseMessage>(out.first());
        QCOMPARE(close.error,
                 std::optional<QByteArray>(
                     "Connection closed with an error. HubException: not welcome"));
        QVERIFY(!close.allowReconnect);
        QVERIFY(transport.ended);
    }

    void clientCloseIsAnswered()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport transport;
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        c.attachTransport(&transport);
        c.receive(QByteArray(Handshake::writeRequest({"json", 1}) + frameJson("{\"type\":7}")));
        const auto out = transport.messages(HubProtocol::json());
        QCOMPARE(out.size(), 1);
        QCOMPARE(std::get<CloseMessage>(out.first()), CloseMessage {});
        QVERIFY(transport.ended);
        QCOMPARE(hub.disconnected, 1);
    }

    void groupsAndFanOut()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport t1, t2, t3;
        HubConnectionContext a(hub, lifetime, options, "a", user("ua"));
        HubConnectionContext b(hub, lifetime, options, "b", user("ub"));
        HubConnectionContext d(hub, lifetime, options, "d", user("ud"));
        a.attachTransport(&t1);
        b.attachTransport(&t2);
        d.attachTransport(&t3);
        a.receive(Handshake::writeRequest({"json", 1}));
        b.receive(Handshake::writeRequest({"messagepack", 1}));
        d.receive(Handshake::writeRequest({"json", 1}));
        QCOMPARE(lifetime.connectionCount(), 3);
        const auto join = [](const HubProtocol &p, const char *group) {
            return p.serialize(InvocationMessage {{}, {}, "Join", {Value(group)}, {}});
        };
        a.receive(join(HubProtocol::json(), "room"));
        b.receive(join(HubProtocol::messagePack(), "room"));
        a.receive(HubProtocol::json().serialize(
            InvocationMessage {{}, {}, "SendGroup", {Value("room"), Value("hi")}, {}}));
        // b (MessagePack) gets it, a (the sender, excluded) and d (not a member) do not.
        QCOMPARE(t1.messages(HubProtocol::json()).size(), 0);
        QCOMPARE(t3.messages(HubProtocol::json()).size(), 0);
        const auto got = t2.messages(HubProtocol::messagePack());
        QCOMPARE(got.size(), 1);
        const auto &inv = std::get<InvocationMessage>(got.first());
        QCOMPARE(inv.target, QByteArray("Receive"));
        QCOMPARE(inv.arguments, ValueList {Value("hi")});
        // After b leaves, the group is empty of it: nothing is sent to a closed connection.
        b.close();
        QCOMPARE(lifetime.connectionCount(), 2);
        const qsizetype before = t2.written.size();
        d.receive(HubProtocol::json().serialize(
            InvocationMessage {{}, {}, "SendGroup", {Value("room"), Value("again")}, {}}));
        QCOMPARE(t2.written.size(), before);
        QCOMPARE(t1.messages(HubProtocol::json()).size(), 1);
    }

    void asyncMethodsAndTheParallelInvocationLimit()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options; // one invocation at a time, as ASP.NET Core's default
        FakeTransport t;
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        c.attachTransport(&t);
        QByteArray in = Handshake::writeRequest({"json", 1});
        HubProtocol::json().write(InvocationMessage {{}, "1", "Wait", {}, {}}, in);
        HubProtocol::json().write(InvocationMessage {{}, "2", "Echo", {Value("after")}, {}}, in);
        HubProtocol::json().write(PingMessage {}, in);
        c.receive(in);
        QVERIFY(hub.pending);
        // Echo waits behind the pending Wait; nothing is answered yet.
        QCOMPARE(t.messages(HubProtocol::json()).size(), 0);
        hub.pending->resolve(Value(42));
        QTRY_COMPARE(t.messages(HubProtocol::json()).size(), 2);
        const auto out = t.messages(HubProtocol::json());
        QCOMPARE(std::get<CompletionMessage>(out[0]),
                 CompletionMessage::withResult("1", Value(42)));
        QCOMPARE(std::get<CompletionMessage>(out[1]),
                 CompletionMessage::withResult("2", Value("after")));
        // Resolving twice changes nothing.
        hub.pending->resolve(Value(1));
        QCOMPARE(t.messages(HubProtocol::json()).size(), 2);
    }

    void clientResults()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        FakeTransport t;
        HubConnectionContext c(hub, lifetime, options, "c1", user("u1"));
        c.attachTransport(&t);
        QByteArray in = Handshake::writeRequest({"json", 1});
        HubProtocol::json().write(InvocationMessage {{}, "7", "AskClient", {Value("name?")}, {}},
                                  in);
        c.receive(in);
        auto out = t.messages(HubProtocol::json());
        QCOMPARE(out.size(), 1);
        const auto &question = std::get<InvocationMessage>(out[0]);
        QCOMPARE(question.invocationId, QByteArray("s1")); // server ids start with 's'
        QCOMPARE(question.target, QByteArray("Question"));
        // A completion for an unknown id is ignored; the right one answers the hub method.
        c.receive(HubProtocol::json().serialize(CompletionMessage::withResult("s99", Value(0))));
        c.receive(
            HubProtocol::json().serialize(CompletionMessage::withResult("s1", Value("alice"))));
        out = t.messages(HubProtocol::json());
        QCOMPARE(out.size(), 2);
        QCOMPARE(std::get<CompletionMessage>(out[1]),
                 CompletionMessage::withResult("7", Value("alice")));

        // The client's error reaches the caller as a HubException text.
        c.receive(HubProtocol::json().serialize(
            InvocationMessage {{}, "8", "AskClient", {Value("x")}, {}}));
        c.receive(HubProtocol::json().serialize(
            CompletionMessage::withError("s2", "Client didn't provide a result.")));
        out = t.messages(HubProtocol::json());
        QCOMPARE(std::get<CompletionMessage>(out.last()).error,
                 QByteArray("An unexpected error occurred invoking 'AskClient' on the server. "
                            "HubException: Client didn't provide a result."));

        // A pending client result fails when the connection ends.
        c.receive(HubProtocol::json().serialize(
            InvocationMessage {{}, "9", "AskClient", {Value("y")}, {}}));
        c.transportEnded();
        QCOMPARE(c.state(), HubConnectionContext::State::Closed);
    }

    void timeouts()
    {
        TestHub hub;
        HubLifetimeManager lifetime;
        HubOptions options;
        options.handshakeTimeout = 0ms;
        FakeTransport slow;
        HubConnectionContext c(hub, lifetime, options, "slow", user("u1"));
        c.attachTransport(&slow);
        c.receive("{\"protocol\":");
        Heartbeat::forCurrentThread()->tickNow();
        QCOMPARE(slow.written,
                 QByteArray("{\"error\":\"Handshake was canceled.\"}"
                            "\x1e"));
        QVERIFY(slow.ended);

        options.keepAliveInterval = 0ms;
        options.clientTimeoutInterval = 0ms;
        FakeTransport t;
        HubConnectionContext k(hub, lifetime, options, "k", user("u1"));
        k.attachTransport(&t);
        k.receive(Handshake::writeRequest({"json", 1}));
        Heartbeat::forCurrentThread()->tickNow();
        // No client ping yet: no client timeout, but a keep-alive ping goes out.
        QCOMPARE(k.state(), HubConnectionContext::State::Connected);
        QCOMPARE(t.messages(HubProtocol::json()), QList<HubMessage> {PingMessage {}});
        // After the client's first ping the client timeout is enforced.
        k.receive(frameJson("{\"type\":6}"));
        Heartbeat::forCurrentThread()->tickNow();
        QCOMPARE(k.state(), HubConnectionContext::State::Closed);
        const auto out = t.messages(HubProtocol::json());
        QCOMPARE(std::get<CloseMessage>(out.last()).allowReconnect, true);
    }
};

QTEST_GUILESS_MAIN(tst_HubConnectionContext)
#include "tst_hubconnectioncontext.moc"
