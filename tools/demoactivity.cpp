// SPDX-License-Identifier: MIT
// heliograph-demo-activity: keeps a demo server (`heliograph-server serve --demo`) alive for
// the desktop app: at a gentle rate it pushes notifications (push API, as the tenant admins),
// edits the shared "welcome" document (SendDocumentPatch, as the editors) and brings viewers
// online and offline (joins and leaves), in both demo tenants.
//
//   heliograph-demo-activity --url http://127.0.0.1:5000 [--interval-ms 2000]
//
// It signs in with the demo accounts' fixed, publicly known passwords (demo mode only; see
// `heliograph-server serve --demo`). Nothing it logs contains a password or a token.
#include <heliograph/client/hubconnection.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFuture>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QPromise>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

#include <cstdio>
#include <functional>
#include <map>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using Heliograph::HubConnection;
using Heliograph::Value;

namespace {

struct Account {
    QString username;
    QString tenant;
    QString password;
    QString role;
};

// The demo accounts heliograph-server seeds with --demo (their passwords are public).
const QList<Account> &accounts()
{
    static const QList<Account> list {
        {u"alice"_s, u"acme"_s, u"demo-alice-pass"_s, u"Admin"_s},
        {u"bob"_s, u"acme"_s, u"demo-bob-pass"_s, u"Editor"_s},
        {u"carol"_s, u"acme"_s, u"demo-carol-pass"_s, u"Viewer"_s},
        {u"dave"_s, u"globex"_s, u"demo-dave-pass"_s, u"Admin"_s},
        {u"erin"_s, u"globex"_s, u"demo-erin-pass"_s, u"Editor"_s},
        {u"frank"_s, u"globex"_s, u"demo-frank-pass"_s, u"Viewer"_s},
    };
    return list;
}

const QStringList &titles()
{
    static const QStringList list {u"Build finished"_s,     u"New comment"_s,
                                   u"Deployment started"_s, u"Invoice approved"_s,
                                   u"You were mentioned"_s, u"Backup completed"_s,
                                   u"Disk almost full"_s,   u"Weekly report ready"_s};
    return list;
}

const QStringList &types()
{
    static const QStringList list {u"info"_s, u"mention"_s, u"deploy"_s, u"alert"_s};
    return list;
}

const QStringList &words()
{
    static const QStringList list {u"sunrise"_s, u"signal"_s, u"mirror"_s,  u"relay"_s,
                                   u"beacon"_s,  u"flash"_s,  u"horizon"_s, u"morse"_s};
    return list;
}

class Activity : public QObject {
public:
    Activity(QUrl server, std::chrono::milliseconds interval)
        : m_server(std::move(server))
    {
        m_tick.setInterval(interval);
        connect(&m_tick, &QTimer::timeout, this, [this] { step(); });
        m_relogin.setInterval(10min); // access tokens live 15 minutes
        connect(&m_relogin, &QTimer::timeout, this, [this] { loginAll(); });
    }

    void start()
    {
        loginAll();
        m_relogin.start();
        m_tick.start();
    }

private:
    QUrl url(const QString &path) const
    {
        QUrl u = m_server;
        QString base = u.path();
        while (base.endsWith(u'/'))
            base.chop(1);
        u.setPath(base + path);
        return u;
    }

    void post(const QString &path, const QJsonObject &body, const QString &token,
              std::function<void(int, const QJsonObject &)> done)
    {
        QNetworkRequest request(url(path));
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        if (!token.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        QNetworkReply *reply = m_nam.post(request, QJsonDocument(body).toJson());
        connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
            reply->deleteLater();
            done(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                 QJsonDocument::fromJson(reply->readAll()).object());
        });
    }

    void loginAll()
    {
        for (const Account &a : accounts()) {
            post(u"/auth/login"_s, {{u"username"_s, a.username}, {u"password"_s, a.password}}, {},
                 [this, a](int status, const QJsonObject &answer) {
                     if (status != 200) {
                         std::fprintf(stderr, "demo-activity: %s cannot sign in (HTTP %d)\n",
                                      qPrintable(a.username), status);
                         return;
                     }
                     m_tokens[a.username] = answer.value(u"accessToken").toString();
                 });
        }
    }

    HubConnection *hubFor(const QString &username)
    {
        auto it = m_hubs.find(username);
        if (it != m_hubs.end())
            return it->second;
        auto *hub = new HubConnection(url(u"/hubs/notifications"_s), this);
        hub->setAccessTokenProvider([this, username] {
            QPromise<QString> p;
            p.start();
            p.addResult(m_tokens.value(username));
            p.finish();
            return p.future();
        });
        // The generator only acts; what the hub tells its users is not its concern (and would
        // otherwise be logged as "no handler").
        for (const char *method : {"ConnectionAcknowledged", "UserJoined", "UserLeft",
                                   "ReceiveNotification", "ReceiveSystemAlert", "DocumentUpdated"})
            hub->on(method, hub, [](const Heliograph::ValueList &) {});
        m_hubs[username] = hub;
        return hub;
    }

    void step()
    {
        if (m_tokens.size() < accounts().size()) {
            // The server was not up yet (or a sign-in failed): try again every few steps.
            if (++m_stepsWithoutTokens % 3 == 1)
                loginAll();
            return;
        }
        auto *rng = QRandomGenerator::global();
        const int dice = int(rng->bounded(100));
        if (dice < 45)
            pushNotification();
        else if (dice < 75)
            editDocument(rng->bounded(2) == 0 ? u"bob"_s : u"erin"_s);
        else
            toggleViewer(rng->bounded(2) == 0 ? u"carol"_s : u"frank"_s);
    }

    void pushNotification()
    {
        auto *rng = QRandomGenerator::global();
        const bool acme = rng->bounded(3) != 0; // acme is where the demo admin looks
        const QString admin = acme ? u"alice"_s : u"dave"_s;
        const QString tenant = acme ? u"acme"_s : u"globex"_s;
        QStringList users;
        for (const Account &a : accounts()) {
            if (a.tenant == tenant)
                users.append(a.username);
        }
        const QString to = users.at(int(rng->bounded(qsizetype(users.size()))));
        const QString &title = titles().at(int(rng->bounded(qsizetype(titles().size()))));
        const QString &type = types().at(int(rng->bounded(qsizetype(types().size()))));
        const QJsonObject body {
            {u"title"_s, title},
            {u"body"_s, u"%1 for %2 (#%3)"_s.arg(title, to, QString::number(++m_counter))},
            {u"type"_s, type}};
        post(u"/api/tenants/%1/users/%2/notifications"_s.arg(tenant, to), body,
             m_tokens.value(admin), [to](int status, const QJsonObject &) {
                 if (status != 202)
                     std::fprintf(stderr, "demo-activity: push to %s: HTTP %d\n", qPrintable(to),
                                  status);
             });
    }

    void editDocument(const QString &editor)
    {
        HubConnection *hub = hubFor(editor);
        if (hub->state() == HubConnection::State::Disconnected) {
            hub->start();
            return; // the edit comes at a later step
        }
        if (hub->state() != HubConnection::State::Connected)
            return;
        auto *rng = QRandomGenerator::global();
        const QJsonObject patch {
            {u"op"_s, u"append"_s},
            {u"text"_s, words().at(int(rng->bounded(qsizetype(words().size()))))}};
        hub->invoke("SendDocumentPatch",
                    {Value::fromUtf8(QByteArrayLiteral("welcome")),
                     Value::fromUtf8(QJsonDocument(patch).toJson(QJsonDocument::Compact))},
                    this, [editor](const Heliograph::HubResult<Value> &r) {
                        if (!r)
                            std::fprintf(stderr, "demo-activity: %s's patch: %s\n",
                                         qPrintable(editor), qPrintable(r.error().message));
                    });
    }

    void toggleViewer(const QString &viewer)
    {
        HubConnection *hub = hubFor(viewer);
        if (hub->state() == HubConnection::State::Disconnected)
            hub->start(); // UserJoined to the tenant
        else if (hub->state() == HubConnection::State::Connected)
            hub->stop(); // UserLeft
    }

    QUrl m_server;
    QNetworkAccessManager m_nam;
    QTimer m_tick;
    QTimer m_relogin;
    QHash<QString, QString> m_tokens;
    std::map<QString, HubConnection *> m_hubs;
    int m_counter = 0;
    int m_stepsWithoutTokens = 0;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"heliograph-demo-activity"_s);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Demo activity for heliograph-server --demo."_s);
    parser.addHelpOption();
    const QCommandLineOption urlOption(u"url"_s, u"The server (default http://127.0.0.1:5000)."_s,
                                       u"url"_s, u"http://127.0.0.1:5000"_s);
    const QCommandLineOption intervalOption(
        u"interval-ms"_s, u"Milliseconds between actions (default 2000)."_s, u"ms"_s, u"2000"_s);
    parser.addOptions({urlOption, intervalOption});
    parser.process(app);
    const int interval = qMax(100, parser.value(intervalOption).toInt());
    Activity activity(QUrl(parser.value(urlOption)), std::chrono::milliseconds(interval));
    activity.start();
    std::printf("demo activity on %s every %d ms (Ctrl-C stops)\n",
                qPrintable(parser.value(urlOption)), interval);
    std::fflush(stdout);
    return QCoreApplication::exec();
}
