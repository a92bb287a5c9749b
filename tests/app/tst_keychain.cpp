// SPDX-License-Identifier: MIT
// RefreshTokenStore against a real Secret Service. CTest runs this binary twice, each time on
// a D-Bus session bus of its own (dbus-run-session) and with a scratch HOME, so the user's own
// keyrings are never touched:
//   tst_keychain_secretservice: gnome-keyring-daemon (secrets component, a fresh login
//     keyring unlocked with a throw-away password) on the bus; runs secretService.
//   tst_keychain_nokeychain: a bus with no org.freedesktop.secrets and nothing to activate
//     one; runs noKeychain.
// Each function checks that its bus is the one it needs and fails (never skips) otherwise.
#include "refreshtokenstore.h"

#include <QtCore/QUuid>
#include <QtDBus/QDBusConnection>
#include <QtDBus/QDBusConnectionInterface>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusMetaType>
#include <QtDBus/QDBusObjectPath>
#include <QtTest/QTest>

#include <optional>

using namespace Qt::StringLiterals;
using Heliograph::Desktop::RefreshTokenStore;
using Status = RefreshTokenStore::Status;

namespace {

const QString SecretService = u"org.freedesktop.secrets"_s;

struct ReadResult {
    Status status;
    QString token;
    QString why;
};

struct WriteResult {
    Status status;
    QString why;
};

} // namespace

class TestKeychain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void secretService();
    void noKeychain();

private:
    static ReadResult read(RefreshTokenStore &store, const QString &key);
    static WriteResult write(RefreshTokenStore &store, const QString &key, const QString &token);
    /// Items the Secret Service itself holds under QtKeychain's attributes for `key`.
    static int itemsInService(const QString &key);
};

ReadResult TestKeychain::read(RefreshTokenStore &store, const QString &key)
{
    std::optional<ReadResult> result;
    store.read(key, [&](Status status, const QString &token, const QString &why) {
        result = ReadResult {status, token, why};
    });
    if (!QTest::qWaitFor([&] { return result.has_value(); }, 30'000))
        return {Status::Unavailable, {}, u"no answer from the keychain in 30 s"_s};
    return *result;
}

WriteResult TestKeychain::write(RefreshTokenStore &store, const QString &key, const QString &token)
{
    std::optional<WriteResult> result;
    store.write(key, token, [&](Status status, const QString &why) {
        result = WriteResult {status, why};
    });
    if (!QTest::qWaitFor([&] { return result.has_value(); }, 30'000))
        return {Status::Unavailable, u"no answer from the keychain in 30 s"_s};
    return *result;
}

int TestKeychain::itemsInService(const QString &key)
{
    // org.freedesktop.Secret.Service.SearchItems(a{ss}) -> (ao unlocked, ao locked); QtKeychain
    // stores under the attributes user = key, server = service name.
    QDBusMessage search
        = QDBusMessage::createMethodCall(SecretService, u"/org/freedesktop/secrets"_s,
                                         u"org.freedesktop.Secret.Service"_s, u"SearchItems"_s);
    qDBusRegisterMetaType<QMap<QString, QString>>();
    QMap<QString, QString> attributes {{u"user"_s, key}, {u"server"_s, u"Heliograph Desktop"_s}};
    search << QVariant::fromValue(attributes);
    const QDBusMessage reply = QDBusConnection::sessionBus().call(search);
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().size() != 2)
        return -1;
    return int(qdbus_cast<QList<QDBusObjectPath>>(reply.arguments().at(0)).size()
               + qdbus_cast<QList<QDBusObjectPath>>(reply.arguments().at(1)).size());
}

void TestKeychain::secretService()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    QVERIFY2(bus.isConnected(), "no session bus: run through ctest (tst_keychain_secretservice)");
    // gnome-keyring-daemon --unlock forks and takes its name a moment later (QTRY waits up to
    // three times the timeout on a failure).
    QTRY_VERIFY2_WITH_TIMEOUT(bus.interface()->isServiceRegistered(SecretService), //
                              "no org.freedesktop.secrets on the session bus: run through ctest "
                              "(tst_keychain_secretservice)",
                              10'000);

    RefreshTokenStore store;
    const QString key = RefreshTokenStore::keyFor(
        u"http://127.0.0.1:5000"_s,
        u"tst-%1"_s.arg(QUuid::createUuid().toString(QUuid::WithoutBraces)));
    const QString token = u"refresh-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces);

    ReadResult before = read(store, key);
    QCOMPARE(before.status, Status::NotFound);

    const WriteResult written = write(store, key, token);
    QVERIFY2(written.status == Status::Ok, qPrintable(written.why));
    // In the Secret Service itself, not in some fallback.
    QCOMPARE(itemsInService(key), 1);

    ReadResult back = read(store, key);
    QVERIFY2(back.status == Status::Ok, qPrintable(back.why));
    QCOMPARE(back.token, token);

    // Written again: replaced, not added.
    const QString newer = token + u"-2"_s;
    QCOMPARE(write(store, key, newer).status, Status::Ok);
    QCOMPARE(itemsInService(key), 1);
    QCOMPARE(read(store, key).token, newer);

    // QtKeychain runs its jobs one after the other: the read sees the removal.
    store.remove(key);
    const ReadResult gone = read(store, key);
    QCOMPARE(gone.status, Status::NotFound);
    QVERIFY(gone.token.isEmpty());
    QCOMPARE(itemsInService(key), 0);
}

void TestKeychain::noKeychain()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    QVERIFY2(bus.isConnected(), "no session bus: run through ctest (tst_keychain_nokeychain)");
    QVERIFY2(!bus.interface()->isServiceRegistered(SecretService)
                 && !bus.interface()->activatableServiceNames().value().contains(SecretService),
             "a Secret Service is on this bus: run through ctest (tst_keychain_nokeychain)");

    RefreshTokenStore store;
    const QString key = RefreshTokenStore::keyFor(u"http://127.0.0.1:5000"_s, u"nobody"_s);
    const WriteResult written = write(store, key, u"refresh-token"_s);
    QCOMPARE(written.status, Status::Unavailable);
    QVERIFY(!written.why.isEmpty());
    // No keychain is not "no token": the app must tell the two apart.
    const ReadResult back = read(store, key);
    QCOMPARE(back.status, Status::Unavailable);
    QVERIFY(back.token.isEmpty());
}

QTEST_GUILESS_MAIN(TestKeychain)
#include "tst_keychain.moc"
