// SPDX-License-Identifier: MIT
#pragma once

#include "transport/hubserver_p.h"

#include <functional>

namespace Heliograph::Server {

/// Output buffer + the outstanding poll of a long-polling connection. Lives on the connection's
/// thread.
class LongPollingTransport : public QObject, public ConnectionTransport {
public:
    using Reply = std::function<void(HttpResponse)>;

    LongPollingTransport(HubServer::Private &server, EntryPtr entry)
        : m_server(server)
        , m_entry(std::move(entry))
    {
        m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
    }

    TransferFormat supportedFormats() const override
    {
        return TransferFormat::Text | TransferFormat::Binary;
    }
    bool hasInherentKeepAlive() const override { return true; }

    void write(const QByteArray &bytes) override
    {
        // Over the limit before this message: the client has stopped polling. One message
        // larger than the limit is not a reason (a large result is not a slow reader).
        const bool overLimit = m_buffer.size() > m_server.config.maxQueuedOutputBytes;
        m_buffer.append(bytes.constData(),
                        bytes.size()); // copied: see HubConnectionContext::writeRaw
        if (overLimit) {
            qCInfo(lcHttp) << "connection" << m_entry->id
                           << "long-polling client is not polling: closing";
            m_buffer.clear();
            // Queued: ending the connection here would re-enter the hub from inside a send.
            postTo(this, [this] { dispose(); });
            return;
        }
        flush();
    }

    void end() override
    {
        m_ended = true;
        flush();
    }

    void poll(Reply reply)
    {
        if (m_pending) // a newer poll supersedes the outstanding one
            std::exchange(m_pending, nullptr)(textResponse(204));
        m_idle.stop();
        if (m_disposed) {
            reply(textResponse(204));
            return;
        }
        m_pending = std::move(reply);
        m_pollTimer.start(int(m_server.config.longPollTimeout.count()), this);
        flush();
    }

    /// Output the client has not polled yet.
    bool hasUndelivered() const noexcept { return !m_buffer.isEmpty() && !m_disposed; }
    /// After the connection ended: called once everything was polled (or the client is gone).
    void setOnFinished(std::function<void()> f) { m_onFinished = std::move(f); }

    /// DELETE, timeout, or a client that stopped polling.
    void dispose()
    {
        if (m_disposed)
            return;
        m_disposed = true;
        if (auto f = std::exchange(m_onFinished, nullptr))
            postTo(this, std::move(f));
        if (m_pending)
            std::exchange(m_pending, nullptr)(textResponse(204));
        m_pollTimer.stop();
        m_idle.stop();
        if (HubConnectionContext *c = m_entry->connection)
            c->transportEnded();
    }

protected:
    void timerEvent(QTimerEvent *e) override
    {
        if (e->timerId() == m_pollTimer.timerId()) {
            m_pollTimer.stop();
            if (m_pending) { // nothing to say within the poll timeout: an empty 200
                HttpResponse r(200);
                r.setBody({}, "text/plain");
                std::exchange(m_pending, nullptr)(std::move(r));
                m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
            }
        } else if (e->timerId() == m_idle.timerId()) {
            qCInfo(lcHttp) << "connection" << m_entry->id
                           << "long polling: no poll within the disconnect timeout";
            dispose();
        }
    }

private:
    void flush()
    {
        if (!m_pending)
            return;
        if (!m_buffer.isEmpty()) {
            HttpResponse r(200);
            r.setBody(std::exchange(m_buffer, {}), "application/octet-stream");
            std::exchange(m_pending, nullptr)(std::move(r));
        } else if (m_ended) {
            std::exchange(m_pending, nullptr)(textResponse(204));
            dispose();
        } else {
            return;
        }
        m_pollTimer.stop();
        if (!m_disposed)
            m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
    }

    HubServer::Private &m_server;
    EntryPtr m_entry;
    QByteArray m_buffer;
    Reply m_pending;
    QBasicTimer m_pollTimer;
    QBasicTimer m_idle;
    bool m_ended = false;
    bool m_disposed = false;
    std::function<void()> m_onFinished;
};

} // namespace Heliograph::Server
