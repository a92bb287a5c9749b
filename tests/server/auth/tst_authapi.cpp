// SPDX-License-Identifier: MIT
// Sign-in over real HTTP against heliograph-server in-process (SQLite in a temporary folder):
// POST /auth/login, /auth/refresh, /auth/logout, the limit on failed logins, refresh-token
// rotation and theft detection, and the access token on /hubs/notifications. The server's
// sign-in clock is the test's (m_now): the failure window and refresh expiry are reached by
// moving it, never by waiting. Password checks run on the sign-in service's hashing threads:
// the tests of logins in progress hold them there with a Gate (AuthOptions::beforeHashing),
// never with sleeps or timing.
#include "app/authapi.h"
#include "app/serverapp.h"
#include "auth/authservice.h"
#include "auth/jwt.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/json.h>

#include <QtCore/QScopeGuard>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTemporaryFile>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <condition_variable>
#include <mutex>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

const QByteArray Secret = "tests/server/auth secret of at least 32 bytes";
const QByteArray Issuer = "https://heliograph.test";
const QByteArray Audience = "heliograph-desktop";
const Argon2Parameters Cheap {256, 1, 1};

struct Reply {
    int status = 0;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    Value json;
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[k, v] : headers)
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        return {};
    }
};

/// Everything logged while it lives.
struct LogCapture {
    LogCapture()
    {
        lines().clear();
        previous = qInstallMessageHandler([](QtMsgType, const QMessageLogContext &,
                                             const QString &m) { lines().append(m.toUtf8()); });
    }
    ~LogCapture() { qInstallMessageHandler(previous); }
    static QByteArrayList &lines()
    {
        static QByteArrayList l;
        return l;
    }
    QtMessageHandler previous;
};

/// Holds password checks on the hashing threads while closed. enter() is the server's
/// AuthOptions::beforeHashing; `started` is called (on the hashing thread) on every entry.
class Gate {
public:
    /// Also forgets the threads of earlier entries.
    void close()
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_threads.clear();
    }
    void open()
    {
        {
            std::lock_guard lock(m_mutex);
            m_closed = false;
        }
        m_changed.notify_all();
    }
    void enter()
    {
        {
            // Recorded before `started` is told: the test reads threads() once it has heard.
            std::lock_guard lock(m_mutex);
            m_threads.append(QThread::currentThread()->objectName());
        }
        if (started)
            started();
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return !m_closed; });
    }
    /// objectName() of the threads enter() ran on.
    QStringList threads()
    {
        std::lock_guard lock(m_mutex);
        return m_threads;
    }
    std::function<void()> started;

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_closed = false;
    QStringList m_threads;
};

} // namespace

class tst_AuthApi : public QObject {
    Q_OBJECT
Q_SIGNALS:
    /// A password check reached the gate (emitted on the test's thread).
    void hashingStarted();
    /// One of the replies of sendAsync() finished.
    void replyFinished();

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Users added beside the server, through the same database file.
        auto storage = createSqliteStorage(m_dir.path());
        QVERIFY(storage);
        const PasswordHasher hasher(Cheap);
        for (const auto &[name, tenant, role] :
             {std::tuple {"alice", "acme", "Admin"}, std::tuple {"bob", "acme", "Editor"},
              std::tuple {"mallory", "acme", "Viewer"}}) {
            auto added = addUser(**storage, hasher, name, tenant, {}, {role},
                                 QByteArray(QByteArray(name) + "-password"));
            QVERIFY2(added, qPrintable(added ? QString() : added.error().message));
        }
        UserRecord mallory = **(*storage)->findUser("mallory");
        mallory.disabled = true;
        QVERIFY(*(*storage)->updateUser(mallory));
        m_users = std::move(*storage);

        m_now = QDateTime::currentMSecsSinceEpoch();
        ServeOptions o;
        o.port = 0;
        o.threads = 2;
        o.dataDir = m_dir.path();
        o.jwtSecret = Secret;
        o.jwtIssuer = Issuer;
        o.jwtAudience = Audience;
        o.auth.passwordHashing = Cheap;
        o.auth.clock = [this] { return m_now.load(); };
        o.auth.hashingThreads = 2;
        o.auth.maxPendingLogins = 16;
        o.auth.beforeHashing = [this] { m_gate.enter(); };
        m_gate.started = [this] {
            QMetaObject::invokeMethod(this, &tst_AuthApi::hashingStarted, Qt::QueuedConnection);
        };
        QString error;
        QVERIFY2(m_server.start(o, error), qPrintable(error));
    }

    void init()
    {
        // Each test starts outside the failure window of the ones before.
        m_now += 10 * 60 * 1000;
    }

    void cleanup()
    {
        m_gate.open(); // a failed test must not leave a password check held
    }

    void cleanupTestCase()
    {
        m_server.stop();
        m_users.reset();
    }

    void loginSucceeds()
    {
        const qint64 now = m_now;
        // Usernames are case-insensitive.
        const Reply r
            = post("/auth/login", "{\"username\":\"Alice\",\"password\":\"alice-password\"}");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Cache-Control"), "no-store");
        QVERIFY(r.header("Content-Type").startsWith("application/json"));
        QCOMPARE(r.json["user"]["id"].toString(), u"alice"_s);
        QCOMPARE(r.json["user"]["tenant"].toString(), u"acme"_s);
        QCOMPARE(r.json["user"]["name"].toString(), u"alice"_s);
        QCOMPARE(r.json["user"]["roles"].size(), 1);
        QCOMPARE(r.json["user"]["roles"][0].toString(), u"Admin"_s);
        QCOMPARE(r.json["tokenType"].toString(), u"Bearer"_s);

        const QDateTime expiresAt
            = QDateTime::fromString(r.json["expiresAt"].toString(), Qt::ISODate);
        QCOMPARE(expiresAt.toSecsSinceEpoch(), now / 1000 + 15 * 60); // default lifetime
        const QDateTime refreshExpiresAt
            = QDateTime::fromString(r.json["refreshExpiresAt"].toString(), Qt::ISODate);
        QCOMPARE(refreshExpiresAt.toSecsSinceEpoch(), now / 1000 + 30 * 24 * 3600);
        const QByteArray refresh = r.json["refreshToken"].bytes();
        QCOMPARE(refresh.size(), 43); // 256 bits, base64url

        // The access token is what the hubs validate: sub, tenant_id, name, role, iss, aud.
        JwtValidationOptions vo;
        vo.issuer = Issuer;
        vo.audience = Audience;
        vo.clock = [now] { return now / 1000; };
        auto claims = JwtValidator::withSecret(Secret, vo)->validate(r.json["accessToken"].bytes());
        QVERIFY2(claims, qPrintable(claims ? QString() : claims.error().message));
        QCOMPARE(claims->subject, "alice");
        QCOMPARE(claims->tenantId, "acme");
        QCOMPARE(claims->name, u"alice"_s);
        QCOMPARE(claims->roles, QList<QByteArray> {"Admin"});
        QCOMPARE(claims->expiresAt, expiresAt.toSecsSinceEpoch());
    }

    void loginFailsTheSameWay()
    {
        const Reply unknown
            = post("/auth/login", "{\"username\":\"zoe\",\"password\":\"whatever1\"}");
        const Reply wrong
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"whatever1\"}");
        QCOMPARE(unknown.status, 401);
        QCOMPARE(wrong.status, 401);
        QCOMPARE(unknown.header("Content-Type"), "application/problem+json");
        QCOMPARE(unknown.body, wrong.body); // nothing tells an unknown user from a wrong password
        QCOMPARE(wrong.json["detail"].toString(), u"The username or password is incorrect."_s);
        QVERIFY(!wrong.json.find("accessToken"));
    }

    void disabledUser()
    {
        const Reply wrong
            = post("/auth/login", "{\"username\":\"mallory\",\"password\":\"nope-nope\"}");
        QCOMPARE(wrong.status, 401);
        const Reply right
            = post("/auth/login", "{\"username\":\"mallory\",\"password\":\"mallory-password\"}");
        QCOMPARE(right.status, 403);
        QVERIFY(!right.json.find("accessToken"));
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        const QByteArray json = "application/json";
        QTest::newRow("not json") << QByteArray("POST") << QByteArray("/auth/login") << json
                                  << QByteArray("{username: alice}") << 400;
        QTest::newRow("array") << QByteArray("POST") << QByteArray("/auth/login") << json
                               << QByteArray("[\"alice\",\"alice-password\"]") << 400;
        QTest::newRow("no password") << QByteArray("POST") << QByteArray("/auth/login") << json
                                     << QByteArray("{\"username\":\"alice\"}") << 400;
        QTest::newRow("password not a string")
            << QByteArray("POST") << QByteArray("/auth/login") << json
            << QByteArray("{\"username\":\"alice\",\"password\":12345678}") << 400;
        QTest::newRow("empty username")
            << QByteArray("POST") << QByteArray("/auth/login") << json
            << QByteArray("{\"username\":\"\",\"password\":\"alice-password\"}") << 400;
        QTest::newRow("huge password")
            << QByteArray("POST") << QByteArray("/auth/login") << json
            << QByteArray("{\"username\":\"alice\",\"password\":\"" + QByteArray(2000, 'x') + "\"}")
            << 400;
        QTest::newRow("body too large")
            << QByteArray("POST") << QByteArray("/auth/login") << json
            << QByteArray("{\"username\":\"alice\",\"password\":\"alice-password\",\"pad\":\""
                          + QByteArray(9000, 'x') + "\"}")
            << 413;
        QTest::newRow("form") << QByteArray("POST") << QByteArray("/auth/login")
                              << QByteArray("application/x-www-form-urlencoded")
                              << QByteArray("username=alice&password=alice-password") << 415;
        QTest::newRow("GET") << QByteArray("GET") << QByteArray("/auth/login") << json
                             << QByteArray() << 405;
        QTest::newRow("unknown path")
            << QByteArray("POST") << QByteArray("/auth/whoami") << json << QByteArray("{}") << 404;
        QTest::newRow("refresh without token")
            << QByteArray("POST") << QByteArray("/auth/refresh") << json << QByteArray("{}") << 400;
    }

    void badRequests()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        const Reply r = send(method, path, body, contentType);
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("Content-Type"), "application/problem+json");
        QCOMPARE(r.json["status"].toInteger(), status);
        if (status == 405)
            QCOMPARE(r.header("Allow"), "POST");
        QVERIFY(!r.body.contains("alice-password"));
    }

    void rateLimitPerUsername()
    {
        for (int i = 0; i < 5; ++i)
            QCOMPARE(
                post("/auth/login", "{\"username\":\"bob\",\"password\":\"guess-guess\"}").status,
                401);
        // The sixth attempt is refused before the password is looked at, even the right one.
        m_now += 20'000;
        Reply r = post("/auth/login", "{\"username\":\"BOB\",\"password\":\"bob-password\"}");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), "40");
        QCOMPARE(r.header("Content-Type"), "application/problem+json");
        // Another user from the same address is not affected (20 failures per address allowed).
        QCOMPARE(
            post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}").status,
            200);
        // Once the window has passed, bob may try again.
        m_now += 40'000;
        QCOMPARE(post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}").status,
                 200);
    }

    void rateLimitPerAddress()
    {
        // 20 failures per address, whatever the usernames: the 19th still lets alice in.
        auto fail = [this](int i) {
            return post("/auth/login",
                        u"{\"username\":\"user%1\",\"password\":\"guess-guess\"}"_s.arg(i).toUtf8())
                .status;
        };
        for (int i = 0; i < 19; ++i)
            QCOMPARE(fail(i), 401);
        QCOMPARE(
            post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}").status,
            200);
        QCOMPARE(fail(19), 401);
        const Reply r
            = post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), "60");
    }

    void hashingLeavesTheConnectionThreadFree()
    {
        // One connection thread: a password check on it would hold up every other request.
        ServerApp server;
        QVERIFY(startServer(server, 1, 1));
        const auto opened = qScopeGuard([this] { m_gate.open(); }); // before the server stops
        m_gate.close();
        QSignalSpy started(this, &tst_AuthApi::hashingStarted);
        QNetworkReply *login
            = sendAsync("POST", "/auth/login", "{\"username\":\"zoe\",\"password\":\"whatever1\"}",
                        server.port());
        QVERIFY(started.wait());
        // While the login's password check is held, another client is served by that thread.
        QNetworkReply *health = sendAsync("GET", "/health", {}, server.port());
        QSignalSpy healthDone(health, &QNetworkReply::finished);
        QVERIFY(healthDone.wait());
        QCOMPARE(reply(health).status, 200);
        QVERIFY(!login->isFinished());
        const QStringList threads = m_gate.threads();
        QCOMPARE(threads.size(), 1);
        QVERIFY2(!threads.first().startsWith(u"hub-worker"_s), qPrintable(threads.first()));
        // Released, the login is answered (from the connection's thread) as before.
        QSignalSpy loginDone(login, &QNetworkReply::finished);
        m_gate.open();
        QVERIFY(loginDone.wait());
        const Reply r = reply(login);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.json["detail"].toString(), u"The username or password is incorrect."_s);
        server.stop();
    }

    void parallelFailuresAreLimited()
    {
        // Eight wrong passwords for bob at once, all in progress before any is decided: only
        // five (max-failed-logins) are checked, the others get 429 at once.
        m_gate.close();
        QSignalSpy finished(this, &tst_AuthApi::replyFinished);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 8; ++i)
            replies.append(sendAsync("POST", "/auth/login",
                                     "{\"username\":\"bob\",\"password\":\"guess-guess\"}"));
        while (finished.size() < 3)
            QVERIFY(finished.wait());
        for (QNetworkReply *r : std::as_const(replies)) {
            if (!r->isFinished())
                continue;
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 429);
            QCOMPARE(r->rawHeader("Retry-After"), "1"); // decided within moments
        }
        m_gate.open();
        while (finished.size() < 8)
            QVERIFY(finished.wait());
        QMap<int, int> statuses;
        for (QNetworkReply *r : std::as_const(replies))
            ++statuses[reply(r).status];
        QCOMPARE(statuses, (QMap<int, int> {{401, 5}, {429, 3}}));
        // The five failures count: even the right password waits for the window.
        const Reply r = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), "60");
    }

    void tooManyPendingLogins()
    {
        // One hashing thread, at most one login pending: a second one gets 503 at once.
        ServerApp server;
        QVERIFY(startServer(server, 2, 1, 1));
        const auto opened = qScopeGuard([this] { m_gate.open(); }); // before the server stops
        m_gate.close();
        QSignalSpy started(this, &tst_AuthApi::hashingStarted);
        QNetworkReply *first
            = sendAsync("POST", "/auth/login", "{\"username\":\"zoe\",\"password\":\"whatever1\"}",
                        server.port());
        QVERIFY(started.wait());
        const Reply busy
            = send("POST", "/auth/login", "{\"username\":\"yan\",\"password\":\"whatever1\"}",
                   "application/json", server.port());
        QCOMPARE(busy.status, 503);
        QCOMPARE(busy.header("Retry-After"), "1");
        QCOMPARE(busy.header("Content-Type"), "application/problem+json");
        QCOMPARE(busy.json["status"].toInteger(), 503);
        QVERIFY(!busy.json["detail"].toString().isEmpty());
        QVERIFY(!first->isFinished());
        QSignalSpy firstDone(first, &QNetworkReply::finished);
        m_gate.open();
        QVERIFY(firstDone.wait());
        QCOMPARE(reply(first).status, 401);
        // The place is free again.
        QCOMPARE(send("POST", "/auth/login", "{\"username\":\"yan\",\"password\":\"whatever1\"}",
                      "application/json", server.port())
                     .status,
                 401);
        server.stop();
    }

    void stopWhileHashing()
    {
        // The server runs on a thread of its own, so that the test can hold a password check
        // while stop() runs there. One hashing thread and two pending logins at most: one is
        // being checked when the server stops, another waits for the hashing thread.
        QThread thread;
        QObject context;
        std::unique_ptr<ServerApp> server;
        thread.start();
        context.moveToThread(&thread);
        const auto joined = qScopeGuard([&] {
            m_gate.open();
            QMetaObject::invokeMethod(
                &context, [&] { server.reset(); }, Qt::BlockingQueuedConnection);
            thread.quit();
            thread.wait();
        });
        bool startedOk = false;
        QMetaObject::invokeMethod(
            &context,
            [&] {
                server = std::make_unique<ServerApp>();
                startedOk = startServer(*server, 1, 1, 2);
            },
            Qt::BlockingQueuedConnection);
        QVERIFY(startedOk);
        const quint16 port = server->port();

        m_gate.close();
        QSignalSpy started(this, &tst_AuthApi::hashingStarted);
        QNetworkReply *checked = sendAsync(
            "POST", "/auth/login", "{\"username\":\"zoe\",\"password\":\"whatever1\"}", port);
        QVERIFY(started.wait());
        // Two more: one waits for the hashing thread, the other gets 503 (pending logins full).
        QSignalSpy finished(this, &tst_AuthApi::replyFinished);
        QList<QNetworkReply *> more;
        for (const char *user : {"yan", "xia"})
            more.append(sendAsync(
                "POST", "/auth/login",
                "{\"username\":\"" + QByteArray(user) + "\",\"password\":\"whatever1\"}", port));
        QVERIFY(finished.wait());
        QNetworkReply *busy = more[0]->isFinished() ? more[0] : more[1];
        QNetworkReply *queued = more[0]->isFinished() ? more[1] : more[0];
        QCOMPARE(busy->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 503);
        QVERIFY(!queued->isFinished());

        std::atomic<bool> stopped {false};
        QMetaObject::invokeMethod(&context, [&] {
            server->stop();
            stopped = true;
        });
        // stop() closes the connections while the first password is still being checked ...
        while (!checked->isFinished() || !queued->isFinished())
            QVERIFY(finished.wait());
        QVERIFY(!stopped);
        for (QNetworkReply *r : {checked, queued}) {
            QVERIFY(r->error() != QNetworkReply::NoError);
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 0);
            r->deleteLater();
        }
        busy->deleteLater();
        // ... and waits for it: its answer finds neither the connection nor its thread.
        m_gate.open();
        QMetaObject::invokeMethod(
            &context, [&] { server.reset(); }, Qt::BlockingQueuedConnection);
        QVERIFY(stopped);
    }

    void refreshRotatesAndDetectsReuse()
    {
        const Reply login
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        QCOMPARE(login.status, 200);
        const QByteArray r1 = login.json["refreshToken"].bytes();

        m_now += 60'000;
        const Reply first = refresh(r1);
        QCOMPARE(first.status, 200);
        const QByteArray r2 = first.json["refreshToken"].bytes();
        QVERIFY(r2 != r1);
        QVERIFY(first.json["accessToken"].bytes() != login.json["accessToken"].bytes());
        QCOMPARE(first.json["user"]["id"].toString(), u"bob"_s);
        QCOMPARE(first.json["user"]["roles"][0].toString(), u"Editor"_s);
        QCOMPARE(QDateTime::fromString(first.json["refreshExpiresAt"].toString(), Qt::ISODate)
                     .toSecsSinceEpoch(),
                 m_now / 1000 + 30 * 24 * 3600);

        // r1 again (a thief, or the victim after the thief): refused, and r2 dies with it.
        const Reply reused = refresh(r1);
        QCOMPARE(reused.status, 401);
        QCOMPARE(reused.json["detail"].toString(), u"The refresh token is not valid."_s);
        QCOMPARE(refresh(r2).status, 401);

        // Another session of the same user is unaffected.
        const Reply other
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        QCOMPARE(refresh(other.json["refreshToken"].bytes()).status, 200);
    }

    void refreshUnknownOrExpired()
    {
        QCOMPARE(refresh("not-a-token-anyone-was-given-0123456789abcd").status, 401);
        const Reply login
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        const QByteArray token = login.json["refreshToken"].bytes();
        m_now += 30LL * 24 * 3600 * 1000; // exactly the lifetime: expired
        QCOMPARE(refresh(token).status, 401);
    }

    void logoutEndsTheSession()
    {
        const Reply login
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        const QByteArray r1 = login.json["refreshToken"].bytes();
        const Reply next = refresh(r1);
        QCOMPARE(next.status, 200);
        const Reply out = post("/auth/logout",
                               "{\"refreshToken\":\"" + next.json["refreshToken"].bytes() + "\"}");
        QCOMPARE(out.status, 204);
        QCOMPARE(refresh(next.json["refreshToken"].bytes()).status, 401);
        // Unknown tokens: the same answer.
        QCOMPARE(post("/auth/logout", "{\"refreshToken\":\"unknown\"}").status, 204);
    }

    void newPasswordEndsSessions()
    {
        const Reply login
            = post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}");
        QCOMPARE(login.status, 200);
        const PasswordHasher hasher(Cheap);
        QVERIFY(setPassword(*m_users, hasher, "alice", "alice-password-2"));
        QCOMPARE(refresh(login.json["refreshToken"].bytes()).status, 401);
        QCOMPARE(
            post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}").status,
            401);
        QCOMPARE(post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password-2\"}")
                     .status,
                 200);
        QVERIFY(setPassword(*m_users, hasher, "alice", "alice-password"));
    }

    void tokenOpensTheNotificationHub()
    {
        // With the real clock: the hub checks exp against it.
        m_now = QDateTime::currentMSecsSinceEpoch() + 60 * 60 * 1000;
        const Reply login
            = post("/auth/login", "{\"username\":\"alice\",\"password\":\"alice-password\"}");
        QCOMPARE(login.status, 200);
        QCOMPARE(connectAndListOnline(login.json["accessToken"].toString()), u"alice"_s);
        // The same request with a token that was not issued by the server fails.
        QVERIFY(connectAndListOnline(u"eyJhbGciOiJIUzI1NiJ9.e30.c2ln"_s).isEmpty());
    }

    void nothingSecretIsLogged()
    {
        LogCapture capture;
        const Reply ok
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-password\"}");
        QCOMPARE(ok.status, 200);
        const Reply bad
            = post("/auth/login", "{\"username\":\"bob\",\"password\":\"bob-passwore\"}");
        QCOMPARE(bad.status, 401);
        const Reply next = refresh(ok.json["refreshToken"].bytes());
        QCOMPARE(next.status, 200);
        QCOMPARE(refresh(ok.json["refreshToken"].bytes()).status, 401); // reuse: logged
        const QByteArrayList lines = LogCapture::lines();
        QVERIFY(lines.size() >= 3); // the handler saw the sign-in log lines
        const QByteArrayList secrets {"bob-password",
                                      "bob-passwore",
                                      "$argon2",
                                      ok.json["refreshToken"].bytes(),
                                      next.json["refreshToken"].bytes(),
                                      ok.json["accessToken"].bytes().left(40),
                                      next.json["accessToken"].bytes().left(40)};
        for (const QByteArray &line : lines)
            for (const QByteArray &secret : secrets)
                QVERIFY2(!line.contains(secret), line.constData());
    }

    void settings()
    {
        QTemporaryFile config;
        QVERIFY(config.open());
        config.write("{\"demo\": true, \"access-token-lifetime\": 300, \"password-hash-memory\": "
                     "1024, \"max-failed-logins\": 3}");
        config.close();
        qputenv("HELIOGRAPH_REFRESH_TOKEN_LIFETIME", "3600");
        ServeOptions o;
        QString error;
        const bool parsed = parseServeOptions(
            {u"--config"_s, config.fileName(), u"--password-hash-iterations"_s, u"2"_s}, o, error);
        qunsetenv("HELIOGRAPH_REFRESH_TOKEN_LIFETIME");
        QVERIFY2(parsed, qPrintable(error));
        QVERIFY(o.auth.demo);
        QCOMPARE(o.auth.accessTokenLifetime, 300s);
        QCOMPARE(o.auth.refreshTokenLifetime, 3600s);
        QCOMPARE(o.auth.passwordHashing, (Argon2Parameters {1024, 2, 1}));
        QCOMPARE(o.auth.maxFailedLogins, 3);

        ServeOptions flags;
        QVERIFY(parseServeOptions({u"--demo"_s}, flags, error));
        QVERIFY(flags.auth.demo);
        QVERIFY(!parseServeOptions({u"--access-token-lifetime"_s, u"0"_s}, flags, error));
        QVERIFY(!parseServeOptions({u"--password-hash-memory"_s, u"lots"_s}, flags, error));
    }

    void demoMode()
    {
        ServerApp demo;
        ServeOptions o;
        o.port = 0;
        o.threads = 1;
        o.memoryStorage = true;
        o.jwtSecret = Secret;
        o.auth.demo = true;
        o.auth.passwordHashing = Cheap;
        QString error;
        QVERIFY2(demo.start(o, error), qPrintable(error));
        QCOMPARE(demoAccounts().size(), 7);
        QSet<QByteArray> tenants, roles;
        for (const DemoAccount &a : demoAccounts()) {
            const Reply r
                = send("POST", "/auth/login",
                       "{\"username\":\"" + a.username + "\",\"password\":\"" + a.password + "\"}",
                       "application/json", demo.port());
            QCOMPARE(r.status, 200);
            QCOMPARE(r.json["user"]["tenant"].bytes(), a.tenant);
            QCOMPARE(r.json["user"]["roles"][0].bytes(), a.role);
            tenants.insert(a.tenant);
            roles.insert(a.role);
        }
        QCOMPARE(tenants, (QSet<QByteArray> {"acme", "globex"}));
        QCOMPARE(roles, (QSet<QByteArray> {"Admin", "Editor", "Viewer", "Operator"}));
        demo.stop();

        // With a public key the server cannot sign: demo mode is a configuration error.
        ServerApp keyed;
        QTemporaryFile pem;
        QVERIFY(pem.open());
        pem.write("-----BEGIN PUBLIC KEY-----\n"
                  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzF3G2nxAqpISPT07EqcVrAE16xox\n"
                  "JMvCPF0rhVQxq+2l0TniJRKUpfbtkkXHUFU4jkjUU83D+OC47mA9+KkI+A==\n"
                  "-----END PUBLIC KEY-----\n");
        pem.close();
        o.jwtSecret.clear();
        o.jwtPublicKeyFile = pem.fileName();
        QVERIFY(!keyed.start(o, error));
        QVERIFY2(error.contains(u"demo"_s), qPrintable(error));
    }

private:
    /// A second server (in memory, no users) with `threads` connection threads and
    /// `hashingThreads` hashing threads, held by m_gate like the main one.
    bool startServer(ServerApp &server, int threads, int hashingThreads, int maxPending = 0)
    {
        ServeOptions o;
        o.port = 0;
        o.threads = threads;
        o.memoryStorage = true;
        o.jwtSecret = Secret;
        o.auth.passwordHashing = Cheap;
        o.auth.hashingThreads = hashingThreads;
        o.auth.maxPendingLogins = maxPending;
        o.auth.beforeHashing = [this] { m_gate.enter(); };
        QString error;
        if (!server.start(o, error)) {
            qWarning() << error;
            return false;
        }
        return true;
    }

    /// Sends without waiting; replyFinished() is emitted when the reply has finished.
    QNetworkReply *sendAsync(const QByteArray &method, const QByteArray &path,
                             const QByteArray &body, quint16 port = 0)
    {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port ? port : m_server.port())
                                         .arg(QString::fromUtf8(path))));
        if (!body.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
        connect(reply, &QNetworkReply::finished, this, &tst_AuthApi::replyFinished);
        return reply;
    }

    Reply send(const QByteArray &method, const QByteArray &path, const QByteArray &body,
               const QByteArray &contentType = "application/json", quint16 port = 0)
    {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port ? port : m_server.port())
                                         .arg(QString::fromUtf8(path))));
        if (!contentType.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(20000);
        return this->reply(reply);
    }

    /// The outcome of a finished reply (deleted later).
    Reply reply(QNetworkReply *reply)
    {
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.headers = reply->rawHeaderPairs();
        if (auto v = Json::parse(r.body))
            r.json = *v;
        reply->deleteLater();
        return r;
    }

    Reply post(const QByteArray &path, const QByteArray &body) { return send("POST", path, body); }

    Reply refresh(const QByteArray &token)
    {
        return post("/auth/refresh", "{\"refreshToken\":\"" + token + "\"}");
    }

    /// Connects to the notification hub with `token`; the user ids GetOnlineUsers returns, or
    /// empty if the connection failed.
    QString connectAndListOnline(const QString &token)
    {
        HubConnection hub(QUrl(u"http://127.0.0.1:%1/hubs/notifications"_s.arg(m_server.port())));
        hub.setAccessTokenProvider([token] {
            QPromise<QString> p;
            p.start();
            p.addResult(token);
            p.finish();
            return p.future();
        });
        hub.start();
        if (!QTest::qWaitFor(
                [&] {
                    return hub.state() == HubConnection::State::Connected
                        || hub.state() == HubConnection::State::Disconnected;
                },
                20000)
            || hub.state() != HubConnection::State::Connected)
            return {};
        QFuture<Value> online = hub.invoke("GetOnlineUsers");
        if (!QTest::qWaitFor([&] { return online.isFinished(); }, 20000) || online.isCanceled()
            || online.resultCount() == 0)
            return {};
        QStringList ids;
        for (const Value &u : online.result().array())
            ids.append(u["userId"].toString());
        hub.stop();
        if (!QTest::qWaitFor([&] { return hub.state() == HubConnection::State::Disconnected; },
                             20000))
            return {};
        return ids.join(u',');
    }

    Gate m_gate; // before m_server: its hashing threads may wait here until the server stops
    QTemporaryDir m_dir;
    std::unique_ptr<Storage> m_users;
    ServerApp m_server;
    QNetworkAccessManager m_network;
    std::atomic<qint64> m_now {0};
};

QTEST_GUILESS_MAIN(tst_AuthApi)
#include "tst_authapi.moc"
