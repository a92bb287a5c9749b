// SPDX-License-Identifier: MIT
// The backplane's messages against the bytes ASP.NET Core 10 published and accepted
// (captured vectors; ../shared/docs digest, docs/cluster.md): what we write equals what it
// writes, what it writes we read, and what is malformed is refused with a reason.
#include "cluster/backplaneprotocol.h"
#include "testutil.h"

#include <heliograph/protocol/hubprotocol.h>

#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

QByteArray str(QByteArrayView s)
{
    QByteArray out;
    out.append(char(0xa0 | s.size()));
    out.append(s.data(), s.size());
    return out;
}

} // namespace

class tst_BackplaneProtocol : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // V1: Clients.All.SendAsync("Recv", "all", 1) on Probe.Hubs.ProbeHub:all, 90 bytes.
    void allSendMatchesAspNetCore()
    {
        const QByteArray captured = hex(
            "92 90 82 a4 6a 73 6f 6e c4 31 7b 22 74 79 70 65 22 3a 31 2c 22 74 61 72 67 65 74 22 "
            "3a 22 52 65 63 76 22 2c 22 61 72 67 75 6d 65 6e 74 73 22 3a 5b 22 61 6c 6c 22 2c 31 "
            "5d 7d 1e ab 6d 65 73 73 61 67 65 70 61 63 6b c4 11 10 96 01 80 c0 a4 52 65 63 76 92 "
            "a3 61 6c 6c 01 90");
        QCOMPARE(captured.size(), 90);
        const HubMessage m = InvocationMessage {{}, {}, "Recv", {Value("all"), Value(1)}, {}};
        Backplane::Invocation inv;
        inv.payloads = {{"json", HubProtocol::json().serialize(m)},
                        {"messagepack", HubProtocol::messagePack().serialize(m)}};
        QCOMPARE(Backplane::write(inv).toHex(' '), captured.toHex(' '));

        auto read = Backplane::readInvocation(captured);
        QVERIFY2(read, qPrintable(read ? QString() : read.error().message));
        QVERIFY(read->excluded.isEmpty());
        QVERIFY(read->invocationId.isEmpty());
        QVERIFY(read->payloadFor("json"));
        QCOMPARE(*read->payloadFor("json"), HubProtocol::json().serialize(m));
        QCOMPARE(*read->payloadFor("messagepack"), HubProtocol::messagePack().serialize(m));
        QVERIFY(!read->payloadFor("JSON")); // names compare exactly
    }

    // V2: AllExcept("exA", "exB") starts 92 92 a3 "exA" a3 "exB" 82 ...
    void exclusions()
    {
        Backplane::Invocation inv;
        inv.excluded = {"exA", "exB"};
        inv.payloads = {{"json", "x"}};
        const QByteArray bytes = Backplane::write(inv);
        QVERIFY(bytes.startsWith(hex("92 92 a3 65 78 41 a3 65 78 42 81")));
        auto read = Backplane::readInvocation(bytes);
        QVERIFY(read);
        QCOMPARE(read->excluded, (QList<QByteArray> {"exA", "exB"}));
    }

    // V3: group command Add remoteConnX to g3, id 2, from vm_d3698b4b3ee740388ae571e5c32be726.
    void groupCommandMatchesAspNetCore()
    {
        const QByteArray captured
            = hex("95 02 d9 23 76 6d 5f 64 33 36 39 38 62 34 62 33 65 65 37 34 30 33 38 38 61 65 "
                  "35 37 31 65 35 63 33 32 62 65 37 32 36 01 a2 67 33 ab 72 65 6d 6f 74 65 43 6f "
                  "6e 6e 58");
        Backplane::GroupCommand cmd;
        cmd.id = 2;
        cmd.serverName = "vm_d3698b4b3ee740388ae571e5c32be726";
        cmd.action = Backplane::GroupCommand::Add;
        cmd.group = "g3";
        cmd.connectionId = "remoteConnX";
        QCOMPARE(Backplane::write(cmd).toHex(' '), captured.toHex(' '));
        auto read = Backplane::readGroupCommand(captured);
        QVERIFY(read);
        QCOMPARE(read->id, 2);
        QCOMPARE(read->serverName, cmd.serverName);
        QCOMPARE(read->action, quint8(1));
        QCOMPARE(read->group, QByteArray("g3"));
        QCOMPARE(read->connectionId, QByteArray("remoteConnX"));
        // Negative ids (the counter wrapped) and extra items are read.
        cmd.id = -5;
        QByteArray extra = Backplane::write(cmd);
        extra[0] = char(0x96);
        extra += str("extra");
        read = Backplane::readGroupCommand(extra);
        QVERIFY(read);
        QCOMPARE(read->id, -5);
    }

    void acks()
    {
        QCOMPARE(Backplane::write(Backplane::Ack {2}), hex("91 02"));
        QCOMPARE(Backplane::write(Backplane::Ack {300}), hex("91 cd 01 2c"));
        QCOMPARE(Backplane::write(Backplane::Ack {-1}), hex("91 ff"));
        QCOMPARE(Backplane::readAck(hex("91 cd 01 2c"))->id, 300);
        QCOMPARE(Backplane::readAck(hex("91 d2 80 00 00 00"))->id, qint32(0x80000000));
        // Wider than 32 bits: refused.
        QVERIFY(!Backplane::readAck(hex("91 cf 00 00 00 01 00 00 00 00")));
    }

    // V4: a client-result call: 4 items, the id twice, the caller's return channel.
    void clientResultCall()
    {
        const HubMessage m
            = InvocationMessage {{}, "zVg5KvVdKEmSCvTJxb7rrw", "GetValue", {Value("question")}, {}};
        Backplane::Invocation inv;
        inv.payloads = {{"json", HubProtocol::json().serialize(m)},
                        {"messagepack", HubProtocol::messagePack().serialize(m)}};
        inv.invocationId = "zVg5KvVdKEmSCvTJxb7rrw";
        inv.returnChannel
            = "Probe.Hubs.ProbeHub:internal:return:vm_d3698b4b3ee740388ae571e5c32be726";
        const QByteArray captured = hex(
            "94 90 82 a4 6a 73 6f 6e c4 60 7b 22 74 79 70 65 22 3a 31 2c 22 69 6e 76 6f 63 61 74 "
            "69 6f 6e 49 64 22 3a 22 7a 56 67 35 4b 76 56 64 4b 45 6d 53 43 76 54 4a 78 62 37 72 "
            "72 77 22 2c 22 74 61 72 67 65 74 22 3a 22 47 65 74 56 61 6c 75 65 22 2c 22 61 72 67 "
            "75 6d 65 6e 74 73 22 3a 5b 22 71 75 65 73 74 69 6f 6e 22 5d 7d 1e ab 6d 65 73 73 61 "
            "67 65 70 61 63 6b c4 2f 2e 96 01 80 b6 7a 56 67 35 4b 76 56 64 4b 45 6d 53 43 76 54 "
            "4a 78 62 37 72 72 77 a8 47 65 74 56 61 6c 75 65 91 a8 71 75 65 73 74 69 6f 6e 90 b6 "
            "7a 56 67 35 4b 76 56 64 4b 45 6d 53 43 76 54 4a 78 62 37 72 72 77 d9 47 50 72 6f 62 "
            "65 2e 48 75 62 73 2e 50 72 6f 62 65 48 75 62 3a 69 6e 74 65 72 6e 61 6c 3a 72 65 74 "
            "75 72 6e 3a 76 6d 5f 64 33 36 39 38 62 34 62 33 65 65 37 34 30 33 38 38 61 65 35 37 "
            "31 65 35 63 33 32 62 65 37 32 36");
        QCOMPARE(captured.size(), 263);
        QCOMPARE(Backplane::write(inv).toHex(' '), captured.toHex(' '));
        auto read = Backplane::readInvocation(captured);
        QVERIFY(read);
        QCOMPARE(read->invocationId, inv.invocationId);
        QCOMPARE(read->returnChannel, inv.returnChannel);
    }

    // V5: completions ASP.NET Core wrote as the owner of the connection.
    void completions()
    {
        const QByteArray json = hex(
            "92 a4 6a 73 6f 6e c4 40 7b 22 74 79 70 65 22 3a 33 2c 22 69 6e 76 6f 63 61 74 69 6f "
            "6e 49 64 22 3a 22 69 6e 76 2d 61 31 22 2c 22 72 65 73 75 6c 74 22 3a 22 61 6e 73 77 "
            "65 72 2d 66 72 6f 6d 2d 61 6c 69 63 65 22 7d 1e");
        auto c = Backplane::readCompletion(json);
        QVERIFY(c);
        QCOMPARE(c->protocol, QByteArray("json"));
        auto messages = HubProtocol::json().parseAll(c->completion);
        QVERIFY(messages && messages->size() == 1);
        QCOMPARE(messages->constFirst(),
                 HubMessage(CompletionMessage::withResult("inv-a1", Value("answer-from-alice"))));
        // What we write for the same answer is what ASP.NET wrote.
        QCOMPARE(Backplane::write(Backplane::Completion {
                     "json",
                     HubProtocol::json().serialize(
                         CompletionMessage::withResult("inv-a1", Value("answer-from-alice")))}),
                 json);

        const QByteArray mp
            = hex("92 ab 6d 65 73 73 61 67 65 70 61 63 6b c4 1c 1b 95 03 80 a6 69 6e 76 2d 62 31 "
                  "03 af 61 6e 73 77 65 72 2d 66 72 6f 6d 2d 62 6f 62");
        c = Backplane::readCompletion(mp);
        QVERIFY(c);
        QCOMPARE(c->protocol, QByteArray("messagepack"));
        messages = HubProtocol::messagePack().parseAll(c->completion);
        QVERIFY(messages && messages->size() == 1);
        QCOMPARE(messages->constFirst(),
                 HubMessage(CompletionMessage::withResult("inv-b1", Value("answer-from-bob"))));
    }

    // V6: what ASP.NET Core accepted from a crafted node: a 3-item invocation with an unknown
    // protocol key and a trailing string.
    void lenientReading()
    {
        QByteArray bytes = hex("93 90 83");
        bytes += str("json") + hex("c4 02") + "{}";
        bytes += hex("ab") + "messagepack" + hex("c4 01 00");
        bytes += hex("a9") + "x-unknown" + hex("c4 02 00 01");
        bytes += hex("aa") + "extra-item";
        auto read = Backplane::readInvocation(bytes);
        QVERIFY2(read, qPrintable(read ? QString() : read.error().message));
        QCOMPARE(read->payloads.size(), 3);
        QVERIFY(read->invocationId.isEmpty());
        // nil where a string is expected reads as empty, as .NET's reader does.
        read = Backplane::readInvocation(hex("92 91 c0 80"));
        QVERIFY(read);
        QCOMPARE(read->excluded, QList<QByteArray> {QByteArray()});
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QTest::newRow("empty") << QByteArray() << u"Unexpected end of the message."_s;
        QTest::newRow("one item") << hex("91 90") << u"Insufficient items in Invocation array."_s;
        QTest::newRow("not an array")
            << hex("a3 61 62 63") << u"Expected an array, got the MessagePack code 0xa3."_s;
        QTest::newRow("truncated bin")
            << hex("92 90 81 a4 6a 73 6f 6e c4 10 7b") << u"Unexpected end of the message."_s;
        QTest::newRow("huge length")
            << hex("92 90 81 a4 6a 73 6f 6e c6 ff ff ff ff") << u"Unexpected end of the message."_s;
        QTest::newRow("map of ints")
            << hex("92 90 81 01 02") << u"Expected a string, got the MessagePack code 0x01."_s;
        QTest::newRow("huge array header")
            << hex("92 dd ff ff ff ff") << u"Unexpected end of the message."_s;
    }
    void malformed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, error);
        auto read = Backplane::readInvocation(bytes);
        QVERIFY(!read);
        QCOMPARE(read.error().message, error);
    }

    void malformedOthers()
    {
        QCOMPARE(Backplane::readGroupCommand(hex("94 01 a1 73 01 a1 67")).error().message,
                 u"Insufficient items in GroupCommand array."_s);
        QCOMPARE(
            Backplane::readGroupCommand(hex("95 01 a1 73 cd 01 00 a1 67 a1 63")).error().message,
            u"The group action does not fit in a byte."_s);
        QCOMPARE(Backplane::readCompletion(hex("91 a4 6a 73 6f 6e")).error().message,
                 u"Insufficient items in CompletionMessage array."_s);
        QCOMPARE(Backplane::readAck(hex("90")).error().message,
                 u"Insufficient items in Ack array."_s);
    }
};

QTEST_GUILESS_MAIN(tst_BackplaneProtocol)
#include "tst_backplaneprotocol.moc"
