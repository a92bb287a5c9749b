// SPDX-License-Identifier: MIT
// HubConnection against Microsoft's ASP.NET Core SignalR server: the interop test hub of
// tests/interop/aspnetcore (README.md there pins every method's wire shape and error text),
// started once with `dotnet InteropTestHub.dll --urls http://127.0.0.1:0`. Every row is one
// transport x protocol (Server-Sent Events with JSON only). Waits with QSignalSpy::wait /
// QTRY_* / qWaitFor, never with sleeps.
#include "clientcalls.h"
#include "tcpproxy.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/convert.h>

#include <QtCore/QFuture>
#include <QtCore/QProcess>
#include <QtCore/QPromise>
#include <QtCore/QRegularExpression>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

using State = HubConnection::State;
using Error = HubConnection::Error;

namespace InteropDto {

// The hub's `record Address(string City, string Zip)` and
// `record Person(string Name, int Age, string[] Tags, Address? Address)`, camelCase on the wire.
struct Address {
    QString city;
    QString zip;
    friend bool operator==(const Address &, const Address &) = default;
};
HELIOGRAPH_DESCRIBE(Address, city, zip)

struct Person {
    QString name;
    int age = 0;
    QStringList tags;
    std::optional<Address> address;
    friend bool operator==(const Person &, const Person &) = default;
};
HELIOGRAPH_DESCRIBE(Person, name, age, tags, address)

// The hub's `record Gadget(string? Name, int Count, string[]? Tags, DateTime When)`, without
// [Key] attributes: over MessagePack only PascalCase keys bind to it.
struct Gadget {
    QString name;
    int count = 0;
    QStringList tags;
    QDateTime when;
};
HELIOGRAPH_DESCRIBE(Gadget, name, count, tags, when)

} // namespace InteropDto

namespace {

QFuture<QString> readyToken(const QString &t)
{
    QPromise<QString> p;
    p.start();
    p.addResult(t);
    p.finish();
    return p.future();
}

/// Reconnects quickly, and counts how often it was asked.
class CountingRetryPolicy : public RetryPolicy {
public:
    std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryContext &) override
    {
        ++asked;
        return 50ms;
    }
    int asked = 0;
};

QString transportName(HubConnection::Transport t)
{
    switch (t) {
    case HubConnection::Transport::WebSockets:
        return u"WebSockets"_s;
    case HubConnection::Transport::ServerSentEvents:
        return u"ServerSentEvents"_s;
    case HubConnection::Transport::LongPolling:
        return u"LongPolling"_s;
    case HubConnection::Transport::None:
        break;
    }
    return {};
}

Value map(std::initializer_list<std::pair<const char *, Value>> entries)
{
    ValueMap m;
    for (const auto &[k, v] : entries)
        m.append({Value(k), v});
    return Value(std::move(m));
}

} // namespace

class tst_ClientAspNetCore : public QObject {
    Q_OBJECT

    QProcess m_server;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QString m_baseUrl; // http://127.0.0.1:NNNNN

    /// Connections of the current test, stopped by cleanup().
    std::vector<std::unique_ptr<HubConnection>> m_connections;

    static bool isMessagePack()
    {
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        return protocol == HubConnection::Protocol::MessagePack;
    }

    /// A connection configured for the current row (through a proxy on `viaPort`).
    HubConnection *connection(const QString &path,
                              std::shared_ptr<RetryPolicy> retry
                              = std::make_shared<CountingRetryPolicy>(),
                              quint16 viaPort = 0)
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        QUrl url(m_baseUrl + path);
        if (viaPort)
            url.setPort(viaPort);
        auto c = std::make_unique<HubConnection>(url);
        c->setTransports(transport);
        c->setProtocol(protocol);
        c->setRetryPolicy(std::move(retry));
        m_connections.push_back(std::move(c));
        return m_connections.back().get();
    }

private Q_SLOTS:
    void initTestCase_data() { addTransportProtocolRows(); }

    void initTestCase()
    {
        defaultWaitMs = 15000; // ASP.NET Core's first calls include its start-up work
        connect(&m_server, &QProcess::readyReadStandardOutput, this,
                [this] { m_stdout += m_server.readAllStandardOutput(); });
        // Hub methods that throw log there: keep reading so the pipe cannot fill up.
        connect(&m_server, &QProcess::readyReadStandardError, this,
                [this] { m_stderr += m_server.readAllStandardError(); });
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"DOTNET_CLI_TELEMETRY_OPTOUT"_s, u"1"_s);
        env.insert(u"DOTNET_NOLOGO"_s, u"1"_s);
        env.insert(u"DOTNET_SKIP_FIRST_TIME_EXPERIENCE"_s, u"1"_s);
        m_server.setProcessEnvironment(env);
        m_server.start(
            QStringLiteral(HELIOGRAPH_DOTNET),
            {QStringLiteral(HELIOGRAPH_INTEROP_TESTHUB_DLL), u"--urls"_s, u"http://127.0.0.1:0"_s});
        QVERIFY2(m_server.waitForStarted(30000), qPrintable(m_server.errorString()));

        const QRegularExpression listening(u"listening on (http://127\\.0\\.0\\.1:\\d+)\\r?\\n"_s);
        QRegularExpressionMatch match;
        const bool ready = QTest::qWaitFor(
            [&] {
                match = listening.match(QString::fromUtf8(m_stdout));
                return match.hasMatch() || m_server.state() == QProcess::NotRunning;
            },
            60000);
        QVERIFY2(
            ready && match.hasMatch(),
            qPrintable(u"the test hub did not say where it listens; stdout: %1 stderr: %2"_s.arg(
                QString::fromUtf8(m_stdout), QString::fromUtf8(m_stderr))));
        m_baseUrl = match.captured(1);
    }

    void cleanup()
    {
        for (const auto &c : m_connections)
            c->stop();
        for (const auto &c : m_connections)
            QTRY_COMPARE_WITH_TIMEOUT(c->state(), State::Disconnected, 10000);
        m_connections.clear();
    }

    void cleanupTestCase()
    {
        if (m_server.state() == QProcess::NotRunning)
            return;
        m_server.terminate();
        if (!m_server.waitForFinished(15000)) {
            qWarning("the test hub did not stop on SIGTERM; killing it");
            m_server.kill();
            m_server.waitForFinished(5000);
        }
    }

    void connectionInfo()
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        HubConnection *c = connection(u"/hubs/test"_s);
        QSignalSpy connected(c, &HubConnection::connected);
        c->start();
        QVERIFY2(connected.wait(20000), qPrintable(c->errorString()));
        QCOMPARE(c->transport(), transport);
        QCOMPARE(c->protocolName(), isMessagePack() ? u"messagepack"_s : u"json"_s);
        QVERIFY(!c->connectionId().isEmpty());

        const Value info = call(*c, "GetConnectionInfo");
        QVERIFY2(info.isMap(), qPrintable(info.toString()));
        QCOMPARE(info.size(), 4);
        QCOMPARE(info.map().at(0).key, Value("connectionId"));
        QCOMPARE(info["connectionId"], Value(c->connectionId()));
        QCOMPARE(info["transport"], Value(transportName(transport)));
        QCOMPARE(info["protocol"], Value(isMessagePack() ? "messagepack" : "json"));
        QVERIFY(info["userAgent"].isString());
    }

    void echoValues()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        constexpr qint64 max = std::numeric_limits<qint64>::max();
        constexpr qint64 min = std::numeric_limits<qint64>::min();
        const QString unicode
            = u"héllo wörld ✓ 😀 <&> \"q\" \\ \n\t"_s + QChar(0x01) + QChar(0x7f) + QChar(0x2028);
        // README: {"a":39,"b":[1,-32,"two",3.5,null,true,{"c":{}}],"":"e","ü":[]}
        const Value nested = map({
            {"a", Value(39)},
            {"b",
             Value(ValueList {Value(1), Value(-32), Value("two"), Value(3.5), Value(), Value(true),
                              map({{"c", Value(ValueMap {})}})})},
            {"", Value("e")},
            {"ü", Value(ValueList {})},
        });
        const ValueList values {
            Value(39),
            Value(-32),
            Value(qint64(4294967296)),
            Value(max),
            Value(min),
            Value(3.5),
            Value(0.1),
            Value(true),
            Value(false),
            Value(),
            Value(""),
            Value(unicode),
            Value(ValueList {}),
            Value(ValueMap {}),
            nested,
        };
        for (const Value &v : values) {
            const Value echoed = call(*c, "Echo", {v});
            QCOMPARE(echoed, v);
            QCOMPARE(echoed.type(), v.type());
        }
        QCOMPARE(call(*c, "Echo", {Value(max)}).toInteger(), max);
        QCOMPARE(call(*c, "Echo", {Value(min)}).toInteger(), min);
        QCOMPARE(call(*c, "Echo", {Value(unicode)}).toString(), unicode);

        if (isMessagePack()) {
            // binary stays binary (JSON has none: base64 text)
            const Value bin = Value::fromBinary(QByteArray("\x00\x01\x02\xff", 4));
            QCOMPARE(call(*c, "Echo", {bin}), bin);
            QVERIFY(call(*c, "Echo", {bin}).isBinary());
        }

        // typed: byte[] is base64 text in JSON, bin in MessagePack; both bind to QByteArray
        const QByteArray bytes("\x00\x01\x02\xff", 4);
        QFuture<QByteArray> echoedBytes = c->invokeAs<QByteArray>("EchoBytes", bytes);
        QVERIFY(settle(echoedBytes));
        QVERIFY2(!failure(echoedBytes),
                 qPrintable(failure(echoedBytes) ? failure(echoedBytes)->message : QString()));
        QCOMPARE(echoedBytes.result(), bytes);
        QCOMPARE(call(*c, "EchoLong", {Value(max)}), Value(max));
        QCOMPARE(call(*c, "EchoLong", {Value(min)}), Value(min));
        QCOMPARE(call(*c, "EchoString", {Value(unicode)}), Value(unicode));
        QCOMPARE(call(*c, "EchoString", {Value()}), Value());
        QCOMPARE(call(*c, "EchoDouble", {Value(-0.5)}), Value(-0.5));
    }

    void echoPerson()
    {
        using namespace InteropDto;
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        const Person ann {u"Ann"_s, 42, {u"a"_s, u"b"_s}, Address {u"Zürich"_s, u"8000"_s}};
        // the wire: a map with the camelCase keys, in declaration order
        const Value raw = call(*c, "EchoPerson", {toValue(ann)});
        const Value expected
            = map({{"name", Value("Ann")},
                   {"age", Value(42)},
                   {"tags", Value(ValueList {Value("a"), Value("b")})},
                   {"address", map({{"city", Value(u"Zürich"_s)}, {"zip", Value("8000")}})}});
        QCOMPARE(raw, expected);

        QFuture<Person> typed = c->invokeAs<Person>("EchoPerson", ann);
        QVERIFY(settle(typed));
        QVERIFY2(!failure(typed), qPrintable(failure(typed) ? failure(typed)->message : QString()));
        QVERIFY(typed.result() == ann);
        QCOMPARE(typed.result().address->city, u"Zürich"_s);

        Person homeless = ann;
        homeless.address.reset();
        QFuture<Person> noAddress = c->invokeAs<Person>("EchoPerson", homeless);
        QVERIFY(settle(noAddress));
        QVERIFY(!failure(noAddress));
        QVERIFY(noAddress.result() == homeless);
        QVERIFY(!noAddress.result().address);
    }

    /// setMessagePackKeyCase(PascalCase): described structs bind to a PascalCase .NET type
    /// over MessagePack; by default (camelCase) its members stay at their defaults there.
    void pascalCaseKeys()
    {
        using namespace InteropDto;
        const Gadget widget {u"Widget"_s,
                             3,
                             {u"a"_s, u"b"_s},
                             QDateTime(QDate(2024, 5, 6), QTime(7, 8, 9), Qt::UTC)};
        const QString bound = u"Widget:3:a,b:2024-05-06T07:08:09"_s;

        HubConnection *pascal = connection(u"/hubs/test"_s);
        QCOMPARE(pascal->messagePackKeyCase(), StructKeyCase::CamelCase);
        pascal->setMessagePackKeyCase(StructKeyCase::PascalCase);
        QCOMPARE(pascal->messagePackKeyCase(), StructKeyCase::PascalCase);
        QVERIFY(connectNow(*pascal, 20000));
        QFuture<QString> described = pascal->invokeAs<QString>("DescribeGadget", widget);
        QVERIFY(settle(described));
        QVERIFY2(!failure(described), qPrintable(failure(described)->message));
        QCOMPARE(described.result(), bound);
        // what comes back (PascalCase keys over MessagePack) is read ignoring case
        const Value echoed = call(*pascal, "Echo", {toValue(widget)});
        QVERIFY(echoed.find(isMessagePack() ? "Name" : "name", Qt::CaseSensitive));
        const Expected<Gadget> back = fromValue<Gadget>(echoed);
        QVERIFY(back);
        QCOMPARE(back->name, widget.name);
        QCOMPARE(back->tags, widget.tags);
        QCOMPARE(back->when, widget.when);

        HubConnection *camel = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*camel, 20000));
        QFuture<QString> unbound = camel->invokeAs<QString>("DescribeGadget", widget);
        QVERIFY(settle(unbound));
        QVERIFY(!failure(unbound));
        QCOMPARE(unbound.result(), isMessagePack() ? u"null:0:null:0001-01-01T00:00:00"_s : bound);
    }

    void callsAndErrors()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        QCOMPARE(call(*c, "Add", {Value(2), Value(3)}), Value(5));
        QFuture<int> sum = c->invokeAs<int>("Add", 2, 3);
        QVERIFY(settle(sum));
        QCOMPARE(sum.result(), 5);
        QCOMPARE(call(*c, "Add", {Value(2147483647), Value(1)}), Value(-2147483648LL));
        QCOMPARE(call(*c, "NoResult"), Value());

        QFuture<Value> thrown = c->invoke("Throw", {Value("boom")});
        QVERIFY(settle(thrown));
        QCOMPARE(failure(thrown)->code, HubError::Code::ServerError);
        QCOMPARE(failure(thrown)->message,
                 u"An unexpected error occurred invoking 'Throw' on the server. "
                 u"HubException: boom"_s);
        QCOMPARE(call(*c, "ThrowGeneric"),
                 Value("error: An unexpected error occurred invoking 'ThrowGeneric' on the "
                       "server."));
        QCOMPARE(call(*c, "Add", {Value(1)}),
                 Value("error: Failed to invoke 'Add' due to an error on the server."));
        QCOMPARE(call(*c, "NoSuchMethod"),
                 Value("error: Failed to invoke 'NoSuchMethod' due to an error on the server. "
                       "HubException: Method does not exist."));
        // errors do not hurt the connection
        QCOMPARE(c->state(), State::Connected);
        QCOMPARE(call(*c, "Echo", {Value("fine")}), Value("fine"));
    }

    void sendToCaller()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        ValueList received;
        c->on("Notify", [&](const ValueList &args) { received.append(args); });
        QStringList typed;
        c->on<QString>("notify", [&](const QString &s) { typed.append(s); });
        // the Invocation arrives before the Completion
        QCOMPARE(call(*c, "SendToCaller", {Value("Notify"), Value(u"hi 😀"_s)}), Value());
        QCOMPARE(received, ValueList {Value(u"hi 😀"_s)});
        QCOMPARE(typed, QStringList {u"hi 😀"_s});

        const Value nested = map({{"k", Value(ValueList {Value(1), Value("two")})}});
        // the typed handler does not take a map: a warning, the untyped one still runs
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"handler of notify not called: argument 0: "
                                                u"expected String, got Map"_s));
        QFuture<void> sent = c->send("SendToCaller", {Value("Notify"), nested});
        QVERIFY(settle(sent));
        QVERIFY(!failure(sent));
        QTRY_COMPARE(received.size(), 2);
        QCOMPARE(received.at(1), nested);
    }

    void serverStream()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        const QByteArray tag = "stream-" + QByteArray(QTest::currentDataTag());
        std::unique_ptr<HubStream> stream(
            c->stream("Counter", {Value(5), Value(10), Value::fromUtf8(tag)}));
        QVERIFY(!stream->invocationId().isEmpty());
        QSignalSpy items(stream.get(), &HubStream::item);
        QSignalSpy completed(stream.get(), &HubStream::completed);
        QSignalSpy errors(stream.get(), &HubStream::errorOccurred);
        QSignalSpy finished(stream.get(), &HubStream::finished);
        QVERIFY(completed.wait(15000));
        QCOMPARE(items.size(), 5);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(items.at(i).first().value<Value>(), Value(i));
        QCOMPARE(errors.size(), 0);
        QCOMPARE(finished.size(), 1);
        QVERIFY(stream->isFinished());
        QVERIFY(!stream->error());
        QCOMPARE(call(*c, "StreamCancelled", {Value::fromUtf8(tag)}), Value(false));

        // an empty stream completes at once
        std::unique_ptr<HubStream> empty(c->stream("Counter", {Value(0), Value(0), Value("e")}));
        QSignalSpy emptyItems(empty.get(), &HubStream::item);
        QSignalSpy emptyCompleted(empty.get(), &HubStream::completed);
        QVERIFY(emptyCompleted.wait(15000));
        QCOMPARE(emptyItems.size(), 0);

        // a cancelled one: the server sees the cancel
        const QByteArray cancelTag = "cancel-" + QByteArray(QTest::currentDataTag());
        std::unique_ptr<HubStream> endless(
            c->stream("Counter", {Value(1000), Value(50), Value::fromUtf8(cancelTag)}));
        QSignalSpy endlessItems(endless.get(), &HubStream::item);
        QVERIFY(endlessItems.wait(15000));
        endless->cancel();
        QVERIFY(endless->isFinished());
        QCOMPARE(call(*c, "StreamCancelled", {Value::fromUtf8(cancelTag)}), Value(true));
    }

    void uploadStream()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        UploadStream *up = c->createUploadStream();
        QFuture<Value> sum = c->invoke("Sum", {}, {up});
        QVERIFY(!up->streamId().isEmpty());
        for (int i = 1; i <= 100; ++i)
            QVERIFY(up->write(Value(i)));
        up->complete();
        QVERIFY(settle(sum));
        QVERIFY2(!failure(sum), qPrintable(failure(sum) ? failure(sum)->message : QString()));
        QCOMPARE(sum.result(), Value(5050));

        UploadStream *none = c->createUploadStream();
        QFuture<Value> zero = c->invoke("Sum", {}, {none});
        none->complete();
        QVERIFY(settle(zero));
        QVERIFY(!failure(zero));
        QCOMPARE(zero.result(), Value(0));
    }

    void clientResults()
    {
        HubConnection *c = connection(u"/hubs/test"_s);
        QVERIFY(connectNow(*c, 20000));

        ValueList asked;
        c->onInvoke("GetAnswer", [&](const ValueList &args) -> Value {
            asked.append(args);
            return map({{"answer", Value(args.value(0).toInteger() + 1)}});
        });
        QCOMPARE(call(*c, "AskClient", {Value("GetAnswer"), Value(20)}),
                 map({{"answer", Value(21)}}));
        QCOMPARE(asked, ValueList {Value(20)});

        c->onInvoke("GetNull", [](const ValueList &) { return Value(); });
        QCOMPARE(call(*c, "AskClient", {Value("GetNull"), Value("x")}), Value());

        c->onInvoke("Refuse",
                    [](const ValueList &) -> Value { throw std::runtime_error("not today"); });
        QCOMPARE(call(*c, "AskClient", {Value("Refuse"), Value()}),
                 Value("error: An unexpected error occurred invoking 'AskClient' on the server. "
                       "HubException: not today"));

        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"no handler for the server's invocation"_s));
        QCOMPARE(call(*c, "AskClient", {Value("Nobody"), Value(1)}),
                 Value("error: An unexpected error occurred invoking 'AskClient' on the server. "
                       "HubException: Client didn't provide a result."));
        QCOMPARE(c->state(), State::Connected);
    }

    // Stateful reconnect with ASP.NET Core (AllowStatefulReconnects): the socket is cut with a
    // stream running and an invocation in flight; the connection resumes with the same id and
    // every item arrives once, in order.
    void statefulResume()
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        if (transport != HubConnection::Transport::WebSockets)
            QSKIP("stateful reconnect is for WebSockets only");
        TcpProxy proxy(quint16(QUrl(m_baseUrl).port()));
        HubConnection *c
            = connection(u"/hubs/test"_s, std::make_shared<CountingRetryPolicy>(), proxy.port());
        QVERIFY(connectNow(*c, 20000));
        QCOMPARE(proxy.countRequests("useStatefulReconnect=true"), 1);
        const QString id = c->connectionId();
        QSignalSpy resumed(c, &HubConnection::resumed);
        QSignalSpy reconnecting(c, &HubConnection::reconnecting);
        QSignalSpy states(c, &HubConnection::stateChanged);

        std::unique_ptr<HubStream> stream(
            c->stream("Counter", {Value(8), Value(100), Value("stateful")}));
        QList<qint64> items;
        connect(stream.get(), &HubStream::item, this,
                [&](const Value &v) { items.append(v.toInteger()); });
        QSignalSpy completed(stream.get(), &HubStream::completed);
        QTRY_VERIFY_WITH_TIMEOUT(!items.isEmpty(), 10000);

        proxy.setMode(TcpProxy::Mode::Frozen);
        QFuture<Value> during = c->invoke("EchoString", {Value(u"sent into the void"_s)});
        proxy.dropAll();
        proxy.setMode(TcpProxy::Mode::Forward);

        QVERIFY2(resumed.wait(20000), qPrintable(c->errorString()));
        QVERIFY(settle(during));
        QVERIFY(!failure(during));
        QCOMPARE(during.result(), Value(u"sent into the void"_s));
        QVERIFY(completed.wait(15000) || completed.size() == 1);
        QCOMPARE(items, QList<qint64>({0, 1, 2, 3, 4, 5, 6, 7}));
        QCOMPARE(c->connectionId(), id);
        QCOMPARE(reconnecting.size(), 0);
        QCOMPARE(states.size(), 0);
        QCOMPARE(c->resumeCount(), 1);
        QCOMPARE(call(*c, "EchoLong", {Value(qint64(42))}), Value(qint64(42)));
    }

    void closeWithError()
    {
        auto retry = std::make_shared<CountingRetryPolicy>();
        HubConnection *c = connection(u"/hubs/test"_s, retry);
        QVERIFY(connectNow(*c, 20000));
        QSignalSpy errors(c, &HubConnection::errorOccurred);
        QSignalSpy disconnected(c, &HubConnection::disconnected);
        QSignalSpy reconnecting(c, &HubConnection::reconnecting);

        QTest::ignoreMessage(
            QtWarningMsg,
            QRegularExpression(u"connection ended: Server returned an error on close: bye"_s));
        QFuture<Value> close = c->invoke("CloseMe", {Value(false), Value("bye")});
        QVERIFY(disconnected.wait(15000));
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors.first().first().value<Error>(), Error::ServerClosed);
        QCOMPARE(c->error(), Error::ServerClosed);
        QCOMPARE(c->errorString(), u"Server returned an error on close: bye"_s);
        QCOMPARE(c->state(), State::Disconnected);
        QCOMPARE(reconnecting.size(), 0);
        QCOMPARE(retry->asked, 0);
        // the invocation never completes: the client fails it when the connection ends
        QVERIFY(settle(close));
        QCOMPARE(failure(close)->code, HubError::Code::ConnectionLost);
        QVERIFY2(failure(close)->message.contains(u"bye"_s), qPrintable(failure(close)->message));
    }

    void authorized()
    {
        HubConnection *c = connection(u"/hubs/auth"_s);
        c->setAccessTokenProvider([] { return readyToken(u"good-token"_s); });
        QVERIFY(connectNow(*c, 20000));
        QCOMPARE(call(*c, "WhoAmI"), Value("tester"));
        QFuture<QString> who = c->invokeAs<QString>("WhoAmI");
        QVERIFY(settle(who));
        QCOMPARE(who.result(), u"tester"_s);
    }

    void unauthorized()
    {
        for (const QString &token : {QString(), u"bad-token"_s}) {
            HubConnection *c = connection(u"/hubs/auth"_s);
            if (!token.isEmpty())
                c->setAccessTokenProvider([token] { return readyToken(token); });
            QTest::ignoreMessage(
                QtWarningMsg,
                QRegularExpression(u"could not connect: Failed to complete negotiation with the "
                                   u"server: Unauthorized: Status code '401'"_s));
            QSignalSpy errors(c, &HubConnection::errorOccurred);
            QSignalSpy connected(c, &HubConnection::connected);
            c->start();
            QTRY_COMPARE_WITH_TIMEOUT(c->state(), State::Disconnected, 20000);
            QCOMPARE(connected.size(), 0);
            QCOMPARE(errors.size(), 1);
            QCOMPARE(errors.first().first().value<Error>(), Error::Unauthorized);
            QCOMPARE(c->error(), Error::Unauthorized);
            // what the JavaScript client says (testhub.test.mjs), without its "Error: "
            QCOMPARE(c->errorString(),
                     u"Failed to complete negotiation with the server: Unauthorized: Status code "
                     u"'401'"_s);

            QFuture<Value> late = c->invoke("WhoAmI");
            QVERIFY(settle(late));
            QCOMPARE(failure(late)->code, HubError::Code::NotConnected);
        }
    }
};

QTEST_GUILESS_MAIN(tst_ClientAspNetCore)
#include "tst_client_aspnetcore.moc"
