// SPDX-License-Identifier: MIT
// Taking connections in: the Acceptor, and HubServer::Private::adopt(), which admits a socket
// (max-connections, max-connections-per-address) and hands it to a worker.
#include "transport/acceptor_p.h"
#include "transport/httpsession.h"

#include <netinet/in.h>

namespace Heliograph::Server {

void refuseSocket(int fd, QByteArrayView reason)
{
    const QByteArray answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                              "Content-Length: "
        + QByteArray::number(reason.size()) + "\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
        + reason;
    char sink[4096];
    for (int i = 0; i < 4 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) { }
    [[maybe_unused]] const ssize_t sent
        = ::send(fd, answer.constData(), size_t(answer.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

void HubServer::Private::adopt(qintptr fd)
{
    if (workers.empty() || closingSessions) {
        ::close(int(fd));
        return;
    }
    if (config.maxConnections > 0 && sessions.load() >= config.maxConnections) {
        Metrics::instance().add("heliograph_connections_refused_total",
                                {{"reason", "max-connections"}});
        if (refusalLog.elapsed() > 1000 || !refusalLog.isValid()) {
            refusalLog.start();
            qCWarning(lcHttp) << "refusing connections: at the limit of" << config.maxConnections
                              << "(max-connections)";
        }
        refuseSocket(int(fd), "The server is at its connection limit.");
        return;
    }
    QByteArray address; // null: not counted per address
    if (config.maxConnectionsPerAddress > 0) {
        address = QByteArrayLiteral("?"); // an address getpeername() cannot tell
        sockaddr_storage peer {};
        socklen_t length = sizeof peer;
        if (::getpeername(int(fd), reinterpret_cast<sockaddr *>(&peer), &length) == 0) {
            if (peer.ss_family == AF_INET6)
                address = QByteArray(reinterpret_cast<const char *>(
                                         &reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_addr),
                                     16);
            else if (peer.ss_family == AF_INET)
                address = QByteArray(reinterpret_cast<const char *>(
                                         &reinterpret_cast<const sockaddr_in *>(&peer)->sin_addr),
                                     4);
        }
        QMutexLocker lock(&addressMutex);
        int &count = perAddress[address];
        if (count >= config.maxConnectionsPerAddress) {
            if (count == 0)
                perAddress.remove(address);
            lock.unlock();
            Metrics::instance().add("heliograph_connections_refused_total",
                                    {{"reason", "address-limit"}});
            refuseSocket(int(fd), "Too many connections from this address.");
            return;
        }
        ++count;
    }
    ++sessions; // here, not on the worker: the next accept must see it
    Worker *w = workers[nextWorker++ % workers.size()];
    postTo(w, [this, w, fd, address] {
        new HttpSession(*this, *w, fd, address); // registered with `w`
    });
}

void HubServer::Private::releaseAddress(const QByteArray &address)
{
    QMutexLocker lock(&addressMutex);
    auto it = perAddress.find(address);
    if (it != perAddress.end() && --*it <= 0)
        perAddress.remove(address);
}

} // namespace Heliograph::Server
