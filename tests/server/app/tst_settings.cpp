// SPDX-License-Identifier: MIT
#include "app/serverapp.h"
#include "app/settings.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

/// Sets an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const QByteArray &name, const QByteArray &value)
        : m_name(name)
    {
        qputenv(name.constData(), value);
    }
    ~ScopedEnv() { qunsetenv(m_name.constData()); }

private:
    QByteArray m_name;
};

} // namespace

class tst_Settings : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyRowIsComplete()
    {
        QSet<QString> names;
        for (const Setting &s : serveSettings()) {
            const QString name = QString::fromLatin1(s.name);
            QVERIFY2(!name.isEmpty() && s.apply, qPrintable(name));
            QVERIFY2(*s.help && *s.defaultValue, qPrintable(name));
            QVERIFY2(s.isSwitch == !*s.valueName, qPrintable(name));
            QVERIFY2(!names.contains(name), qPrintable(name));
            names.insert(name);
            QCOMPARE(findSetting(name), &s);
        }
        QVERIFY(!findSetting(u"no-such-setting"_s));
        QCOMPARE(findSetting(u"max-connections-per-user"_s)->environmentVariable(),
                 u"HELIOGRAPH_MAX_CONNECTIONS_PER_USER"_s);
    }

    /// The same value through each source lands in the same field; flags beat the environment,
    /// which beats the config file.
    void sourcesAndPrecedence()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString config = dir.filePath(u"config.json"_s);
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"max-connections-per-user\": 3, \"keep-alive\": \"2.5\",\n"
                "\"allowed-origins\": [\"https://a.example\", \"https://b.example\"],\n"
                "\"bench-hub\": true, \"access-token-lifetime\": 60}");
        f.close();

        ServeOptions fromFile;
        QString error;
        QVERIFY2(parseServeOptions({u"--config"_s, config}, fromFile, error), qPrintable(error));
        QCOMPARE(fromFile.maxConnectionsPerUser, 3);
        QCOMPARE(fromFile.hub.keepAliveInterval, std::chrono::milliseconds(2500));
        QCOMPARE(fromFile.allowedOrigins,
                 (QList<QByteArray> {"https://a.example", "https://b.example"}));
        QVERIFY(fromFile.benchHub);
        QCOMPARE(fromFile.auth.accessTokenLifetime, std::chrono::seconds(60));

        ScopedEnv env("HELIOGRAPH_MAX_CONNECTIONS_PER_USER", "4");
        ServeOptions fromEnv;
        QVERIFY2(parseServeOptions({u"--config"_s, config}, fromEnv, error), qPrintable(error));
        QCOMPARE(fromEnv.maxConnectionsPerUser, 4);

        ServeOptions fromFlag;
        QVERIFY2(parseServeOptions({u"--config"_s, config, u"--max-connections-per-user=5"_s},
                                   fromFlag, error),
                 qPrintable(error));
        QCOMPARE(fromFlag.maxConnectionsPerUser, 5);
        ServeOptions spaced;
        QVERIFY2(parseServeOptions({u"--max-connections-per-user"_s, u"6"_s}, spaced, error),
                 qPrintable(error));
        QCOMPARE(spaced.maxConnectionsPerUser, 6);
    }

    void switches()
    {
        ServeOptions o;
        QString error;
        QVERIFY2(parseServeOptions({u"--bench-hub"_s, u"--memory"_s, u"--demo"_s}, o, error),
                 qPrintable(error));
        QVERIFY(o.benchHub);
        QVERIFY(o.memoryStorage);
        QVERIFY(o.auth.demo);
        ServeOptions off;
        QVERIFY2(parseServeOptions({u"--bench-hub=false"_s}, off, error), qPrintable(error));
        QVERIFY(!off.benchHub);
        ServeOptions bad;
        QVERIFY(!parseServeOptions({u"--bench-hub=perhaps"_s}, bad, error));
        QCOMPARE(error, u"invalid value for bench-hub: 'perhaps'"_s);
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("error");
        QTest::newRow("unknown") << QStringList {u"--no-such-setting"_s, u"1"_s}
                                 << u"unknown setting 'no-such-setting'"_s;
        QTest::newRow("missing value")
            << QStringList {u"--threads"_s} << u"--threads needs a value"_s;
        QTest::newRow("not a number") << QStringList {u"--max-connections"_s, u"many"_s}
                                      << u"invalid value for max-connections: 'many'"_s;
        QTest::newRow("negative limit") << QStringList {u"--max-connections-per-user"_s, u"-1"_s}
                                        << u"invalid value for max-connections-per-user: '-1'"_s;
        QTest::newRow("zero lifetime") << QStringList {u"--access-token-lifetime"_s, u"0"_s}
                                       << u"invalid value for access-token-lifetime: '0'"_s;
        QTest::newRow("address") << QStringList {u"--listen"_s, u"nowhere"_s}
                                 << u"--listen expects HOST:PORT, got 'nowhere'"_s;
        QTest::newRow("storage") << QStringList {u"--storage"_s, u"postgres"_s}
                                 << u"storage must be sqlite or memory"_s;
        QTest::newRow("key case") << QStringList {u"--messagepack-key-case"_s, u"snake"_s}
                                  << u"messagepack-key-case must be camel or pascal"_s;
        QTest::newRow("two key sources")
            << QStringList {u"--jwt-secret"_s, u"0123456789abcdef0123456789abcdef"_s,
                            u"--jwt-public-key"_s, u"/nonexistent.pem"_s}
            << u"--jwt-secret and --jwt-public-key exclude each other"_s;
        QTest::newRow("positional") << QStringList {u"extra"_s} << u"unexpected argument 'extra'"_s;
    }
    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, error);
        ServeOptions o;
        QString got;
        QVERIFY(!parseServeOptions(args, o, got));
        QCOMPARE(got, error);
    }

    void environmentErrorNamesTheVariable()
    {
        ScopedEnv env("HELIOGRAPH_THREADS", "lots");
        ServeOptions o;
        QString error;
        QVERIFY(!parseServeOptions({}, o, error));
        QCOMPARE(error, u"HELIOGRAPH_THREADS: invalid value for threads: 'lots'"_s);
    }

    void helpListsEverySetting()
    {
        const QString help = settingsHelp();
        for (const Setting &s : serveSettings()) {
            const QString name = QString::fromLatin1(s.name);
            QVERIFY2(help.contains(u"  --"_s + name), qPrintable(name));
            QVERIFY2(help.contains(s.environmentVariable()), qPrintable(name));
        }
        QVERIFY(!help.contains(u'`'));
    }

    /// docs/configuration.md holds the generated tables verbatim: a setting added to the table
    /// without its docs (or docs edited by hand) fails here, with the table to paste.
    void documentationMatchesTheTable()
    {
        QFile doc(QStringLiteral(HELIOGRAPH_CONFIGURATION_DOC));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(doc.readAll());
        int missing = 0;
        for (const auto group : {Setting::Group::Server, Setting::Group::Tokens,
                                 Setting::Group::SignIn, Setting::Group::Cluster}) {
            const QString table = settingsMarkdown(group);
            if (!text.contains(table)) {
                qWarning().noquote() << "docs/configuration.md lacks this table:\n" << table;
                ++missing;
            }
        }
        QCOMPARE(missing, 0);
    }
};

QTEST_GUILESS_MAIN(tst_Settings)
#include "tst_settings.moc"
