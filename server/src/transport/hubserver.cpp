// SPDX-License-Identifier: MIT
// HubServer: starting and stopping the worker threads, the listener and the sweep of
// negotiated connections that never started. The parts: hubserver_p.h (shared state),
// acceptor.cpp, worker.cpp, httpsession.cpp (HTTP), hubendpoint.cpp (hubs),
// longpollingtransport.h.
#include "transport/acceptor_p.h"
#include "transport/hubserver_p.h"
#include "transport/longpollingtransport.h"

#include <QtCore/QThread>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcHttp, "heliograph.server.http", QtInfoMsg)

namespace Heliograph::Server {

void HubServer::Private::sweep()
{
    // Negotiated connections that never started a transport are dropped after the timeout.
    const qint64 now = monotonicMs();
    Metrics &m = Metrics::instance();
    m.set("heliograph_tcp_connections", {}, sessions.load());
    m.set("heliograph_request_buffer_bytes", {}, double(requestBufferBytes.load()));
    QMutexLocker lock(&mutex);
    m.set("heliograph_pending_negotiations", {}, pending);
    connections.removeIf([&](QHash<QByteArray, EntryPtr>::iterator it) {
        const bool expired = (*it)->transport == TransportKind::None
            && now - (*it)->createdAt > config.disconnectTimeout.count();
        if (expired)
            forgetLocked(**it);
        return expired;
    });
}

// --- HubServer ----------------------------------------------------------------------------------

HubServer::HubServer(ServerConfig config, Authenticator authenticator, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->config = std::move(config);
    d->authenticator = std::move(authenticator);
    d->keepAliveHeader = "timeout="
        + QByteArray::number(std::chrono::duration_cast<std::chrono::seconds>(
                                 d->config.requestHeadersTimeout)
                                 .count());
}

HubServer::~HubServer()
{
    stop();
}

void HubServer::addHub(Hub &hub, HubLifetimeManager &lifetime, QByteArray refusal)
{
    d->endpoints.append({&hub, &lifetime, std::move(refusal)});
}

void HubServer::addRoute(QByteArray method, QByteArray path, RouteHandler handler)
{
    d->routes.append({std::move(method), std::move(path), std::move(handler)});
}

bool HubServer::listen()
{
    int n = d->config.threads > 0 ? d->config.threads : qMax(1, QThread::idealThreadCount());
    for (int i = 0; i < n; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(u"hub-worker-%1"_s.arg(i));
        auto *w = new Worker(*d);
        w->moveToThread(thread.get());
        QObject::connect(thread.get(), &QThread::finished, w, &QObject::deleteLater);
        thread->start();
        d->workers.push_back(w);
        d->threads.push_back(std::move(thread));
    }
    d->listener = std::make_unique<Private::Listener>(*d);
    d->listener->setMaxPendingConnections(1024);
    // Qt's default backlog (50) drops SYNs in a connect storm; the kernel caps this at somaxconn.
    d->listener->setListenBacklogSize(d->config.listenBacklog);
    if (!d->listener->listen(d->config.address, d->config.port))
        return false;
    // Accepting happens on the first worker (see Acceptor).
    d->listener->pauseAccepting();
    d->acceptor = new Private::Acceptor(*d, int(d->listener->socketDescriptor()));
    d->acceptor->moveToThread(d->threads.front().get());
    runOnAndWait(d->workers.front(), [a = d->acceptor] { a->start(); });
    struct Sweeper : QObject {
        HubServer::Private *p;
        void timerEvent(QTimerEvent *) override { p->sweep(); }
    };
    auto *sweeper = new Sweeper;
    sweeper->p = d.get();
    sweeper->setParent(this);
    d->sweepTimer.start(1000, sweeper);
    return true;
}

quint16 HubServer::port() const
{
    return d->listener ? d->listener->serverPort() : 0;
}

QString HubServer::errorString() const
{
    return d->listener ? d->listener->errorString() : QString();
}

int HubServer::threadCount() const
{
    return int(d->workers.size());
}

int HubServer::connectionCount() const
{
    QMutexLocker lock(&d->mutex);
    return int(d->connections.size());
}

int HubServer::sessionCount() const
{
    return d->sessions.load();
}

void HubServer::stop()
{
    if (d->stopping.exchange(true))
        return;
    d->sweepTimer.stop();
    // The listener stays open until long polling has drained (see closingSessions).
    // Tell every connection to come back later, on its own thread.
    QList<EntryPtr> entries;
    {
        QMutexLocker lock(&d->mutex);
        entries = d->connections.values();
    }
    for (const EntryPtr &e : std::as_const(entries)) {
        Worker *w;
        {
            QMutexLocker lock(&d->mutex);
            w = e->worker;
        }
        if (!w)
            continue;
        runOnAndWait(w, [e, d = d.get()] {
            HubConnectionContext *c;
            {
                QMutexLocker lock(&d->mutex);
                c = e->connection;
            }
            if (c)
                c->close(std::nullopt, true);
        });
    }
    // Long-polling clients fetch their Close with their next poll: give them a moment.
    {
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        QMutexLocker lock(&d->mutex);
        auto draining = [&] {
            for (const EntryPtr &e : std::as_const(d->connections))
                if (e->longPolling && !e->connection)
                    return true;
            return false;
        };
        while (draining() && std::chrono::steady_clock::now() < deadline)
            d->drained.wait_until(*lock.mutex(), deadline);
    }
    d->closingSessions = true;
    if (Private::Acceptor *a = std::exchange(d->acceptor, nullptr))
        runOnAndWait(d->workers.front(), [a] { delete a; });
    if (d->listener)
        d->listener->close();
    // Let what the closes produced reach the sockets: replies posted from one worker to
    // another (long polling), then the writes. Two rounds drain replies posted during the first.
    for (int round = 0; round < 2; ++round)
        for (Worker *w : d->workers)
            runOnAndWait(w, [] {});
    // Every worker ends what is left on its thread and deletes all of its sessions, while every
    // thread still runs. After its round a worker has no session and no long poll, so it
    // starts no cross-thread work of its own. What other workers posted before their rounds
    // (forwarded requests; sessions moving to another worker) is queued ahead of the last
    // round below, so it has run when that round is over: a forwarded request's answer goes to
    // the requester's worker, which no longer finds the session and drops it (or, arriving
    // after that worker's last round, is discarded with the worker when its thread ends); a
    // moving session closes itself on arrival. Nothing is posted to a worker after that.
    for (Worker *w : d->workers)
        runOnAndWait(w, [w] { w->shutDown(); });
    for (Worker *w : d->workers)
        runOnAndWait(w, [] {});
    for (auto &t : d->threads) {
        t->quit();
        t->wait();
    }
    d->threads.clear();
    d->workers.clear();
    QMutexLocker lock(&d->mutex);
    // Negotiated but never started, or long polls that never drained.
    for (const EntryPtr &e : std::as_const(d->connections))
        d->forgetLocked(*e);
    d->connections.clear();
}

} // namespace Heliograph::Server
