// SPDX-License-Identifier: MIT
#include "transport/tcpconnection.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcTcp, "heliograph.server.tcp", QtInfoMsg)

namespace Heliograph::Server {

namespace {
/// Events taken from the kernel per wakeup; more stay pending and wake the loop again.
constexpr int MaxEvents = 256;
/// Bytes read per readable() call, so one busy client cannot starve the thread's others.
constexpr qsizetype MaxReadPerCall = 256 * 1024;
/// Sent bytes are compacted out of the output queue once this many have accumulated.
constexpr qsizetype CompactAfter = 64 * 1024;
/// Queued output is sent at once, without waiting for the end of the thread's work, from here.
constexpr qsizetype SendAtOnceFrom = 64 * 1024;
} // namespace

struct Reactor::Batch {
    epoll_event events[MaxEvents];
    int count = 0;
};

Reactor::Reactor(QObject *parent)
    : QObject(parent)
    , m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0) {
        qCCritical(lcTcp) << "epoll_create1 failed:" << qt_error_string(errno);
        return;
    }
    m_notifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Reactor::dispatch);
}

Reactor::~Reactor()
{
    delete m_notifier;
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool Reactor::add(int fd, TcpConnection *c, quint32 events)
{
    epoll_event ev {};
    ev.events = events;
    ev.data.ptr = c;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Reactor::modify(int fd, TcpConnection *c, quint32 events)
{
    epoll_event ev {};
    ev.events = events;
    ev.data.ptr = c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
}

void Reactor::scheduleFlush(TcpConnection *c)
{
    m_toFlush.push_back(c);
    if (!m_flushPosted) {
        m_flushPosted = true;
        // Queued behind what the thread already has to do, so a burst is sent together.
        QMetaObject::invokeMethod(this, &Reactor::flushScheduled, Qt::QueuedConnection);
    }
}

void Reactor::flushScheduled()
{
    m_flushPosted = false;
    // Flushing may close connections (which unschedule themselves): iterate by index.
    std::vector<TcpConnection *> batch;
    batch.swap(m_toFlush);
    for (size_t i = 0; i < batch.size(); ++i) {
        TcpConnection *c = batch[i];
        if (!c)
            continue;
        c->m_flushScheduled = false;
        c->sendQueued();
    }
}

void Reactor::remove(int fd, TcpConnection *c)
{
    if (c->m_flushScheduled) {
        std::replace(m_toFlush.begin(), m_toFlush.end(), c, static_cast<TcpConnection *>(nullptr));
        c->m_flushScheduled = false;
    }
    if (fd >= 0)
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    // An event for it may still be in the batch being dispatched: forget it.
    if (m_batch)
        for (int i = 0; i < m_batch->count; ++i)
            if (m_batch->events[i].data.ptr == c)
                m_batch->events[i].data.ptr = nullptr;
}

void Reactor::dispatch()
{
    Batch batch;
    batch.count = ::epoll_wait(m_epoll, batch.events, MaxEvents, 0);
    if (batch.count <= 0)
        return;
    Batch *outer = std::exchange(m_batch, &batch);
    for (int i = 0; i < batch.count; ++i)
        if (auto *c = static_cast<TcpConnection *>(batch.events[i].data.ptr))
            c->onEvents(batch.events[i].events);
    m_batch = outer;
}

TcpConnection::TcpConnection(int fd, Handler &handler)
    : m_fd(fd)
    , m_handler(handler)
{
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    // Messages are written whole; waiting for more to coalesce only adds latency.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

TcpConnection::~TcpConnection()
{
    detach();
    if (m_fd >= 0)
        ::close(m_fd);
}

bool TcpConnection::attach(Reactor &reactor)
{
    if (m_fd < 0)
        return false;
    m_reactor = &reactor;
    m_writeInterest = false;
    if (!reactor.isValid() || !reactor.add(m_fd, this, interest())) {
        m_reactor = nullptr;
        close();
        return false;
    }
    updateInterest();
    if (bytesToWrite() > 0)
        sendQueued();
    return true;
}

void TcpConnection::detach()
{
    if (m_reactor)
        m_reactor->remove(m_fd, this);
    m_reactor = nullptr;
}

QByteArray TcpConnection::peerAddress() const
{
    sockaddr_storage addr {};
    socklen_t len = sizeof addr;
    if (m_fd < 0 || ::getpeername(m_fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
        return QByteArrayLiteral("?");
    return QHostAddress(reinterpret_cast<const sockaddr *>(&addr)).toString().toLatin1();
}

QByteArray TcpConnection::readAll()
{
    QByteArray data;
    if (m_fd < 0 || m_peerClosed)
        return data;
    thread_local char buffer[64 * 1024];
    while (data.size() < MaxReadPerCall) {
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            if (data.isEmpty())
                data = QByteArray(buffer, n);
            else
                data.append(buffer, n);
            if (size_t(n) < sizeof buffer)
                break; // drained
            continue;
        }
        if (n == 0) {
            m_peerClosed = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            m_peerClosed = m_failed = true;
        }
        break;
    }
    return data;
}

qint64 TcpConnection::bytesAvailable() const
{
    int n = 0;
    if (m_fd < 0 || ::ioctl(m_fd, FIONREAD, &n) != 0)
        return 0;
    return n;
}

void TcpConnection::write(QByteArrayView bytes)
{
    if (m_state != State::Connected || bytes.isEmpty() || m_failed)
        return;
    if (m_outPos >= CompactAfter) {
        m_out.remove(0, m_outPos);
        m_outPos = 0;
    }
    m_out.append(bytes.data(), bytes.size());
    if (bytesToWrite() >= SendAtOnceFrom) {
        sendQueued();
    } else if (!m_flushScheduled && m_reactor && !m_writeInterest) {
        m_flushScheduled = true;
        m_reactor->scheduleFlush(this);
    }
}

void TcpConnection::flush()
{
    if (m_fd >= 0 && bytesToWrite() > 0)
        sendQueued();
}

void TcpConnection::sendQueued()
{
    if (m_fd < 0)
        return;
    while (bytesToWrite() > 0 && !m_failed) {
        const ssize_t n
            = ::send(m_fd, m_out.constData() + m_outPos, size_t(bytesToWrite()), MSG_NOSIGNAL);
        if (n > 0) {
            m_outPos += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                m_failed = true; // the reactor reports the error and closes
            break;
        }
    }
    if (bytesToWrite() == 0) {
        m_out = QByteArray(); // an idle connection keeps no buffer
        m_outPos = 0;
        if (m_shutdownPending) {
            m_shutdownPending = false;
            ::shutdown(m_fd, SHUT_WR);
        }
        if (m_state == State::Closing) { // disconnectFromHost() waited for this
            close();
            return;
        }
    }
    updateInterest();
}

void TcpConnection::updateInterest()
{
    const bool want = bytesToWrite() > 0 || m_failed;
    if (!m_reactor || want == m_writeInterest)
        return;
    m_writeInterest = want;
    m_reactor->modify(m_fd, this, interest());
}

quint32 TcpConnection::interest() const
{
    // Level-triggered: input that is not read must not be asked for, or epoll reports it on
    // every pass.
    return (m_readPaused ? 0u : quint32(EPOLLIN | EPOLLRDHUP)) | (m_writeInterest ? EPOLLOUT : 0u);
}

void TcpConnection::setReadingPaused(bool paused)
{
    if (paused == m_readPaused)
        return;
    m_readPaused = paused;
    if (m_reactor && m_state != State::Closed)
        m_reactor->modify(m_fd, this, interest());
}

void TcpConnection::disconnectFromHost()
{
    if (m_state != State::Connected)
        return;
    m_state = State::Closing;
    if (bytesToWrite() == 0 || m_failed)
        close();
    else
        sendQueued(); // closes once everything is out
}

void TcpConnection::abort()
{
    if (m_state == State::Closed)
        return;
    m_out = QByteArray();
    m_outPos = 0;
    close();
}

void TcpConnection::shutdownWrite()
{
    if (m_fd < 0)
        return;
    if (bytesToWrite() > 0) {
        m_shutdownPending = true;
        return;
    }
    ::shutdown(m_fd, SHUT_WR);
}

void TcpConnection::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    detach();
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    m_out = QByteArray();
    m_outPos = 0;
    m_handler.closed();
}

void TcpConnection::onEvents(quint32 events)
{
    if (m_state == State::Closed)
        return;
    if (events & EPOLLOUT) {
        if (!m_failed)
            sendQueued();
        if (m_state == State::Closed)
            return;
        if (bytesToWrite() == 0 && !m_failed) {
            m_handler.drained();
            if (m_state == State::Closed)
                return;
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        // The handler reads (readAll), which also notices the peer's close or an error.
        if (m_state != State::Closed)
            m_handler.readable();
        if (m_state == State::Closed)
            return;
        if ((events & (EPOLLHUP | EPOLLERR)) && !m_peerClosed)
            readAll(); // an error without data: find out what it was
    }
    if (m_peerClosed || m_failed)
        close();
}

} // namespace Heliograph::Server
