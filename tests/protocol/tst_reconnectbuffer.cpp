// SPDX-License-Identifier: MIT
// ReconnectBuffer: stateful reconnect's bookkeeping, shared by HubConnection and the server's
// HubConnectionContext (both are also tested end to end against Microsoft's clients and server).
#include <heliograph/protocol/reconnectbuffer.h>

#include <QtTest/QTest>

using namespace Heliograph;

class tst_ReconnectBuffer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void numbersFromOneAndKeepsBytes()
    {
        ReconnectBuffer b;
        QCOMPARE(b.firstUnacknowledged(), 1);
        QCOMPARE(b.lastSent(), 0);
        const QByteArray first("first\x1e");
        QCOMPARE(b.append(first), 1);
        QCOMPARE(b.append(QByteArray("second\x1e")), 2);
        QCOMPARE(b.append(QByteArray("third\x1e")), 3);
        QCOMPARE(b.bufferedBytes(), qsizetype(6 + 7 + 6));
        QCOMPARE(b.firstUnacknowledged(), 1);
        QCOMPARE(b.unacknowledged().size(), qsizetype(3));
        // The bytes are shared with the caller's, not copied.
        QCOMPARE(b.unacknowledged().front().bytes.constData(), first.constData());
    }

    void acknowledgeDropsUpToTheId()
    {
        ReconnectBuffer b;
        for (int i = 0; i < 5; ++i)
            b.append(QByteArray(10, 'x'));
        QCOMPARE(b.acknowledge(0), 0);
        QCOMPARE(b.acknowledge(2), 2);
        QCOMPARE(b.firstUnacknowledged(), 3);
        QCOMPARE(b.bufferedBytes(), qsizetype(30));
        QCOMPARE(b.acknowledge(2), 0); // an old Ack again changes nothing
        QCOMPARE(b.acknowledge(99), 3); // more than was sent: everything
        QCOMPARE(b.bufferedBytes(), qsizetype(0));
        // Nothing kept: a Sequence after a resume names the next message.
        QCOMPARE(b.firstUnacknowledged(), 6);
        QCOMPARE(b.append(QByteArray("y")), 6);
    }

    void clearKeepsCounting()
    {
        ReconnectBuffer b;
        b.append(QByteArray("a"));
        b.append(QByteArray("b"));
        b.clear();
        QCOMPARE(b.bufferedBytes(), qsizetype(0));
        QVERIFY(b.unacknowledged().isEmpty());
        QCOMPARE(b.firstUnacknowledged(), 3);
        QCOMPARE(b.append(QByteArray("c")), 3);
    }

    void receiveTellsReplaysFromNewMessages()
    {
        ReconnectBuffer b;
        QVERIFY(!b.takeAckDue());
        QVERIFY(b.receive()); // 1
        QVERIFY(b.receive()); // 2
        QVERIFY(b.receive()); // 3
        QCOMPARE(b.latestReceived(), 3);
        QCOMPARE(b.takeAckDue(), std::optional<qint64>(3));
        QVERIFY(!b.takeAckDue()); // acknowledged already

        // The peer lost our Ack and resumes from 2: 2 and 3 come again, then 4 is new.
        QVERIFY(b.resetReceive(2));
        QVERIFY(!b.receive());
        QVERIFY(!b.receive());
        QVERIFY(b.receive());
        QCOMPARE(b.latestReceived(), 4);
        QCOMPARE(b.takeAckDue(), std::optional<qint64>(4));
    }

    void sequencePastWhatWasReceivedIsAnError()
    {
        ReconnectBuffer b;
        QVERIFY(b.receive());
        QVERIFY(b.receive());
        // The next one would be 3: the peer cannot resume from 4.
        QVERIFY(!b.resetReceive(4));
        QVERIFY(b.resetReceive(3)); // nothing lost, nothing repeated
        QVERIFY(b.receive());
        QCOMPARE(b.latestReceived(), 3);
    }

    /// Both directions at once, as a connection that resumes twice sees them.
    void resumeTwice()
    {
        ReconnectBuffer client;
        ReconnectBuffer server;
        auto send = [](ReconnectBuffer &from, ReconnectBuffer &to, int n, bool delivered) {
            for (int i = 0; i < n; ++i) {
                from.append(QByteArray("m"));
                if (delivered)
                    QVERIFY(to.receive());
            }
        };
        send(client, server, 3, true);
        send(client, server, 2, false); // lost with the socket
        if (auto ack = server.takeAckDue())
            client.acknowledge(*ack);
        QCOMPARE(client.firstUnacknowledged(), 4);
        // Resume: the client says Sequence 4 and sends 4 and 5 again.
        QVERIFY(server.resetReceive(client.firstUnacknowledged()));
        for (qsizetype i = 0; i < client.unacknowledged().size(); ++i)
            QVERIFY(server.receive());
        QCOMPARE(server.latestReceived(), 5);
        // Second loss: 6 arrives, the Ack for it does not; the replay of 6 is a duplicate.
        send(client, server, 1, true);
        QVERIFY(server.takeAckDue());
        QVERIFY(server.resetReceive(client.firstUnacknowledged())); // 4: nothing acknowledged since
        int fresh = 0;
        for (qsizetype i = 0; i < client.unacknowledged().size(); ++i)
            fresh += server.receive() ? 1 : 0;
        QCOMPARE(fresh, 0);
        QCOMPARE(server.latestReceived(), 6);
    }
};

QTEST_GUILESS_MAIN(tst_ReconnectBuffer)
#include "tst_reconnectbuffer.moc"
