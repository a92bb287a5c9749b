// SPDX-License-Identifier: MIT
// `heliograph-server user ...`: the built executable, run with QProcess on a temporary data
// folder; what it stored is read back through Storage.
#include "auth/passwordhasher.h"
#include "storage/storage.h"

#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

} // namespace

class tst_UserCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }

    void addListRemove()
    {
        Run r = user({u"add"_s, u"--username"_s, u"Zed"_s, u"--tenant"_s, u"acme"_s, u"--name"_s,
                      u"Zed Zebra"_s, u"--role"_s, u"Admin"_s, u"--role"_s, u"Viewer"_s,
                      u"--password-stdin"_s},
                     "stdin-password-1\n");
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("added zed"), r.out.constData());
        r = user({u"add"_s, u"--username"_s, u"yann"_s, u"--tenant"_s, u"globex"_s, u"--role"_s,
                  u"Editor"_s, u"--password"_s, u"argv-password-2"_s});
        QCOMPARE(r.exitCode, 0);

        // Stored as given: the hash verifies the password (the newline of stdin is not part of
        // it), the roles, tenant and name are there.
        {
            auto storage = createSqliteStorage(m_dir.path());
            QVERIFY(storage);
            auto zed = (*storage)->findUser("zed");
            QVERIFY(zed && *zed);
            QVERIFY(PasswordHasher::verify((*zed)->passwordHash, "stdin-password-1"));
            QVERIFY(!PasswordHasher::verify((*zed)->passwordHash, "stdin-password-1\n"));
            QVERIFY((*zed)->passwordHash.startsWith("$argon2id$v=19$m=1024,t=1,p=1$"));
            QCOMPARE((*zed)->roles, (QList<QByteArray> {"Admin", "Viewer"}));
            QCOMPARE((*zed)->tenant, "acme");
            QCOMPARE((*zed)->displayName, u"Zed Zebra"_s);
            auto yann = (*storage)->findUser("yann");
            QVERIFY(PasswordHasher::verify((*yann)->passwordHash, "argv-password-2"));
        }

        r = user({u"list"_s});
        QCOMPARE(r.exitCode, 0);
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith("USERNAME\tTENANT\tROLES"));
        QVERIFY2(lines[1].startsWith("yann\tglobex\tEditor\t"), lines[1].constData());
        QVERIFY2(lines[2].startsWith("zed\tacme\tAdmin,Viewer\t"), lines[2].constData());
        QVERIFY(lines[2].endsWith("\tactive\tZed Zebra"));
        QVERIFY(!r.out.contains("argon2"));
        QVERIFY(!r.out.contains("password"));

        r = user({u"passwd"_s, u"--username"_s, u"ZED"_s, u"--password-stdin"_s}, "new-password-3");
        QCOMPARE(r.exitCode, 0);
        r = user({u"disable"_s, u"--username"_s, u"zed"_s});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(user({u"list"_s}).out.contains("\tdisabled\tZed Zebra"));
        {
            auto storage = createSqliteStorage(m_dir.path());
            auto zed = (*storage)->findUser("zed");
            QVERIFY(PasswordHasher::verify((*zed)->passwordHash, "new-password-3"));
            QVERIFY((*zed)->disabled);
        }

        r = user({u"remove"_s, u"--username"_s, u"Zed"_s});
        QCOMPARE(r.exitCode, 0);
        r = user({u"list"_s});
        QVERIFY(!r.out.contains("zed"));
        QVERIFY(r.out.contains("yann"));
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("message");
        const QStringList add {u"add"_s, u"--username"_s, u"amy"_s, u"--tenant"_s, u"acme"_s};
        QTest::newRow("no subcommand") << QStringList {} << 2 << QByteArray("expected one of");
        QTest::newRow("unknown subcommand")
            << QStringList {u"rename"_s} << 2 << QByteArray("expected one of");
        QTest::newRow("no role") << (add + QStringList {u"--password"_s, u"long-enough"_s}) << 2
                                 << QByteArray("--role");
        QTest::newRow("unknown role")
            << (add + QStringList {u"--role"_s, u"Boss"_s, u"--password"_s, u"long-enough"_s}) << 2
            << QByteArray("Unknown role 'Boss'");
        QTest::newRow("no password")
            << (add + QStringList {u"--role"_s, u"Admin"_s}) << 2 << QByteArray("--password");
        QTest::newRow("two passwords") << (add
                                           + QStringList {u"--role"_s, u"Admin"_s, u"--password"_s,
                                                          u"long-enough"_s, u"--password-stdin"_s})
                                       << 2 << QByteArray("exactly one");
        QTest::newRow("short password")
            << (add + QStringList {u"--role"_s, u"Admin"_s, u"--password"_s, u"short"_s}) << 1
            << QByteArray("at least 8");
        QTest::newRow("bad username")
            << QStringList {u"add"_s,      u"--username"_s, u"amy smith"_s,
                            u"--tenant"_s, u"acme"_s,       u"--role"_s,
                            u"Admin"_s,    u"--password"_s, u"long-enough"_s}
            << 1 << QByteArray("username may only hold");
        QTest::newRow("remove unknown") << QStringList {u"remove"_s, u"--username"_s, u"nobody"_s}
                                        << 1 << QByteArray("no user 'nobody'");
        QTest::newRow("passwd unknown") << QStringList {u"passwd"_s, u"--username"_s, u"nobody"_s,
                                                        u"--password"_s, u"long-enough"_s}
                                        << 1 << QByteArray("no user 'nobody'");
        QTest::newRow("unknown flag") << QStringList {u"list"_s, u"--verbose"_s, u"1"_s} << 2
                                      << QByteArray("unknown option --verbose");
    }

    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, message);
        const Run r = user(args);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(message), r.err.constData());
        QVERIFY(!r.err.contains("long-enough")); // passwords are never echoed
    }

    void duplicate()
    {
        const QStringList add {u"add"_s,      u"--username"_s, u"dup"_s,
                               u"--tenant"_s, u"acme"_s,       u"--role"_s,
                               u"Viewer"_s,   u"--password"_s, u"long-enough"_s};
        QCOMPARE(user(add).exitCode, 0);
        QStringList again = add;
        again[2] = u"DUP"_s;
        const Run r = user(again);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("already exists"), r.err.constData());
    }

    /// `token` and `user` parse their options with QCommandLineParser: --help, unknown options,
    /// missing values and stray arguments are usage errors (exit 2) that name the command.
    void commandLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("out");
        QTest::addColumn<QByteArray>("err");
        const QString secret = u"0123456789abcdef0123456789abcdef"_s;
        QTest::newRow("user --help")
            << QStringList {u"user"_s, u"--help"_s} << 0
            << QByteArray("Usage: heliograph-server user add|passwd") << QByteArray();
        QTest::newRow("token --help") << QStringList {u"token"_s, u"-h"_s} << 0
                                      << QByteArray("--ttl <SECONDS>") << QByteArray();
        QTest::newRow("token unknown option")
            << QStringList {u"token"_s, u"--bogus"_s} << 2 << QByteArray()
            << QByteArray("token: unknown option --bogus");
        QTest::newRow("token no tenant") << QStringList {u"token"_s, u"--user"_s, u"a"_s} << 2
                                         << QByteArray() << QByteArray("--tenant");
        QTest::newRow("token bad ttl")
            << QStringList {u"token"_s, u"--user"_s, u"a"_s,        u"--tenant"_s, u"t"_s,
                            u"--ttl"_s, u"soon"_s,   u"--secret"_s, secret}
            << 2 << QByteArray() << QByteArray("--ttl must be positive");
        QTest::newRow("token stray argument")
            << QStringList {u"token"_s, u"--user"_s, u"a"_s, u"--tenant"_s, u"t"_s, u"extra"_s} << 2
            << QByteArray() << QByteArray("token: unexpected argument extra");
        QTest::newRow("token missing value")
            << QStringList {u"token"_s, u"--user"_s} << 2 << QByteArray() << QByteArray("--user");
        QTest::newRow("token") << QStringList {u"token"_s,    u"--user"_s, u"amy"_s,
                                               u"--tenant"_s, u"acme"_s,   u"--role"_s,
                                               u"Admin"_s,    u"--role"_s, u"Editor"_s,
                                               u"--secret"_s, secret}
                               << 0 << QByteArray("eyJ") << QByteArray();
        QTest::newRow("user stray argument")
            << QStringList {u"user"_s, u"list"_s, u"extra"_s} << 2 << QByteArray()
            << QByteArray("user list: unexpected argument extra");
    }

    void commandLine()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, out);
        QFETCH(QByteArray, err);
        const Run r = run(args);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.out.contains(out), r.out.constData());
        QVERIFY2(r.err.contains(err), r.err.constData());
        if (QTest::currentDataTag() == QByteArray("token")) {
            // A JWT: three base64url parts, the payload with both roles.
            const QList<QByteArray> parts = r.out.trimmed().split('.');
            QCOMPARE(parts.size(), 3);
            const QByteArray payload = QByteArray::fromBase64(
                parts[1], QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
            QVERIFY2(payload.contains("\"sub\":\"amy\""), payload.constData());
            QVERIFY2(payload.contains("Admin") && payload.contains("Editor"), payload.constData());
        }
    }

private:
    Run user(const QStringList &args, const QByteArray &stdinData = {})
    {
        QStringList all {u"user"_s};
        all += args;
        if (!args.isEmpty())
            all << u"--data"_s << m_dir.path();
        return run(all, stdinData);
    }

    Run run(const QStringList &all, const QByteArray &stdinData = {})
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        // Cheap hashing for the test (read like `serve` reads its settings).
        env.insert(u"HELIOGRAPH_PASSWORD_HASH_MEMORY"_s, u"1024"_s);
        env.insert(u"HELIOGRAPH_PASSWORD_HASH_ITERATIONS"_s, u"1"_s);
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(m_dir.path()); // `token` without --secret makes heliograph-data here
        p.start(QStringLiteral(HELIOGRAPH_SERVER_EXECUTABLE), all);
        if (!p.waitForStarted(30000))
            return {};
        p.write(stdinData);
        p.closeWriteChannel();
        if (!p.waitForFinished(60000))
            return {};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
                p.readAllStandardOutput(), p.readAllStandardError()};
    }

    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(tst_UserCli)
#include "tst_usercli.moc"
