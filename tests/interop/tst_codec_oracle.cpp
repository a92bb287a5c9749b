// SPDX-License-Identifier: MIT
// Checks our hub protocol codecs against Microsoft's: thousands of random messages are encoded
// by Heliograph, decoded and re-encoded by ASP.NET Core's JsonHubProtocol /
// MessagePackHubProtocol (the codec oracle), and compared: every message must decode to an
// equal message, and MessagePack with flat arguments must come back byte-identical.
// (Nested values are bound as `object` graphs, which MessagePack-CSharp re-encodes with
// fixed-width integers — `cc 27` for 39 — so only their meaning can be compared; JSON escaping
// may legitimately differ too.)
#include "messagegenerator.h"

#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Qt::StringLiterals;

namespace {
QByteArray describe(const HubMessage &m)
{
    return HubProtocol::json().serialize(m);
}
} // namespace

class tst_CodecOracle : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_dir.isValid(), "no temporary directory"); }

    void roundTripThroughMicrosoft_data()
    {
        QTest::addColumn<QByteArray>("protocol");
        QTest::addColumn<quint32>("seed");
        QTest::addColumn<int>("depth");
        const quint32 seed = QRandomGenerator::global()->generate();
        for (const char *proto : {"json", "messagepack"}) {
            QTest::addRow("%s flat fixed", proto) << QByteArray(proto) << quint32(20261128) << 1;
            QTest::addRow("%s nested fixed", proto) << QByteArray(proto) << quint32(20261128) << 4;
            QTest::addRow("%s flat random %u", proto, seed) << QByteArray(proto) << seed << 1;
            QTest::addRow("%s nested random %u", proto, seed) << QByteArray(proto) << seed << 4;
        }
    }

    void roundTripThroughMicrosoft()
    {
        QFETCH(QByteArray, protocol);
        QFETCH(quint32, seed);
        QFETCH(int, depth);
        const HubProtocol *proto = HubProtocol::find(protocol);
        QVERIFY(proto);

        Testing::MessageGenerator gen(seed, {depth, true});
        QList<HubMessage> messages;
        QList<qsizetype> offsets;
        QByteArray input;
        for (int i = 0; i < 3000; ++i) {
            messages.append(gen.message());
            offsets.append(input.size());
            proto->write(messages.last(), input);
        }
        const QString name = QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'_');
        const QString in = m_dir.filePath(name + u".in"_s);
        const QString out = m_dir.filePath(name + u".out"_s);
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(input);
        f.close();

        QProcess oracle;
        oracle.setProcessChannelMode(QProcess::MergedChannels);
        QSignalSpy finished(&oracle, &QProcess::finished);
        oracle.start(
            QStringLiteral(HELIOGRAPH_DOTNET),
            {QStringLiteral(HELIOGRAPH_CODEC_ORACLE), QString::fromLatin1(protocol), in, out});
        QVERIFY2(finished.wait(120000), "the codec oracle did not finish");
        const QByteArray log = oracle.readAll();
        QVERIFY2(oracle.exitStatus() == QProcess::NormalExit && oracle.exitCode() == 0,
                 log.constData());

        QFile o(out);
        QVERIFY(o.open(QIODevice::ReadOnly));
        const QByteArray output = o.readAll();

        auto decoded = proto->parseAll(output);
        QVERIFY2(decoded, qPrintable(decoded ? QString() : decoded.error().message));
        QCOMPARE(decoded->size(), messages.size());
        auto expected = proto->parseAll(input);
        QVERIFY(expected);
        for (qsizetype i = 0; i < messages.size(); ++i) {
            if (decoded->at(i) != expected->at(i)) {
                qWarning().noquote()
                    << "seed" << seed << "message" << i << "\n ours:  " << describe(expected->at(i))
                    << "\n .NET:  " << describe(decoded->at(i));
                QFAIL("Microsoft's codec read our message differently");
            }
        }
        if (protocol == "messagepack" && depth <= 1 && output != input) {
            // Locate the first message whose bytes differ, for a useful failure.
            QByteArray reencoded;
            for (qsizetype i = 0; i < messages.size(); ++i) {
                const QByteArray ours = proto->serialize(messages[i]);
                const QByteArray theirs = output.mid(reencoded.size(), ours.size());
                if (ours != theirs) {
                    qWarning().noquote()
                        << "seed" << seed << "message" << i << describe(messages[i])
                        << "\n ours:  " << ours.toHex(' ') << "\n .NET:  " << theirs.toHex(' ');
                    break;
                }
                reencoded += ours;
            }
            QFAIL("Microsoft's MessagePack encoding differs from ours byte-wise");
        }
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(tst_CodecOracle)
#include "tst_codec_oracle.moc"
