// SPDX-License-Identifier: MIT
// The storage contract, run against every backend.
#include "storage/storage.h"

#include <QtCore/QMutex>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QTest>

#include <algorithm>
#include <thread>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

class tst_Storage : public QObject {
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
        if (backend == u"memory"_s) {
            m_storage = createMemoryStorage();
        } else {
            auto s = createSqliteStorage(m_dir->path());
            QVERIFY2(s, qPrintable(s ? QString() : s.error().message));
            m_storage = std::move(*s);
        }
    }

    void cleanup()
    {
        m_storage.reset();
        m_dir.reset();
    }

    void sequencesPerUser()
    {
        for (int i = 1; i <= 3; ++i) {
            auto n = m_storage->appendNotification("t1", "alice", u"title %1"_s.arg(i), u"body"_s,
                                                   u"info"_s);
            QVERIFY(n);
            QCOMPARE(n->sequence, i);
            QCOMPARE(n->id.size(), 22);
        }
        // Another user and the same user in another tenant have their own sequences.
        QCOMPARE(m_storage->appendNotification("t1", "bob", u"x"_s, {}, {})->sequence, 1);
        QCOMPARE(m_storage->appendNotification("t2", "alice", u"x"_s, {}, {})->sequence, 1);

        auto after = m_storage->notificationsAfter("t1", "alice", 1, 100);
        QVERIFY(after);
        QCOMPARE(after->size(), 2);
        QCOMPARE(after->at(0).sequence, 2);
        QCOMPARE(after->at(0).title, u"title 2"_s);
        QCOMPARE(after->at(1).sequence, 3);
        QCOMPARE(m_storage->notificationsAfter("t1", "alice", 3, 100)->size(), 0);
        QCOMPARE(m_storage->notificationsAfter("t1", "alice", 0, 2)->size(), 2); // limit
        // Since a time: everything created at or after it.
        const QDateTime first
            = m_storage->notificationsAfter("t1", "alice", 0, 1)->first().createdAt;
        QCOMPARE(m_storage->notificationsSince("t1", "alice", first, 100)->size(), 3);
        QCOMPARE(m_storage->notificationsSince("t1", "alice", first.addSecs(3600), 100)->size(), 0);
    }

    // History pages: newest first, below a sequence, each (tenant, user) on its own.
    void historyPagesNewestFirst()
    {
        for (int i = 1; i <= 5; ++i)
            QVERIFY(m_storage->appendNotification("t1", "alice", u"n%1"_s.arg(i), {}, {}));
        QVERIFY(m_storage->appendNotification("t1", "bob", u"bob's"_s, {}, {}));
        QVERIFY(m_storage->appendNotification("t2", "alice", u"other tenant"_s, {}, {}));
        const auto sequences = [](const QList<StoredNotification> &page) {
            QList<qint64> out;
            for (const StoredNotification &n : page)
                out.append(n.sequence);
            return out;
        };
        auto newest = m_storage->notificationsBefore("t1", "alice", 0, 2);
        QVERIFY(newest);
        QCOMPARE(sequences(*newest), (QList<qint64> {5, 4}));
        QCOMPARE(newest->first().title, u"n5"_s);
        QCOMPARE(sequences(*m_storage->notificationsBefore("t1", "alice", 4, 2)),
                 (QList<qint64> {3, 2}));
        QCOMPARE(sequences(*m_storage->notificationsBefore("t1", "alice", 2, 2)),
                 (QList<qint64> {1}));
        QCOMPARE(m_storage->notificationsBefore("t1", "alice", 1, 2)->size(), 0);
        QCOMPARE(m_storage->notificationsBefore("t1", "alice", -1, 100)->size(), 5);
        QCOMPARE(m_storage->notificationsBefore("t1", "bob", 0, 100)->size(), 1);
        QCOMPARE(m_storage->notificationsBefore("t2", "alice", 0, 100)->first().title,
                 u"other tenant"_s);
        QCOMPARE(m_storage->notificationsBefore("t2", "carol", 0, 100)->size(), 0);
    }

    void concurrentAppendsNeverDuplicateOrSkip()
    {
        constexpr int Threads = 4, PerThread = 50;
        // std::thread, not QThread: joining is visible to ThreadSanitizer, QThread::wait() is not.
        std::vector<std::thread> threads;
        QMutex mutex;
        QList<qint64> sequences;
        QList<qint64> versions;
        for (int t = 0; t < Threads; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < PerThread; ++i) {
                    auto n = m_storage->appendNotification("t1", "alice", u"n"_s, {}, {});
                    auto v = m_storage->appendPatch("t1", "doc", "{}", "alice");
                    QMutexLocker lock(&mutex);
                    sequences.append(n ? n->sequence : -1);
                    versions.append(v ? *v : -1);
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        std::sort(sequences.begin(), sequences.end());
        std::sort(versions.begin(), versions.end());
        for (int i = 0; i < Threads * PerThread; ++i) {
            QCOMPARE(sequences[i], i + 1);
            QCOMPARE(versions[i], i + 1);
        }
        QCOMPARE(*m_storage->documentVersion("t1", "doc"), qint64(Threads * PerThread));
    }

    void documents()
    {
        QCOMPARE(*m_storage->documentVersion("t1", "d"), 0);
        QCOMPARE(*m_storage->appendPatch("t1", "d", R"({"op":1})", "alice"), 1);
        QCOMPARE(*m_storage->appendPatch("t1", "d", R"({"op":2})", "bob"), 2);
        QCOMPARE(*m_storage->appendPatch("t2", "d", R"({"op":9})", "eve"), 1); // tenant-scoped
        auto since = m_storage->patchesSince("t1", "d", 1, 100);
        QVERIFY(since);
        QCOMPARE(since->size(), 1);
        QCOMPARE(since->first().version, 2);
        QCOMPARE(since->first().patchJson, QByteArray(R"({"op":2})"));
        QCOMPARE(since->first().authorId, QByteArray("bob"));
        QCOMPARE(*m_storage->documentVersion("t1", "d"), 2);
    }

    void lastSeenAndAudit()
    {
        QCOMPARE(m_storage->lastSeen("t1", "alice")->has_value(), false);
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(1700000000123, Qt::UTC);
        QVERIFY(m_storage->setLastSeen("t1", "alice", at));
        QCOMPARE(m_storage->lastSeen("t1", "alice")->value(), at);

        const QDateTime start = QDateTime::currentDateTimeUtc().addSecs(-1);
        auto e1 = m_storage->appendAudit("t1", "admin", "BroadcastSystemAlert", u"hello"_s);
        auto e2 = m_storage->appendAudit("t2", "admin", "Disconnect", u"c1"_s);
        QVERIFY(e1 && e2);
        QVERIFY(e2->id > e1->id);
        auto events = m_storage->auditSince("t1", start, 100);
        QVERIFY(events);
        QCOMPARE(events->size(), 1);
        QCOMPARE(events->first().action, QByteArray("BroadcastSystemAlert"));
        QCOMPARE(events->first().details, u"hello"_s);
    }

    void retention()
    {
        for (int i = 0; i < 5; ++i)
            QVERIFY(m_storage->appendNotification("t1", "alice", u"n%1"_s.arg(i), {}, {}));
        RetentionPolicy cap {24 * 3600, 3};
        QCOMPARE(*m_storage->prune(cap, QDateTime::currentDateTimeUtc()), 2);
        auto left = m_storage->notificationsAfter("t1", "alice", 0, 100);
        QCOMPARE(left->size(), 3);
        QCOMPARE(left->first().sequence, 3); // the newest are kept
        // Sequences never restart after pruning.
        QCOMPARE(m_storage->appendNotification("t1", "alice", u"n"_s, {}, {})->sequence, 6);
        RetentionPolicy age {3600, 1000};
        QCOMPARE(*m_storage->prune(age, QDateTime::currentDateTimeUtc().addSecs(7200)), 4);
        QCOMPARE(m_storage->notificationsAfter("t1", "alice", 0, 100)->size(), 0);
        QVERIFY(m_storage->isReady());
    }

    void survivesReopen()
    {
        QFETCH_GLOBAL(QString, backend);
        if (backend != u"sqlite"_s)
            return; // memory storage is not meant to survive
        QCOMPARE(m_storage->appendNotification("t1", "alice", u"a"_s, {}, {})->sequence, 1);
        m_storage.reset();
        auto reopened = createSqliteStorage(m_dir->path());
        QVERIFY(reopened);
        QCOMPARE((*reopened)->appendNotification("t1", "alice", u"b"_s, {}, {})->sequence, 2);
        QCOMPARE((*reopened)->notificationsAfter("t1", "alice", 0, 10)->size(), 2);
    }

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Storage> m_storage;
};

QTEST_GUILESS_MAIN(tst_Storage)
#include "tst_storage.moc"
