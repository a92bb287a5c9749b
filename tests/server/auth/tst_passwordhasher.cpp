// SPDX-License-Identifier: MIT
// Argon2id password hashing (server/src/auth/passwordhasher): known answers, PHC format,
// random salts, verification, limits.
//
// Known answers: the Argon2id vectors of the reference implementation's own test suite
// (P-H-C/phc-winner-argon2, src/test.c of release 20171227: password "password", salt
// "somesalt", 32-byte tag, version 0x13), which its simple API reproduces (RFC 9106 section 5.3
// also needs a secret and associated data, which that API has no room for). Both strings were
// cross-checked with Debian's `argon2` command (same release):
//   echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e
#include "auth/passwordhasher.h"

#include <QtTest/QTest>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

class tst_PasswordHasher : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void knownAnswers_data()
    {
        QTest::addColumn<quint32>("memoryKiB");
        QTest::addColumn<quint32>("iterations");
        QTest::addColumn<quint32>("parallelism");
        QTest::addColumn<QByteArray>("phc");
        QTest::newRow("m=64MiB,t=2,p=1")
            << 65536u << 2u << 1u
            << QByteArray("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$"
                          "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc");
        QTest::newRow("m=256KiB,t=2,p=1")
            << 256u << 2u << 1u
            << QByteArray("$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$"
                          "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4");
        QTest::newRow("m=256KiB,t=2,p=2")
            << 256u << 2u << 2u
            << QByteArray("$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$"
                          "bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc");
    }

    void knownAnswers()
    {
        QFETCH(quint32, memoryKiB);
        QFETCH(quint32, iterations);
        QFETCH(quint32, parallelism);
        QFETCH(QByteArray, phc);
        auto h = PasswordHasher::hashWithSalt("password", "somesalt",
                                              {memoryKiB, iterations, parallelism});
        QVERIFY2(h, qPrintable(h ? QString() : h.error().message));
        QCOMPARE(*h, phc);
        QVERIFY(PasswordHasher::verify(phc, "password"));
        QVERIFY(!PasswordHasher::verify(phc, "passwore"));
        QVERIFY(!PasswordHasher::verify(phc, "password "));
        QVERIFY(!PasswordHasher::verify(phc, ""));
    }

    void hashHasFreshSaltAndTheParameters()
    {
        const PasswordHasher hasher({512, 2, 1});
        auto a = hasher.hash("correct horse battery staple");
        auto b = hasher.hash("correct horse battery staple");
        QVERIFY(a && b);
        QVERIFY(a->startsWith("$argon2id$v=19$m=512,t=2,p=1$"));
        QCOMPARE(a->count('$'), 5);
        QVERIFY(*a != *b); // different salts
        // 16-byte salt: 22 base64 characters; 32-byte tag: 43.
        const QList<QByteArray> parts = a->split('$');
        QCOMPARE(parts[4].size(), 22);
        QCOMPARE(parts[5].size(), 43);
        QVERIFY(PasswordHasher::verify(*a, "correct horse battery staple"));
        QVERIFY(PasswordHasher::verify(*b, "correct horse battery staple"));
        QVERIFY(!PasswordHasher::verify(*a, "correct horse battery stapler"));
        // Non-ASCII passwords are bytes (UTF-8).
        auto u = hasher.hash(u"pässwörd-日本"_s.toUtf8());
        QVERIFY(u && PasswordHasher::verify(*u, u"pässwörd-日本"_s.toUtf8()));
        QVERIFY(!PasswordHasher::verify(*u, u"passwörd-日本"_s.toUtf8()));
    }

    void defaultsFollowOwasp()
    {
        const PasswordHasher hasher;
        QCOMPARE(hasher.parameters().memoryKiB, 65536u);
        QCOMPARE(hasher.parameters().iterations, 3u);
        QCOMPARE(hasher.parameters().parallelism, 1u);
    }

    void rejectsOtherFormats_data()
    {
        QTest::addColumn<QByteArray>("phc");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("argon2i") << QByteArray("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$"
                                               "wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA");
        QTest::newRow("missing $") << QByteArray("$argon2id$v=19$m=256,t=2,p=1c29tZXNhbHQ$"
                                                 "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4");
        QTest::newRow("truncated tag") << QByteArray("$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$"
                                                     "nf65EOgLrQMR");
        QTest::newRow("bcrypt") << QByteArray(
            "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy");
        QTest::newRow("plain") << QByteArray("password");
    }

    void rejectsOtherFormats()
    {
        QFETCH(QByteArray, phc);
        QVERIFY(!PasswordHasher::verify(phc, "password"));
    }

    void limits()
    {
        QVERIFY(!PasswordHasher::checkParameters({4, 1, 1}).isEmpty()); // < 8 KiB per lane
        QVERIFY(!PasswordHasher::checkParameters({64, 0, 1}).isEmpty());
        QVERIFY(!PasswordHasher::checkParameters({64, 1, 0}).isEmpty());
        QVERIFY(!PasswordHasher::checkParameters({64, 1, 17}).isEmpty());
        QVERIFY(PasswordHasher::checkParameters({64, 1, 1}).isEmpty());
        QVERIFY(!PasswordHasher::hashWithSalt("pw", "short", {64, 1, 1})); // salt < 8 bytes
        const QByteArray huge(PasswordHasher::MaxPasswordSize + 1, 'x');
        QVERIFY(!PasswordHasher::hashWithSalt(huge, "somesalt", {64, 1, 1}));
        auto ok = PasswordHasher::hashWithSalt(huge.chopped(1), "somesalt", {64, 1, 1});
        QVERIFY(ok);
        QVERIFY(!PasswordHasher::verify(*ok, huge)); // refused before hashing
        // The dummy verification runs (and never panics) for any input.
        const PasswordHasher cheap({64, 1, 1});
        cheap.verifyDummy("anything");
        cheap.verifyDummy(huge);
    }
};

QTEST_GUILESS_MAIN(tst_PasswordHasher)
#include "tst_passwordhasher.moc"
