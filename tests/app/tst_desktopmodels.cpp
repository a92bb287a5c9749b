// SPDX-License-Identifier: MIT
// The desktop app's models (presence, document, notification filter, profiles) under
// QAbstractItemModelTester, and its Session against the real heliograph-server in-process:
// sign-in, refresh before expiry, wrong passwords, live notifications, the replay after an
// outage, presence joins and leaves, document catch-up, patches and version gaps.
#include "desktoptestsupport.h"
#include "documentmodel.h"
#include "notificationfilter.h"
#include "notificationmodel.h"
#include "presencemodel.h"
#include "profilemodel.h"
#include "session.h"

#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Desktop;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

QUrl baseUrl(quint16 port)
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(port));
}

QStringList column(const QAbstractItemModel &model, int role)
{
    QStringList out;
    for (int r = 0; r < model.rowCount(); ++r)
        out.append(model.index(r, 0).data(role).toString());
    return out;
}

} // namespace

class tst_DesktopModels : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;
    std::unique_ptr<Server::ServerApp> m_server;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_settings.isValid());
        isolateSettings(m_settings);
        m_server = startDesktopServer();
        QVERIFY(m_server);
    }
    void cleanupTestCase() { m_server.reset(); }

    void presenceModel()
    {
        PresenceModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setMe(u"bob"_s);
        model.replace({QVariantMap {{u"userId"_s, u"carol"_s},
                                    {u"displayName"_s, u"Carol"_s},
                                    {u"connections"_s, 2}},
                       QVariantMap {{u"userId"_s, u"alice"_s}, {u"displayName"_s, u"Alice"_s}}});
        QCOMPARE(column(model, PresenceModel::UserIdRole), (QStringList {u"alice"_s, u"carol"_s}));
        QCOMPARE(model.connectionCount(), 3);
        model.join(u"bob"_s, u"Bob"_s);
        QCOMPARE(column(model, PresenceModel::UserIdRole),
                 (QStringList {u"alice"_s, u"bob"_s, u"carol"_s}));
        QCOMPARE(model.index(1, 0).data(PresenceModel::IsMeRole).toBool(), true);
        model.join(u"carol"_s, u"Carol"_s); // known: keeps its count
        QCOMPARE(model.index(2, 0).data(PresenceModel::ConnectionsRole).toInt(), 2);
        model.leave(u"alice"_s);
        model.leave(u"nobody"_s);
        QCOMPARE(column(model, PresenceModel::UserIdRole), (QStringList {u"bob"_s, u"carol"_s}));
        // A full list updates, inserts and removes rows (no reset).
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.replace({QVariantMap {{u"userId"_s, u"dave"_s}, {u"displayName"_s, u"Dave"_s}},
                       QVariantMap {{u"userId"_s, u"carol"_s},
                                    {u"displayName"_s, u"Carol"_s},
                                    {u"connections"_s, 1}}});
        QCOMPARE(column(model, PresenceModel::UserIdRole), (QStringList {u"carol"_s, u"dave"_s}));
        QCOMPARE(model.connectionCount(), 2);
        QCOMPARE(resets.size(), 0);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void notificationFilter()
    {
        Qml::NotificationModel source;
        NotificationFilterModel filter;
        filter.setSourceModel(&source);
        QAbstractItemModelTester tester(&filter,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 1; i <= 6; ++i) {
            QVERIFY(source.add(QVariantMap {{u"id"_s, QString::number(i)},
                                            {u"title"_s, u"n%1"_s.arg(i)},
                                            {u"type"_s, i % 2 ? u"info"_s : u"alert"_s},
                                            {u"sequence"_s, i},
                                            {u"replayed"_s, i <= 2}}));
        }
        QCOMPARE(filter.types(), (QStringList {u"alert"_s, u"info"_s}));
        QCOMPARE(filter.count(), 6);
        QCOMPARE(filter.unreadCount(), 6);
        QCOMPARE(filter.replayedCount(), 2);
        filter.setTypeFilter(u"alert"_s);
        QCOMPARE(column(filter, Qml::NotificationModel::TitleRole),
                 (QStringList {u"n6"_s, u"n4"_s, u"n2"_s}));
        filter.markRead(0); // n6
        QCOMPARE(filter.unreadCount(), 5);
        filter.setUnreadOnly(true);
        QCOMPARE(column(filter, Qml::NotificationModel::TitleRole),
                 (QStringList {u"n4"_s, u"n2"_s}));
        filter.setTypeFilter({});
        QCOMPARE(filter.count(), 5);
        filter.markAllRead();
        QCOMPARE(filter.count(), 0);
        QCOMPARE(filter.unreadCount(), 0);
        filter.setUnreadOnly(false);
        QCOMPARE(filter.count(), 6);
    }

    void profiles()
    {
        {
            ProfileModel model;
            QAbstractItemModelTester tester(&model,
                                            QAbstractItemModelTester::FailureReportingMode::QtTest);
            while (model.count() > 0)
                model.remove(0);
            model.use(QUrl(u"http://a:1"_s), u"alice"_s);
            model.use(QUrl(u"http://b:2"_s), u"bob"_s);
            model.use(QUrl(u"http://a:1"_s), u"alice"_s); // moves to the top
            model.use(QUrl(u"not a url"_s), QString());
            QCOMPARE(column(model, ProfileModel::UsernameRole),
                     (QStringList {u"alice"_s, u"bob"_s}));
        }
        ProfileModel reloaded; // saved in QSettings
        QCOMPARE(column(reloaded, ProfileModel::UsernameRole),
                 (QStringList {u"alice"_s, u"bob"_s}));
        QCOMPARE(reloaded.get(1).value(u"url"_s).toUrl(), QUrl(u"http://b:2"_s));
        reloaded.remove(0);
        QCOMPARE(ProfileModel().count(), 1);
    }

    void signInAndRefresh()
    {
        // Access tokens of 3 s: the refresh (POST /auth/refresh) comes before they expire.
        auto server = startDesktopServer(3s);
        QVERIFY(server);
        Session session;
        session.auth()->setKeychainEnabled(false);
        QSignalSpy status(&session, &Session::statusChanged);
        session.signIn(baseUrl(server->port()), u"bob"_s, u"wrong password"_s);
        QTRY_COMPARE_WITH_TIMEOUT(session.status(), Session::SignedOut, 10'000);
        QCOMPARE(status.size(), 2); // SigningIn, SignedOut
        QCOMPARE(session.errorString(), u"Wrong username or password."_s);

        session.signIn(baseUrl(server->port()), u"bob"_s, u"demo-bob-pass"_s);
        QCOMPARE(session.status(), Session::SigningIn);
        QTRY_COMPARE_WITH_TIMEOUT(session.status(), Session::SignedIn, 10'000);
        QCOMPARE(session.userId(), u"bob"_s);
        QCOMPARE(session.tenant(), u"acme"_s);
        QCOMPARE(session.roles(), QStringList {u"Editor"_s});
        QVERIFY(session.canEdit());
        QVERIFY(!session.canAdminister());
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        QCOMPARE(session.connection()->transportName(), u"WebSockets"_s);
        QVERIFY(session.hubConnection()->roundTripTime() >= 0);

        const QDateTime firstExpiry = session.auth()->accessTokenExpiresAt();
        QVERIFY(firstExpiry.isValid());
        QTRY_VERIFY_WITH_TIMEOUT(session.auth()->accessTokenExpiresAt() > firstExpiry, 10'000);
        QVERIFY(QDateTime::currentDateTimeUtc() < firstExpiry.addSecs(1)); // before expiry
        QCOMPARE(session.status(), Session::SignedIn);

        session.signOut();
        QCOMPARE(session.status(), Session::SignedOut);
        QCOMPARE(session.hubConnection()->state(), HubConnection::State::Disconnected);
        QVERIFY(session.userId().isEmpty());
    }

    void notificationsLiveAndReplayed()
    {
        Session session;
        session.auth()->setKeychainEnabled(false);
        session.setDesktopNotifications(false);
        const QUrl url = baseUrl(m_server->port());
        session.signInWithToken(url, token("nina", "replay-t", {"Viewer"}));
        QCOMPARE(session.status(), Session::SignedIn);
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        QAbstractItemModelTester tester(session.notifications(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(pushNotification(m_server->port(), "replay-t", "nina", u"live one"_s));
        QTRY_COMPARE_WITH_TIMEOUT(session.notifications()->count(), 1, 10'000);
        QCOMPARE(session.notifications()->replayedCount(), 0);
        QCOMPARE(session.replayedSinceConnect(), 0);

        // An outage: the user goes away, two notifications are stored meanwhile.
        session.signOut();
        QVERIFY(
            pushNotification(m_server->port(), "replay-t", "nina", u"missed one"_s, u"alert"_s));
        QVERIFY(
            pushNotification(m_server->port(), "replay-t", "nina", u"missed two"_s, u"alert"_s));
        session.signInWithToken(url, token("nina", "replay-t", {"Viewer"}));
        // The two missed ones replayed (unread), and the one seen before from the history
        // (read).
        QTRY_COMPARE_WITH_TIMEOUT(session.notifications()->count(), 3, 10'000);
        QTRY_VERIFY(session.historyComplete());
        QCOMPARE(session.notifications()->replayedCount(), 2);
        QTRY_COMPARE(session.replayedSinceConnect(), 2);
        QCOMPARE(session.notifications()->types(), (QStringList {u"alert"_s, u"info"_s}));
        QCOMPARE(session.notifications()->unreadCount(), 2);
        QCOMPARE(session.notifications()->index(2, 0).data(Qml::NotificationModel::TitleRole),
                 u"live one"_s);
        QCOMPARE(session.notifications()->index(2, 0).data(Qml::NotificationModel::ReadRole), true);
    }

    // Issue 14, honest offline states: the server stops; the session says it is offline and
    // shows no round-trip time; "Retry now" connects at once when the server is back, instead
    // of waiting for the next automatic attempt, and what was missed is replayed.
    void offlineStatesAndRetryNow()
    {
        auto server = startDesktopServer();
        QVERIFY(server);
        const quint16 port = server->port();
        Session session;
        session.auth()->setKeychainEnabled(false);
        session.setDesktopNotifications(false);
        session.signInWithToken(baseUrl(port), token("otto", "offline-t", {"Viewer"}));
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        QVERIFY(!session.offline());

        server.reset(); // the server goes away
        QTRY_VERIFY_WITH_TIMEOUT(session.offline(), 10'000);
        // Not Connected: the status bar shows no round-trip time (no stale figure offline).
        QVERIFY(session.hubConnection()->state() != HubConnection::State::Connected);
        QVERIFY(session.status() == Session::SignedIn);
        // Wait for a long pause between automatic attempts (the next one 5 s or more away).
        QTRY_VERIFY_WITH_TIMEOUT(session.reconnectCountdown() >= 5, 20'000);

        server = startDesktopServer(std::chrono::seconds(900), port);
        QVERIFY(server);
        QVERIFY(pushNotification(port, "offline-t", "otto", u"while away"_s));
        session.retryNow();
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  3'000);
        QVERIFY(!session.offline());
        QTRY_COMPARE_WITH_TIMEOUT(session.notifications()->count(), 1, 10'000);
        QCOMPARE(session.notifications()->index(0, 0).data(Qml::NotificationModel::TitleRole),
                 u"while away"_s);
    }

    void presenceJoinsAndLeaves()
    {
        Session session;
        session.auth()->setKeychainEnabled(false);
        session.signInWithToken(baseUrl(m_server->port()), token("pia", "presence-t", {"Viewer"}));
        QAbstractItemModelTester tester(session.presence(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE_WITH_TIMEOUT(session.presence()->count(), 1, 10'000); // me
        QVERIFY(session.presence()->index(0, 0).data(PresenceModel::IsMeRole).toBool());

        HubConnection other(
            QUrl(u"http://127.0.0.1:%1/hubs/notifications"_s.arg(m_server->port())));
        const QString otherToken = token("quinn", "presence-t", {"Viewer"});
        other.setAccessTokenProvider([otherToken] { return readyToken(otherToken); });
        HubConnection second(other.url());
        second.setAccessTokenProvider([otherToken] { return readyToken(otherToken); });
        other.start();
        QTRY_COMPARE_WITH_TIMEOUT(session.presence()->count(), 2, 10'000);
        second.start();
        QTRY_COMPARE_WITH_TIMEOUT(session.presence()->connectionCount(), 3, 10'000);
        other.stop();
        second.stop();
        QTRY_COMPARE_WITH_TIMEOUT(session.presence()->count(), 1, 10'000);
        QCOMPARE(session.presence()->error(), QString());
    }

    void documentCatchUpPatchesAndGaps()
    {
        const QUrl url = baseUrl(m_server->port());
        HubConnection editor(QUrl(url.toString() + u"/hubs/notifications"_s));
        const QString editorToken = token("eve", "doc-t", {"Editor"});
        editor.setAccessTokenProvider([editorToken] { return readyToken(editorToken); });
        QSignalSpy connected(&editor, &HubConnection::connected);
        editor.start();
        QVERIFY(connected.wait(10'000));
        const auto send = [&](const QString &patch) -> qint64 {
            auto f = editor.invoke(
                "SendDocumentPatch",
                {Value::fromUtf8(QByteArrayLiteral("plan")), Value::fromUtf8(patch.toUtf8())});
            if (!QTest::qWaitFor([&] { return f.isFinished(); }, 10'000))
                return -1;
            return f.result().toInteger();
        };
        QCOMPARE(send(u"{\"n\":1}"_s), 1);
        QCOMPARE(send(u"{\"n\":2}"_s), 2);

        Session session;
        session.auth()->setKeychainEnabled(false);
        session.signInWithToken(url, token("finn", "doc-t", {"Editor"}));
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        DocumentModel *doc = session.document();
        QAbstractItemModelTester tester(doc,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        doc->join(u"plan"_s);
        QCOMPARE(doc->documentId(), u"plan"_s);
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 2, 10'000); // the catch-up on join
        QCOMPARE(doc->count(), 2);
        // The version can show before the catch-up has finished loading (seen under load).
        QTRY_VERIFY_WITH_TIMEOUT(!doc->isLoading(), 10'000);

        QCOMPARE(send(u"{\"n\":3}"_s), 3); // live
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 3, 10'000);
        QCOMPARE(doc->index(2, 0).data(DocumentModel::AuthorRole).toString(), u"eve"_s);
        QCOMPARE(doc->index(2, 0).data(DocumentModel::MineRole).toBool(), false);

        doc->sendPatch(u"{\"n\":4}"_s); // own
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 4, 10'000);
        QCOMPARE(doc->index(3, 0).data(DocumentModel::MineRole).toBool(), true);
        QCOMPARE(doc->errorString(), QString());

        QCOMPARE(send(u"{\"n\":5}"_s), 5);
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 5, 10'000);
        QCOMPARE(send(u"{\"n\":6}"_s), 6);
        QCOMPARE(send(u"{\"n\":7}"_s), 7);
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 7, 10'000);
        QVERIFY(!doc->gapDetected());
        // v8 is lost on the way to this client (its connection is not a member while it is
        // sent); v9 arrives live: a gap, filled from the server.
        HubConnection *hub = session.hubConnection();
        auto left = hub->invoke("LeaveDocument", {Value::fromUtf8(QByteArrayLiteral("plan"))});
        QTRY_VERIFY_WITH_TIMEOUT(left.isFinished(), 10'000);
        QCOMPARE(send(u"{\"n\":8}"_s), 8);
        auto joined = hub->invoke("JoinDocument", {Value::fromUtf8(QByteArrayLiteral("plan"))});
        QTRY_VERIFY_WITH_TIMEOUT(joined.isFinished(), 10'000);
        QCOMPARE(doc->version(), 7);
        QSignalSpy gap(doc, &DocumentModel::gapChanged);
        QCOMPARE(send(u"{\"n\":9}"_s), 9);
        QTRY_VERIFY_WITH_TIMEOUT(doc->gapDetected(), 10'000);
        QCOMPARE(gap.size(), 1);
        QCOMPARE(doc->gapText(), u"expected v8, received v9"_s);
        QTRY_COMPARE_WITH_TIMEOUT(doc->version(), 9, 10'000);
        QCOMPARE(doc->index(7, 0).data(DocumentModel::PatchRole).toString(), u"{\"n\":8}"_s);
        QCOMPARE(doc->index(8, 0).data(DocumentModel::VersionRole).toLongLong(), 9);
        QCOMPARE(doc->gapCount(), 1);

        // A Viewer may not patch: the error is shown, nothing is added.
        Session viewer;
        viewer.auth()->setKeychainEnabled(false);
        viewer.signInWithToken(url, token("vic", "doc-t", {"Viewer"}));
        QTRY_COMPARE_WITH_TIMEOUT(viewer.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        viewer.document()->join(u"plan"_s);
        QTRY_COMPARE_WITH_TIMEOUT(viewer.document()->version(), 9, 10'000);
        viewer.document()->sendPatch(u"{}"_s);
        QTRY_VERIFY_WITH_TIMEOUT(viewer.document()->errorString().contains(u"unauthorized"_s),
                                 10'000);
        QCOMPARE(viewer.document()->count(), 9);
        doc->leave();
        QCOMPARE(doc->count(), 0);
        QCOMPARE(doc->documentId(), QString());
    }
};

QTEST_MAIN(tst_DesktopModels)
#include "tst_desktopmodels.moc"
