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
#include "auth/authservice.h"
#include "auth/passwordhasher.h"
#include "storage/storage.h"

#include <QtTest/QTest>

#include <atomic>

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

    void parametersOfAHash()
    {
        const auto p = PasswordHasher::parametersOf(
            "$argon2id$v=19$m=16,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc");
        QVERIFY(p);
        QCOMPARE(*p, (Argon2Parameters {16, 2, 1}));
        for (const QByteArray &bad :
             {QByteArray("$argon2i$v=19$m=16,t=2,p=1$c2FsdA$aGFzaA"),
              QByteArray("$argon2id$v=19$m=16,t=2$c2FsdA$aGFzaA"),
              QByteArray("$argon2id$v=19$m=x,t=2,p=1$c2FsdA$aGFzaA"), QByteArray("plain")})
            QVERIFY2(!PasswordHasher::parametersOf(bad), bad.constData());
        const PasswordHasher hasher({64, 1, 1});
        QVERIFY(!hasher.needsRehash(*hasher.hash("pw")));
        QVERIFY(hasher.needsRehash(*PasswordHasher::hashWithSalt("pw", "somesalt", {128, 1, 1})));
        QVERIFY(hasher.needsRehash("not a hash"));
    }

    // Issue 17, finding 9: stored hashes made with other parameters than the server's. Unknown
    // users are answered after a dummy verification at the stored hashes' cost, and a user's
    // hash moves to the server's parameters at a successful sign-in.
    void dummyCostFollowsStoredHashesAndSignInRehashes()
    {
        auto storage = createMemoryStorage();
        const Argon2Parameters stored {64, 1, 1};
        const Argon2Parameters current {256, 2, 1};
        const PasswordHasher old(stored);
        for (const QByteArray &name : {QByteArray("ann"), QByteArray("ben"), QByteArray("cid")})
            QVERIFY(addUser(*storage, old, name, "acme", {}, {"Viewer"},
                            QByteArray(name + "-password")));
        QVERIFY(addUser(*storage, PasswordHasher(current), "dee", "acme", {}, {"Viewer"},
                        "dee-password"));
        auto signer = JwtSigner::withSecret("tst_passwordhasher secret of 32 bytes or more");
        QVERIFY(signer);
        AuthOptions options;
        options.passwordHashing = current;
        options.hashingThreads = 1;
        AuthService auth(*storage, *signer, "issuer", {"audience"}, options);
        // three of four stored hashes use `stored`: the dummy costs what they cost
        QCOMPARE(auth.hasher().dummyParameters(), stored);

        std::atomic<int> outcome {0}; // 0 pending, 1 signed in, 2 refused
        auth.loginAsync("ann", "ann-password", "127.0.0.1",
                        [&](SignInResult<IssuedTokens> r) { outcome = r ? 1 : 2; });
        QTRY_VERIFY(outcome.load() != 0);
        QCOMPARE(outcome.load(), 1);
        const auto ann = storage->findUser("ann");
        QVERIFY(ann && *ann);
        QCOMPARE(PasswordHasher::parametersOf((*ann)->passwordHash), std::optional(current));
        QVERIFY(PasswordHasher::verify((*ann)->passwordHash, "ann-password"));
        const auto ben = storage->findUser("ben");
        QCOMPARE(PasswordHasher::parametersOf((*ben)->passwordHash), std::optional(stored));

        // a wrong password changes nothing
        outcome = 0;
        auth.loginAsync("ben", "wrong", "127.0.0.1",
                        [&](SignInResult<IssuedTokens> r) { outcome = r ? 1 : 2; });
        QTRY_VERIFY(outcome.load() != 0);
        QCOMPARE(outcome.load(), 2);
        QCOMPARE(PasswordHasher::parametersOf((*storage->findUser("ben"))->passwordHash),
                 std::optional(stored));
    }
};

QTEST_GUILESS_MAIN(tst_PasswordHasher)
#include "tst_passwordhasher.moc"
