// SPDX-License-Identifier: MIT
#include "transport/httpsession.h"
#include "transport/hubserver_p.h"
#include "transport/longpollingtransport.h"

namespace Heliograph::Server {

Worker::~Worker()
{
    cutLink();
    // A session's destructor removes it from the registry.
    while (!m_sessions.isEmpty())
        delete *m_sessions.cbegin();
}

void Worker::shutDown()
{
    QList<EntryPtr> entries;
    {
        QMutexLocker lock(&m_server.mutex);
        for (const EntryPtr &e : std::as_const(m_server.connections))
            if (e->worker == this)
                entries.append(e);
    }
    for (const EntryPtr &e : std::as_const(entries)) {
        HubConnectionContext *c;
        {
            QMutexLocker lock(&m_server.mutex);
            c = e->connection;
        }
        if (c) // started after stop() closed the others
            c->close(std::nullopt, true);
        LongPollingTransport *lp;
        {
            QMutexLocker lock(&m_server.mutex);
            lp = e->longPolling;
        }
        // Answers a poll still held (the answer is dropped if its session is gone); the
        // transport is deleted with its connection, or (still draining) with this worker.
        if (lp)
            lp->dispose();
    }
    // Closing a session cannot delete another (deletion is deferred), nor add one.
    const QList<HttpSession *> sessions = m_sessions.values();
    for (HttpSession *s : sessions)
        s->closeForShutdown();
    // Sessions waiting for a forwarded answer go too: answers that arrive later find no session
    // under their id and are dropped. Deferred route answers are no longer posted here.
    while (!m_sessions.isEmpty())
        delete *m_sessions.cbegin();
    cutLink();
}

} // namespace Heliograph::Server
