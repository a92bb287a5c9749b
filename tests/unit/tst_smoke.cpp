#include <heliograph/client/convert.h>
#include <heliograph/client/handshake.h>
#include <heliograph/client/hubprotocol.h>
#include <heliograph/client/negotiate.h>

#include <QtTest/QTest>

using namespace Heliograph;

struct Notification {
    QString id;
    QString title;
    QDateTime createdAt;
    qint64 sequence = 0;
};
HELIOGRAPH_DESCRIBE(Notification, id, title, createdAt, sequence)

class tst_Smoke : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void basic()
    {
        InvocationMessage m { {}, "123", "Target", { Value(1), Value("Foo") }, {} };
        QCOMPARE(HubProtocol::json().serialize(m),
                 QByteArray("{\"type\":1,\"invocationId\":\"123\",\"target\":\"Target\",\"arguments\":[1,\"Foo\"]}\x1e"));
        const QByteArray mp = HubProtocol::messagePack().serialize(
                InvocationMessage { {}, "xyz", "method", { Value(42) }, {} });
        QCOMPARE(mp.toHex(' '), QByteArray("11 96 01 80 a3 78 79 7a a6 6d 65 74 68 6f 64 91 2a 90"));
        Notification n { QStringLiteral("a"), QStringLiteral("t"), QDateTime::fromSecsSinceEpoch(1704067200, Qt::UTC), 7 };
        Value v = toValue(n);
        auto back = fromValue<Notification>(v);
        QVERIFY(back);
        QCOMPARE(back->createdAt, n.createdAt);
        QCOMPARE(back->sequence, 7);
    }
};

QTEST_GUILESS_MAIN(tst_Smoke)
#include "tst_smoke.moc"
