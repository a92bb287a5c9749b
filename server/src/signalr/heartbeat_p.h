// SPDX-License-Identifier: MIT
// One 1-second timer per event-loop thread drives handshake timeouts, keep-alive pings and
// client timeouts for every connection of that thread (no timer object per connection).
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QTimer>

namespace Heliograph::Server {

class HubConnectionContext;

class Heartbeat : public QObject {
public:
    static Heartbeat *forCurrentThread();
    static qint64 now() noexcept;

    void add(HubConnectionContext *c);
    void remove(HubConnectionContext *c);
    /// Runs one tick now (tests; the timer runs it every second).
    void tickNow();

private:
    Heartbeat();
    QTimer m_timer;
    QSet<HubConnectionContext *> m_connections;
};

} // namespace Heliograph::Server
