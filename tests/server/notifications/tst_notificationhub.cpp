// SPDX-License-Identifier: MIT
// The notification hub contract, in-process over fake transports.
#include "fakehubtransport.h"
#include "notifications/notificationhub.h"
#include "signalr/hubconnectioncontext.h"
#include "signalr/lifetimemanager.h"

#include <heliograph/protocol/handshake.h>

#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;
using Heliograph::Testing::FakeTransport;

namespace {

struct Client {
    std::unique_ptr<FakeTransport> transport = std::make_unique<FakeTransport>();
    std::unique_ptr<HubConnectionContext> connection;

    QList<InvocationMessage> invocations(QByteArrayView target = {}) const
    {
        QList<InvocationMessage> out;
        for (const HubMessage &m : transport->messages(HubProtocol::json()))
            if (auto *inv = std::get_if<InvocationMessage>(&m))
                if (target.isEmpty() || inv->target == target)
                    out.append(*inv);
        return out;
    }
    Value call(QByteArray target, ValueList args)
    {
        static int id = 0;
        const QByteArray invocationId = QByteArray::number(++id);
        connection->receive(HubProtocol::json().serialize(
            InvocationMessage {{}, invocationId, std::move(target), std::move(args), {}}));
        for (const HubMessage &m : transport->messages(HubProtocol::json()))
            if (auto *c = std::get_if<CompletionMessage>(&m);
                c && c->invocationId == invocationId) {
                if (c->kind == CompletionMessage::Kind::Error)
                    return Value(QString(u"error: "_s + QString::fromUtf8(c->error)));
                return c->result;
            }
        return Value("no completion");
    }
    std::optional<CloseMessage> closeMessage() const
    {
        for (const HubMessage &m : transport->messages(HubProtocol::json()))
            if (auto *c = std::get_if<CloseMessage>(&m))
                return *c;
        return std::nullopt;
    }
};

} // namespace

class tst_NotificationHub : public QObject {
    Q_OBJECT

    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<HubLifetimeManager> m_lifetime;
    std::unique_ptr<NotificationService> m_service;
    std::unique_ptr<NotificationHub> m_hub;
    HubOptions m_options;

    Client connect(QByteArray tenant, QByteArray user, QList<QByteArray> roles = {},
                   std::optional<qint64> lastSequence = {})
    {
        static int n = 0;
        Client c;
        Principal p;
        p.userId = user;
        p.tenantId = tenant;
        p.name = QString::fromUtf8(user).toUpper();
        p.roles = std::move(roles);
        ConnectionInfo info;
        if (lastSequence)
            info.query.append({"lastSequence", QByteArray::number(*lastSequence)});
        c.connection = std::make_unique<HubConnectionContext>(
            *m_hub, *m_lifetime, m_options, "c" + QByteArray::number(++n), p, info);
        c.connection->attachTransport(c.transport.get());
        c.connection->receive(Handshake::writeRequest({"json", 1}));
        return c;
    }

private Q_SLOTS:
    void init()
    {
        m_storage = createMemoryStorage();
        m_lifetime = std::make_unique<HubLifetimeManager>();
        m_service = std::make_unique<NotificationService>(*m_storage, *m_lifetime);
        m_hub = std::make_unique<NotificationHub>(*m_service, NotificationHubOptions {1000});
    }

    void acknowledgementAndPresence()
    {
        Client tab1 = connect("t1", "alice");
        const auto acks = tab1.invocations("ConnectionAcknowledged");
        QCOMPARE(acks.size(), 1);
        QCOMPARE(acks.first().arguments[0].utf8(), tab1.connection->connectionId());
        // serverTime: a timestamp (an ISO 8601 string over JSON)
        QVERIFY(qAbs(acks.first().arguments[1].toDateTime().secsTo(QDateTime::currentDateTimeUtc()))
                < 60);
        // The acknowledgement comes first.
        QCOMPARE(tab1.invocations().first().target, QByteArray("ConnectionAcknowledged"));

        Client bob = connect("t1", "bob");
        Client eve = connect("t2", "eve");
        QCOMPARE(bob.invocations("UserJoined").size(), 1); // bob himself
        Client tab2 = connect("t1", "alice"); // a second tab: no new UserJoined
        QCOMPARE(bob.invocations("UserJoined").size(), 1);
        QCOMPARE(eve.invocations("UserJoined").size(), 1); // only eve's own, never t1's

        QCOMPARE(
            bob.call("GetOnlineUsers", {}),
            toValue(QList<OnlineUserDto> {{u"alice"_s, u"ALICE"_s, 2}, {u"bob"_s, u"BOB"_s, 1}}));

        tab1.connection->close(); // one of two tabs: alice is still online
        QCOMPARE(bob.invocations("UserLeft").size(), 0);
        tab2.connection->transportEnded(); // the last tab
        const auto left = bob.invocations("UserLeft");
        QCOMPARE(left.size(), 1);
        QCOMPARE(left.first().arguments, ValueList {Value("alice")});
        QCOMPARE(eve.invocations("UserLeft").size(), 0);
        QVERIFY(m_storage->lastSeen("t1", "alice")->has_value());
    }

    void notificationsReachEveryTabOfTheUserOnly()
    {
        Client a1 = connect("t1", "alice");
        Client a2 = connect("t1", "alice");
        Client bob = connect("t1", "bob");
        Client aliceElsewhere = connect("t2", "alice"); // same id, other tenant
        auto n = m_service->push("t1", "alice", u"Hi"_s, u"body"_s, u"info"_s);
        QVERIFY(n);
        for (const Client *c : {&a1, &a2}) {
            const auto got = c->invocations("ReceiveNotification");
            QCOMPARE(got.size(), 1);
            auto dto = fromValue<NotificationDto>(got.first().arguments[0]);
            QVERIFY(dto);
            QCOMPARE(dto->sequence, 1);
            QCOMPARE(dto->id, QString::fromUtf8(n->id));
            QCOMPARE(dto->title, u"Hi"_s);
        }
        QCOMPARE(bob.invocations("ReceiveNotification").size(), 0);
        QCOMPARE(aliceElsewhere.invocations("ReceiveNotification").size(), 0);
    }

    void replayIsExact()
    {
        for (int i = 1; i <= 4; ++i)
            QVERIFY(m_service->push("t1", "alice", u"n%1"_s.arg(i), {}, {}));
        Client c = connect("t1", "alice", {}, 2);
        auto got = c.invocations("ReceiveNotification");
        QCOMPARE(got.size(), 2);
        QCOMPARE(fromValue<NotificationDto>(got[0].arguments[0])->sequence, 3);
        QCOMPARE(fromValue<NotificationDto>(got[1].arguments[0])->sequence, 4);
        // Replay comes before anything new, and live delivery continues exactly once.
        QVERIFY(m_service->push("t1", "alice", u"n5"_s, {}, {}));
        got = c.invocations("ReceiveNotification");
        QCOMPARE(got.size(), 3);
        QCOMPARE(fromValue<NotificationDto>(got[2].arguments[0])->sequence, 5);

        // A cursor at the newest sequence replays nothing.
        Client d = connect("t1", "alice", {}, 5);
        QCOMPARE(d.invocations("ReceiveNotification").size(), 0);
        // Without a cursor and never seen before: nothing is replayed either.
        Client e = connect("t1", "newbie");
        QCOMPARE(e.invocations("ReceiveNotification").size(), 0);
    }

    // GetNotifications: the caller's own history, newest first, in pages of at most 100.
    void historyIsPagedAndOwnOnly()
    {
        for (int i = 1; i <= 130; ++i)
            QVERIFY(
                m_service->push("t1", "alice", u"n%1"_s.arg(i), u"body %1"_s.arg(i), u"info"_s));
        QVERIFY(m_service->push("t1", "bob", u"for bob"_s, {}, {}));
        QVERIFY(m_service->push("t2", "alice", u"other tenant"_s, {}, {}));
        Client alice = connect("t1", "alice");
        auto first = fromValue<QList<NotificationDto>>(
            alice.call("GetNotifications", {Value(0), Value(3)}));
        QVERIFY(first);
        QCOMPARE(first->size(), 3);
        QCOMPARE(first->at(0).sequence, 130);
        QCOMPARE(first->at(0).title, u"n130"_s);
        QCOMPARE(first->at(0).body, u"body 130"_s);
        QVERIFY(first->at(0).createdAt.isValid());
        QVERIFY(!first->at(0).replayed);
        QCOMPARE(first->at(2).sequence, 128);
        // The next page starts below the last sequence; a large limit is capped at 100.
        auto capped = fromValue<QList<NotificationDto>>(
            alice.call("GetNotifications", {Value(128), Value(1000)}));
        QVERIFY(capped);
        QCOMPARE(capped->size(), 100);
        QCOMPARE(capped->first().sequence, 127);
        QCOMPARE(capped->last().sequence, 28);
        auto last = fromValue<QList<NotificationDto>>(
            alice.call("GetNotifications", {Value(28), Value(100)}));
        QCOMPARE(last->size(), 27);
        QCOMPARE(last->last().sequence, 1);
        QCOMPARE(alice.call("GetNotifications", {Value(1), Value(100)}), Value(ValueList {}));
        QCOMPARE(alice.call("GetNotifications", {Value(0), Value(0)}),
                 Value("error: An unexpected error occurred invoking 'GetNotifications' on the "
                       "server. HubException: 'limit' must be at least 1."));
        // Only the caller's own: another user of the tenant, the same id in another tenant.
        Client bob = connect("t1", "bob");
        auto bobs = fromValue<QList<NotificationDto>>(
            bob.call("GetNotifications", {Value(0), Value(100)}));
        QCOMPARE(bobs->size(), 1);
        QCOMPARE(bobs->first().title, u"for bob"_s);
        Client otherAlice = connect("t2", "alice");
        auto others = fromValue<QList<NotificationDto>>(
            otherAlice.call("GetNotifications", {Value(0), Value(100)}));
        QCOMPARE(others->size(), 1);
        QCOMPARE(others->first().title, u"other tenant"_s);
        QCOMPARE(connect("t3", "nobody").call("GetNotifications", {Value(0), Value(10)}),
                 Value(ValueList {}));
    }

    void alertsAreTenantScopedAndAdminOnly()
    {
        Client admin = connect("t1", "root", {"Admin"});
        Client editor = connect("t1", "ed", {"Editor"});
        Client other = connect("t2", "x", {"Admin"});
        QCOMPARE(
            editor.call("BroadcastSystemAlert", {Value("nope")}),
            Value("error: Failed to invoke 'BroadcastSystemAlert' because user is unauthorized"));
        QCOMPARE(admin.call("BroadcastSystemAlert", {Value("maintenance")}), Value());
        for (const Client *c : {&admin, &editor}) {
            const auto got = c->invocations("ReceiveSystemAlert");
            QCOMPARE(got.size(), 1);
            QCOMPARE(fromValue<SystemAlertDto>(got.first().arguments[0])->message,
                     u"maintenance"_s);
        }
        QCOMPARE(other.invocations("ReceiveSystemAlert").size(), 0);
        const auto audit
            = m_storage->auditSince("t1", QDateTime::currentDateTimeUtc().addSecs(-60), 10);
        QCOMPARE(audit->size(), 1);
        QCOMPARE(audit->first().actor, QByteArray("root"));
    }

    void documents()
    {
        Client ed = connect("t1", "ed", {"Editor"});
        Client viewer = connect("t1", "vi", {"Viewer"});
        Client outsider = connect("t2", "ed2", {"Editor"});
        QCOMPARE(ed.call("JoinDocument", {Value("spec")}), Value(0));
        QCOMPARE(viewer.call("JoinDocument", {Value("spec")}), Value(0));
        QCOMPARE(outsider.call("JoinDocument", {Value("spec")}), Value(0));
        QCOMPARE(ed.call("SendDocumentPatch", {Value("spec"), Value("{\"op\":1}")}), Value(1));
        QCOMPARE(ed.call("SendDocumentPatch", {Value("spec"), Value("{\"op\":2}")}), Value(2));
        QCOMPARE(viewer.call("SendDocumentPatch", {Value("spec"), Value("{}")}),
                 Value("error: Failed to invoke 'SendDocumentPatch' because user is unauthorized"));
        const auto updates = viewer.invocations("DocumentUpdated");
        QCOMPARE(updates.size(), 2);
        QCOMPARE(updates[1].arguments[0], Value("spec"));
        QCOMPARE(fromValue<DocumentUpdateDto>(updates[1].arguments[1])->version, 2);
        QCOMPARE(fromValue<DocumentUpdateDto>(updates[1].arguments[1])->authorId, u"ed"_s);
        QCOMPARE(ed.invocations("DocumentUpdated").size(), 0); // not echoed to the sender
        QCOMPARE(outsider.invocations("DocumentUpdated").size(), 0); // other tenant, same name
        QCOMPARE(outsider.call("JoinDocument", {Value("spec")}), Value(0));
        auto since = fromValue<QList<DocumentUpdateDto>>(
            viewer.call("GetDocumentPatchesSince", {Value("spec"), Value(1)}));
        QVERIFY(since);
        QCOMPARE(since->size(), 1);
        QCOMPARE(since->first().patchJson, u"{\"op\":2}"_s);
        viewer.call("LeaveDocument", {Value("spec")});
        ed.call("SendDocumentPatch", {Value("spec"), Value("{}")});
        QCOMPARE(viewer.invocations("DocumentUpdated").size(), 2);
    }

    // The per-user connection limit is HubServer's (tests/server/hubserver/tst_hardening.cpp).

    // Issue 17, finding 4: a large history comes in pages bounded by bytes, never as one
    // message that would overflow the connection's output limit.
    void documentPatchesArePagedByBytes()
    {
        Client ed = connect("t1", "ed", {"Editor"});
        const QString patch = u"{\"text\":\"%1\"}"_s.arg(QString(30 * 1024, u'x'));
        for (int i = 0; i < 80; ++i)
            QCOMPARE(ed.call("SendDocumentPatch", {Value("big"), Value(patch)}).toInteger(),
                     qint64(i + 1));
        Client reader = connect("t1", "rita");
        qint64 from = 0;
        QList<qint64> seen;
        int pages = 0;
        for (;;) {
            auto page = fromValue<QList<DocumentUpdateDto>>(
                reader.call("GetDocumentPatchesSince", {Value("big"), Value(from)}));
            QVERIFY(page);
            if (page->isEmpty())
                break;
            ++pages;
            qsizetype bytes = 0;
            for (const DocumentUpdateDto &u : std::as_const(*page)) {
                seen.append(u.version);
                bytes += u.patchJson.size();
            }
            QVERIFY2(bytes <= 1024 * 1024, QByteArray::number(bytes).constData());
            from = page->last().version;
            QVERIFY(pages < 100);
        }
        QList<qint64> all;
        for (qint64 v = 1; v <= 80; ++v)
            all.append(v);
        QCOMPARE(seen, all); // every patch once, in order
        QCOMPARE(pages, 3); // 34 + 34 + 12 patches of about 30 KB
        QCOMPARE(reader.connection->state(), HubConnectionContext::State::Connected);
    }
};

QTEST_GUILESS_MAIN(tst_NotificationHub)
#include "tst_notificationhub.moc"
