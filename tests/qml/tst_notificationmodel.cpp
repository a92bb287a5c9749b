// SPDX-License-Identifier: MIT
// NotificationModel (C++ side of the QML module) under QAbstractItemModelTester, fed by the
// real notification hub of heliograph-server in-process; notifications are pushed through the
// push API. Checks order, duplicates, the maximum, read state and the connection's lifetime.
#include "clienttestsupport.h"
#include "notificationmodel.h"
#include "qmlhubconnection.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDateTime>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Qml;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

using Roles = NotificationModel::Roles;

class tst_NotificationModel : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;
    QNetworkAccessManager m_network;

    QUrl hubUrl(const QString &query = {}) const
    {
        return QUrl(u"http://127.0.0.1:%1/hubs/notifications%2"_s.arg(m_server->port()).arg(query));
    }

    /// POSTs a notification through the push API; its {id, sequence}, or Null on failure.
    Value push(const QByteArray &tenant, const QByteArray &user, const QString &title)
    {
        QNetworkRequest request(QUrl(
            u"http://127.0.0.1:%1/api/tenants/%2/users/%3/notifications"_s.arg(m_server->port())
                .arg(QString::fromUtf8(tenant), QString::fromUtf8(user))));
        request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json"_ba);
        request.setRawHeader("Authorization",
                             "Bearer " + token("pusher", tenant, {"Service"}).toUtf8());
        ValueMap body;
        body.append({Value("title"), Value(title)});
        body.append({Value("body"), Value(u"body of "_s + title)});
        std::unique_ptr<QNetworkReply> reply(m_network.post(request, Json::serialize(Value(body))));
        if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 10000))
            return {};
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        auto parsed = Json::parse(reply->readAll());
        if (status != 202 || !parsed) {
            qWarning("push failed: HTTP %d", status);
            return {};
        }
        return *parsed;
    }

    static QStringList titles(const NotificationModel &model)
    {
        QStringList out;
        for (int i = 0; i < model.rowCount(); ++i)
            out.append(model.index(i).data(Roles::TitleRole).toString());
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }
    void cleanupTestCase() { m_server.reset(); }

    void fedByTheHub()
    {
        NotificationModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy counts(&model, &NotificationModel::countChanged);
        QSignalSpy unread(&model, &NotificationModel::unreadCountChanged);
        QmlHubConnection hub;
        hub.setUrl(hubUrl());
        hub.setAccessToken(token("ann", "cpp"));
        model.setConnection(hub.connection());
        QCOMPARE(model.connection(), hub.connection());
        QCOMPARE(model.method(), u"ReceiveNotification"_s);
        hub.start();
        QTRY_COMPARE_WITH_TIMEOUT(hub.state(), HubConnection::State::Connected, 15000);

        const Value first = push("cpp", "ann", u"first"_s);
        QVERIFY(first.isMap());
        QTRY_COMPARE(model.rowCount(), 1);
        const QModelIndex i = model.index(0);
        // The hub sends the id as bytes (NotificationDto::id is a QByteArray): raw over
        // MessagePack, base64 text over JSON; the push API answers it as text.
        const QString id = i.data(Roles::IdRole).toString();
        QVERIFY2(id == first["id"].toString()
                     || id == QString::fromLatin1(first["id"].bytes().toBase64()),
                 qPrintable(id));
        QCOMPARE(i.data(Roles::TitleRole).toString(), u"first"_s);
        QCOMPARE(i.data(Qt::DisplayRole).toString(), u"first"_s);
        QCOMPARE(i.data(Roles::BodyRole).toString(), u"body of first"_s);
        QCOMPARE(i.data(Roles::TypeRole).toString(), u"info"_s);
        QCOMPARE(i.data(Roles::SequenceRole).toLongLong(), first["sequence"].toInteger());
        const QDateTime createdAt = i.data(Roles::CreatedAtRole).toDateTime();
        QVERIFY(createdAt.isValid());
        QVERIFY(qAbs(createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        QCOMPARE(i.data(Roles::ReadRole).toBool(), false);
        QCOMPARE(i.data(Roles::ReplayedRole).toBool(), false);
        QCOMPARE(i.data(Roles::PayloadRole).toMap().value(u"title"_s).toString(), u"first"_s);
        QCOMPARE(model.unreadCount(), 1);
        QCOMPARE(counts.size(), 1);
        QCOMPARE(unread.size(), 1);

        QVERIFY(push("cpp", "ann", u"second"_s).isMap());
        QVERIFY(push("cpp", "ann", u"third"_s).isMap());
        QTRY_COMPARE(model.rowCount(), 3);
        QCOMPARE(titles(model), (QStringList {u"third"_s, u"second"_s, u"first"_s}));
        QCOMPARE(model.unreadCount(), 3);

        // read state: setData, markRead, markAllRead
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QVERIFY(model.setData(model.index(1), true, Roles::ReadRole));
        QCOMPARE(model.unreadCount(), 2);
        QCOMPARE(changed.size(), 1);
        QVERIFY(!model.setData(model.index(1), u"x"_s, Roles::TitleRole));
        model.markRead(1); // already read: nothing changes
        QCOMPARE(changed.size(), 1);
        model.markRead(0);
        QCOMPARE(model.unreadCount(), 1);
        QCOMPARE(model.index(0).data(Roles::ReadRole).toBool(), true);

        // a replay after reconnecting (lastSequence=0): every id again, none added; a
        // notification pushed while offline arrives
        hub.stop();
        QTRY_COMPARE(hub.state(), HubConnection::State::Disconnected);
        QVERIFY(push("cpp", "ann", u"fourth"_s).isMap());
        hub.setUrl(hubUrl(u"?lastSequence=0"_s));
        hub.start();
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 4, 15000);
        QCOMPARE(titles(model), (QStringList {u"fourth"_s, u"third"_s, u"second"_s, u"first"_s}));
        // the replay is in sequence order: the duplicates came before "fourth"
        QCOMPARE(model.unreadCount(), 2); // fourth and first
        QCOMPARE(model.index(1).data(Roles::ReadRole).toBool(), true);
        model.markAllRead();
        QCOMPARE(model.unreadCount(), 0);

        // another method: notifications are no longer taken; the Echo-like round trip after
        // the push proves the notification had arrived (one connection, one order)
        model.setMethod(u"SomethingElse"_s);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"no handler for .*ReceiveNotification"_s));
        QVERIFY(push("cpp", "ann", u"fifth"_s).isMap());
        QVERIFY(call(*hub.connection(), "GetOnlineUsers").isArray());
        QCOMPARE(model.rowCount(), 4);
        model.setMethod(u"ReceiveNotification"_s);
        QVERIFY(push("cpp", "ann", u"sixth"_s).isMap());
        QTRY_COMPARE(model.rowCount(), 5);
        QCOMPARE(model.index(0).data(Roles::TitleRole).toString(), u"sixth"_s);

        // the connection goes away: the model keeps its rows
        QSignalSpy connectionChanged(&model, &NotificationModel::connectionChanged);
        {
            HubConnection other;
            model.setConnection(&other);
            QCOMPARE(connectionChanged.size(), 1);
        }
        QCOMPARE(connectionChanged.size(), 2);
        QCOMPARE(model.connection(), nullptr);
        QCOMPARE(model.rowCount(), 5);
        hub.stop();
        QTRY_COMPARE(hub.state(), HubConnection::State::Disconnected);
    }

    void orderDuplicatesAndMaximum()
    {
        NotificationModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto n = [](const QString &id, qint64 sequence, bool replayed = false) {
            QVariantMap m {{u"id"_s, id}, {u"title"_s, id}, {u"replayed"_s, replayed}};
            if (sequence)
                m.insert(u"sequence"_s, sequence);
            return m;
        };
        QVERIFY(model.add(n(u"a"_s, 10)));
        QVERIFY(model.add(n(u"c"_s, 30)));
        QVERIFY(model.add(n(u"b"_s, 20, true)));
        QCOMPARE(titles(model), (QStringList {u"c"_s, u"b"_s, u"a"_s}));
        QCOMPARE(model.index(1).data(Roles::ReplayedRole).toBool(), true);
        QCOMPARE(model.index(0).data(Roles::ReplayedRole).toBool(), false);
        // without a sequence: the top
        QVERIFY(model.add(n(u"local"_s, 0)));
        QCOMPARE(titles(model), (QStringList {u"local"_s, u"c"_s, u"b"_s, u"a"_s}));
        // duplicates and non-maps are dropped
        QVERIFY(!model.add(n(u"b"_s, 20)));
        QVERIFY(!model.add(Value("not a map")));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.unreadCount(), 4);

        // the maximum: the oldest go, and what is older than every row kept is not added
        model.markRead(3); // "a", about to go
        QCOMPARE(model.unreadCount(), 3);
        model.setMaximumCount(3);
        QCOMPARE(titles(model), (QStringList {u"local"_s, u"c"_s, u"b"_s}));
        QCOMPARE(model.count(), 3);
        QCOMPARE(model.unreadCount(), 3);
        QVERIFY(!model.add(n(u"old"_s, 5)));
        QVERIFY(model.add(n(u"d"_s, 25)));
        QCOMPARE(titles(model), (QStringList {u"local"_s, u"c"_s, u"d"_s}));
        QCOMPARE(model.unreadCount(), 3);
        // a trimmed id may come back when it fits again
        model.setMaximumCount(0);
        QVERIFY(model.add(n(u"b"_s, 20)));
        QCOMPARE(titles(model), (QStringList {u"local"_s, u"c"_s, u"d"_s, u"b"_s}));

        QCOMPARE(model.get(2).value(u"id"_s).toString(), u"d"_s);
        QCOMPARE(model.get(2).value(u"sequence"_s).toLongLong(), 25);
        QVERIFY(model.get(9).isEmpty());
        QCOMPARE(model.roleNames().value(Roles::CreatedAtRole), "createdAt"_ba);

        model.clear();
        QCOMPARE(model.count(), 0);
        QCOMPARE(model.unreadCount(), 0);
        QVERIFY(model.add(n(u"b"_s, 20))); // ids are forgotten with the rows
    }

    // A server with `messagepack-key-case pascal` writes `Id`, `Sequence`, ...: names ignore case.
    void pascalCaseFields()
    {
        NotificationModel model;
        const Value n(ValueMap {{Value("Id"), Value("p1")},
                                {Value("Title"), Value("hello")},
                                {Value("Sequence"), Value(7)},
                                {Value("Replayed"), Value(true)}});
        QVERIFY(model.add(n));
        QCOMPARE(model.index(0).data(Roles::TitleRole).toString(), u"hello"_s);
        QCOMPARE(model.index(0).data(Roles::SequenceRole).toLongLong(), 7);
        QCOMPARE(model.index(0).data(Roles::ReplayedRole).toBool(), true);
        QVERIFY(!model.add(n)); // a known id
    }
};

QTEST_MAIN(tst_NotificationModel)
#include "tst_notificationmodel.moc"
