// SPDX-License-Identifier: MIT
// The server's sockets, without QTcpSocket. Measured (docs/benchmarks.md): a QTcpSocket keeps
// a 16 KB read chunk and a 32 KB write chunk per connection, most of an idle connection's
// memory, and every socket notifier is one more descriptor that the event loop polls on each
// iteration. Here each event-loop thread has one epoll set (a Reactor) watched by a single
// QSocketNotifier; a TcpConnection reads straight from the kernel and coalesces its writes:
// what is written while the thread is busy goes out in one send() when the thread gets to the
// end of its current work (measured: one send per message made the kernel's per-packet work
// the limit of a large fan-out).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <memory>
#include <vector>

class QSocketNotifier;

namespace Heliograph::Server {

class TcpConnection;

/// One thread's epoll set. Lives on, and is only used from, the thread it was created on.
class Reactor : public QObject {
public:
    explicit Reactor(QObject *parent = nullptr);
    ~Reactor() override;
    bool isValid() const { return m_epoll >= 0; }

private:
    friend class TcpConnection;
    bool add(int fd, TcpConnection *c, quint32 events);
    void modify(int fd, TcpConnection *c, quint32 events);
    void remove(int fd, TcpConnection *c);
    void dispatch();
    /// Flushes `c` once the thread has finished what it is doing now.
    void scheduleFlush(TcpConnection *c);
    void flushScheduled();

    int m_epoll = -1;
    QSocketNotifier *m_notifier = nullptr;
    struct Batch;
    Batch *m_batch = nullptr; ///< the events being dispatched, if any
    std::vector<TcpConnection *> m_toFlush;
    bool m_flushPosted = false;
};

/// A connected, non-blocking TCP socket served by a Reactor.
class TcpConnection {
public:
    /// What the owner hears; called on the reactor's thread.
    class Handler {
    public:
        /// Bytes arrived (call readAll()), or the peer closed (readAll() returns what is left).
        virtual void readable() = 0;
        /// The connection is closed (by the peer, an error, abort() or disconnectFromHost());
        /// called once, possibly from inside abort() or disconnectFromHost().
        virtual void closed() = 0;
        /// Everything queued has been handed to the kernel.
        virtual void drained() { }

    protected:
        ~Handler() = default;
    };

    enum class State : quint8 { Connected, Closing, Closed };

    /// Takes ownership of `fd` (made non-blocking, TCP_NODELAY).
    TcpConnection(int fd, Handler &handler);
    ~TcpConnection();
    TcpConnection(const TcpConnection &) = delete;
    TcpConnection &operator=(const TcpConnection &) = delete;

    /// Starts watching the socket on `reactor` (the calling thread's). False: closed at once.
    bool attach(Reactor &reactor);
    /// Stops watching (before the owner moves to another thread and attaches there).
    void detach();

    State state() const { return m_state; }
    bool isConnected() const { return m_state == State::Connected; }
    int descriptor() const { return m_fd; }
    /// The peer's address as text (for logs).
    QByteArray peerAddress() const;

    /// Everything the kernel holds for this socket (bounded per call; the rest is reported
    /// again). Notices the peer's close, which then ends the connection after readable().
    QByteArray readAll();
    /// Bytes waiting in the kernel.
    qint64 bytesAvailable() const;

    /// Queues `bytes`; they are sent when the thread finishes its current work (or at once
    /// when much is queued). Ignored unless connected.
    void write(QByteArrayView bytes);
    qint64 bytesToWrite() const { return m_out.size() - m_outPos; }
    /// Hands queued bytes to the kernel now, as far as it takes them.
    void flush();
    /// Closes once everything queued has been sent.
    void disconnectFromHost();
    /// Closes now; what is queued is dropped.
    void abort();
    /// Half-closes: no more sending (FIN once the queue is empty), reading goes on.
    void shutdownWrite();
    /// Stops (or resumes) watching for input: what the peer sends waits in the kernel, whose
    /// receive window then slows the peer down. Errors and hang-ups are still reported.
    void setReadingPaused(bool paused);
    bool isReadingPaused() const { return m_readPaused; }

private:
    friend class Reactor;
    void onEvents(quint32 events);
    void sendQueued();
    void updateInterest();
    quint32 interest() const;
    void close();

    int m_fd;
    Handler &m_handler;
    QPointer<Reactor> m_reactor; ///< null once the thread's reactor is gone (shutdown)
    QByteArray m_out;
    qsizetype m_outPos = 0;
    State m_state = State::Connected;
    bool m_peerClosed = false;
    bool m_failed = false;
    bool m_writeInterest = false;
    bool m_shutdownPending = false;
    bool m_flushScheduled = false;
    bool m_readPaused = false;
};

} // namespace Heliograph::Server
