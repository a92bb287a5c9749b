// SPDX-License-Identifier: MIT
#include "signalr/heartbeat_p.h"
#include "signalr/hubconnectioncontext.h"

#include <QtCore/QThread>

namespace Heliograph::Server {

namespace {
thread_local Heartbeat *t_heartbeat = nullptr;
}

Heartbeat::Heartbeat()
{
    m_timer.setInterval(1000);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, &Heartbeat::tickNow);
}

Heartbeat *Heartbeat::forCurrentThread()
{
    if (!t_heartbeat) {
        t_heartbeat = new Heartbeat;
        // Gone with its thread: deleted from the thread's own finished() emission.
        QThread *thread = QThread::currentThread();
        QObject::connect(
            thread, &QThread::finished, t_heartbeat,
            [hb = t_heartbeat]() {
                if (t_heartbeat == hb)
                    t_heartbeat = nullptr;
                delete hb;
            },
            Qt::DirectConnection);
    }
    return t_heartbeat;
}

qint64 Heartbeat::now() noexcept
{
    static const QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

void Heartbeat::add(HubConnectionContext *c)
{
    m_connections.insert(c);
    if (!m_timer.isActive())
        m_timer.start();
}

void Heartbeat::remove(HubConnectionContext *c)
{
    m_connections.remove(c);
    if (m_connections.isEmpty())
        m_timer.stop();
}

void Heartbeat::tickNow()
{
    const qint64 t = now();
    const QSet<HubConnectionContext *> snapshot = m_connections; // ticks may close connections
    for (HubConnectionContext *c : snapshot)
        if (m_connections.contains(c))
            c->tick(t);
}

} // namespace Heliograph::Server
