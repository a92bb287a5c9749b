// SPDX-License-Identifier: MIT
#pragma once

#include "transport/hubserver_p.h"

#include <QtCore/QSocketNotifier>
#include <QtCore/QTimerEvent>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Heliograph::Server {

/// Answers a TCP connection the server does not take (503) and closes it, without a session:
/// a refusal must cost next to nothing. What the client already sent is read and dropped first,
/// so that the close is a FIN and not a reset that could destroy the answer.
void refuseSocket(int fd, QByteArrayView reason);

/// Accepts connections on the first worker's thread, not on the thread that owns the
/// HubServer: stop() blocks that one while long polling drains, and accepting must go on
/// meanwhile. QTcpServer binds and listens; its own accepting is paused.
///
/// Out of descriptors (EMFILE, ENFILE), accept() fails at once and the pending connection stays
/// in the queue, so a level-triggered watcher would spin. Instead the head of the queue is taken
/// with a descriptor kept in reserve and answered 503, and accepting pauses for a moment.
class HubServer::Private::Acceptor : public QObject {
public:
    Acceptor(HubServer::Private &server, int fd)
        : m_server(server)
        , m_fd(fd)
    { }
    ~Acceptor() override
    {
        if (m_reserve >= 0)
            ::close(m_reserve);
    }
    /// On the acceptor's thread.
    void start()
    {
        m_reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
        QObject::connect(m_notifier, &QSocketNotifier::activated, this, [this] { acceptReady(); });
    }

protected:
    void timerEvent(QTimerEvent *e) override
    {
        if (e->timerId() != m_pause.timerId())
            return;
        m_pause.stop();
        m_notifier->setEnabled(true);
    }

private:
    static constexpr std::chrono::milliseconds PauseAfterError {250};

    void acceptReady()
    {
        // A bounded batch per wake-up: the thread also serves its own connections.
        for (int i = 0; i < 64; ++i) {
            const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                m_server.adopt(fd);
                continue;
            }
            switch (errno) {
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
                continue;
            case EAGAIN:
#if EAGAIN != EWOULDBLOCK
            case EWOULDBLOCK:
#endif
                return;
            default:
                outOfResources(errno);
                return;
            }
        }
    }

    void outOfResources(int error)
    {
        Metrics::instance().add("heliograph_connections_refused_total",
                                {{"reason", "accept-error"}});
        if (!m_errorLog.isValid() || m_errorLog.elapsed() > 5000) {
            m_errorLog.start();
            qCWarning(lcHttp) << "accepting connections failed:" << qt_error_string(error)
                              << "- pausing; raise the open-file limit or lower max-connections";
        }
        if ((error == EMFILE || error == ENFILE) && m_reserve >= 0) {
            ::close(m_reserve);
            const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
                refuseSocket(fd, "The server is out of resources; try again later.");
            m_reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        m_notifier->setEnabled(false);
        m_pause.start(int(PauseAfterError.count()), this);
    }

    HubServer::Private &m_server;
    const int m_fd;
    int m_reserve = -1;
    QSocketNotifier *m_notifier = nullptr;
    QBasicTimer m_pause;
    QElapsedTimer m_errorLog;
};

} // namespace Heliograph::Server
