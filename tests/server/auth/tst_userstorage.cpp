// SPDX-License-Identifier: MIT
// Users and refresh tokens in Storage, run against the memory and SQLite backends.
#include "storage/storage.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

QDateTime at(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

UserRecord user(const QByteArray &name, const QByteArray &tenant = "acme")
{
    return {name,
            tenant,
            u"Name of "_s + QString::fromUtf8(name),
            {"Editor", "Viewer"},
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            at(1'700'000'000'123),
            false};
}

constexpr qint64 T0 = 1'700'000'000'000;

} // namespace

class tst_UserStorage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("memory") << u"memory"_s;
        QTest::newRow("sqlite") << u"sqlite"_s;
    }

    void init()
    {
        QFETCH_GLOBAL(QString, backend);
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        QVERIFY(open());
    }

    void cleanup()
    {
        m_storage.reset();
        m_dir.reset();
    }

    void addFindList()
    {
        QCOMPARE(*m_storage->addUser(user("bob")), true);
        QCOMPARE(*m_storage->addUser(user("Alice")), true);
        // Usernames are unique in any letter case, across tenants.
        QCOMPARE(*m_storage->addUser(user("ALICE", "globex")), false);
        QCOMPARE(*m_storage->addUser(user("bob", "globex")), false);

        auto found = m_storage->findUser("aLiCe");
        QVERIFY(found && *found);
        UserRecord expected = user("Alice"); // the username in lower case, the rest as given
        expected.username = "alice";
        QCOMPARE(**found, expected);
        QVERIFY(!*m_storage->findUser("carol"));

        auto all = m_storage->users();
        QVERIFY(all);
        QCOMPARE(all->size(), 2);
        QCOMPARE(all->at(0).username, "alice"); // by username
        QCOMPARE(all->at(1).username, "bob");
        QCOMPARE(all->at(1).roles, (QList<QByteArray> {"Editor", "Viewer"}));
    }

    void updateAndRemove()
    {
        QVERIFY(*m_storage->addUser(user("alice")));
        UserRecord u = user("ALICE");
        u.displayName = u"Alice Liddell"_s;
        u.roles = {"Admin"};
        u.passwordHash = "$argon2id$new";
        u.disabled = true;
        u.createdAt = at(T0); // ignored: creation time never changes
        QCOMPARE(*m_storage->updateUser(u), true);
        UserRecord stored = **m_storage->findUser("alice");
        QCOMPARE(stored.displayName, u"Alice Liddell"_s);
        QCOMPARE(stored.roles, QList<QByteArray> {"Admin"});
        QCOMPARE(stored.passwordHash, "$argon2id$new");
        QCOMPARE(stored.disabled, true);
        QCOMPARE(stored.createdAt, user("alice").createdAt);
        QCOMPARE(*m_storage->updateUser(user("nobody")), false);

        // Removing a user removes its refresh tokens.
        QVERIFY(*m_storage->addRefreshToken({"h1", "alice", "f1", at(T0 + 1000), false}));
        QCOMPARE(*m_storage->removeUser("Alice"), true);
        QCOMPARE(*m_storage->removeUser("alice"), false);
        QVERIFY(!*m_storage->findUser("alice"));
        QVERIFY(!*m_storage->findRefreshToken("h1"));
    }

    void survivesReopen()
    {
        QFETCH_GLOBAL(QString, backend);
        if (backend == u"memory"_s)
            QSKIP("memory storage keeps nothing");
        QVERIFY(*m_storage->addUser(user("alice")));
        QVERIFY(*m_storage->addRefreshToken({"h1", "alice", "f1", at(T0 + 1000), false}));
        m_storage.reset();
        QVERIFY(open());
        QCOMPARE(**m_storage->findUser("alice"), user("alice"));
        RefreshTokenRecord expected {"h1", "alice", "f1", at(T0 + 1000), false};
        QCOMPARE(**m_storage->findRefreshToken("h1"), expected);
    }

    void rotation()
    {
        QVERIFY(*m_storage->addRefreshToken({"h1", "Alice", "fam", at(T0 + 60'000), false}));
        QCOMPARE(*m_storage->addRefreshToken({"h1", "bob", "x", at(T0), false}), false);

        auto r = m_storage->rotateRefreshToken("h1", "h2", at(T0 + 120'000), at(T0));
        QVERIFY(r);
        QCOMPARE(r->outcome, RefreshRotation::Rotated);
        QCOMPARE(r->username, "alice");
        QCOMPARE(r->familyId, "fam");
        QCOMPARE((*m_storage->findRefreshToken("h1"))->revoked, true);
        RefreshTokenRecord h2 {"h2", "alice", "fam", at(T0 + 120'000), false};
        QCOMPARE(**m_storage->findRefreshToken("h2"), h2);

        // A token of another family is not touched by what follows.
        QVERIFY(*m_storage->addRefreshToken({"other", "alice", "fam2", at(T0 + 60'000), false}));

        // h1 again: reuse, the whole family (h2 included) is revoked.
        r = m_storage->rotateRefreshToken("h1", "h3", at(T0 + 120'000), at(T0 + 1));
        QCOMPARE(r->outcome, RefreshRotation::Reused);
        QCOMPARE(r->username, "alice");
        QCOMPARE((*m_storage->findRefreshToken("h2"))->revoked, true);
        QVERIFY(!*m_storage->findRefreshToken("h3"));
        QCOMPARE((*m_storage->findRefreshToken("other"))->revoked, false);
        QCOMPARE(m_storage->rotateRefreshToken("h2", "h4", at(T0 + 120'000), at(T0))->outcome,
                 RefreshRotation::Reused);

        // Unknown and expired tokens change nothing.
        QCOMPARE(m_storage->rotateRefreshToken("nope", "h5", at(T0), at(T0))->outcome,
                 RefreshRotation::Unknown);
        QCOMPARE(m_storage->rotateRefreshToken("other", "h6", at(T0 + 120'000), at(T0 + 60'000))
                     ->outcome,
                 RefreshRotation::Expired);
        QVERIFY(!*m_storage->findRefreshToken("h6"));
        QCOMPARE((*m_storage->findRefreshToken("other"))->revoked, false);
        // One millisecond before expiry it still rotates.
        QCOMPARE(m_storage->rotateRefreshToken("other", "h7", at(T0 + 120'000), at(T0 + 59'999))
                     ->outcome,
                 RefreshRotation::Rotated);
    }

    void revokeAndPrune()
    {
        QVERIFY(*m_storage->addRefreshToken({"a1", "alice", "fa", at(T0 + 1000), false}));
        QVERIFY(*m_storage->addRefreshToken({"a2", "alice", "fb", at(T0 + 1000), false}));
        QVERIFY(*m_storage->addRefreshToken({"b1", "bob", "fc", at(T0 + 1000), false}));
        QCOMPARE(*m_storage->revokeRefreshFamily("fa"), 1);
        QCOMPARE(*m_storage->revokeRefreshFamily("fa"), 0);
        QCOMPARE(*m_storage->revokeUserRefreshTokens("ALICE"), 1); // a2; a1 was already
        QCOMPARE((*m_storage->findRefreshToken("b1"))->revoked, false);

        QVERIFY(*m_storage->addRefreshToken({"late", "bob", "fd", at(T0 + 5000), false}));
        QVERIFY(m_storage->prune(RetentionPolicy {}, at(T0 + 2000)));
        QVERIFY(!*m_storage->findRefreshToken("a1"));
        QVERIFY(!*m_storage->findRefreshToken("b1"));
        QVERIFY(*m_storage->findRefreshToken("late"));
    }

private:
    bool open()
    {
        QFETCH_GLOBAL(QString, backend);
        if (backend == u"memory"_s) {
            m_storage = createMemoryStorage();
            return true;
        }
        auto s = createSqliteStorage(m_dir->path());
        if (!s)
            return false;
        m_storage = std::move(*s);
        return true;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Storage> m_storage;
};

QTEST_GUILESS_MAIN(tst_UserStorage)
#include "tst_userstorage.moc"
