// SPDX-License-Identifier: MIT
#include "httptransports_p.h"
#include "logging_p.h"

#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

using namespace Qt::StringLiterals;

namespace Heliograph::Detail {

namespace {
constexpr int CloseTimeoutMs = 5000;
/// The server answers a poll within 90 s (its poll timeout); a poll silent for longer is
/// dead, as the JavaScript client assumes.
constexpr int PollTimeoutMs = 100000;

int statusOf(QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

void discard(QPointer<QNetworkReply> &reply, QObject *receiver)
{
    if (QNetworkReply *r = reply.data()) {
        reply = nullptr;
        r->disconnect(receiver);
        r->abort();
        r->deleteLater();
    }
}

TransportError missingManager()
{
    return {Error::TransportFailed, u"The network access manager is gone."_s, 0};
}
} // namespace

// --- Server-Sent Events -------------------------------------------------------------------

ServerSentEventsTransport::ServerSentEventsTransport(QObject *parent)
    : Transport(parent)
    , m_sender(this)
{
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        m_sender.abort();
        stopStream();
        finish({});
    });
    connect(&m_sender, &HttpSender::failed, this, [this](const TransportError &e) {
        stopStream();
        finish(m_state == State::Closing ? TransportError {} : e);
    });
    connect(&m_sender, &HttpSender::idle, this, [this] {
        if (m_state == State::Closing) {
            m_closeTimer.stop();
            stopStream();
            finish({});
        }
    });
    connect(&m_sender, &HttpSender::roundTripMeasured, this, &Transport::roundTripMeasured);
}

ServerSentEventsTransport::~ServerSentEventsTransport()
{
    stopStream();
}

void ServerSentEventsTransport::open(const Options &options)
{
    m_state = State::Opening;
    m_maxMessageSize = options.maxMessageSize;
    if (!options.request.manager) {
        finish(missingManager());
        return;
    }
    m_sender.setTarget(options.url, options.request);
    QNetworkRequest request = makeRequest(options.url, options.request);
    request.setRawHeader("Accept", "text/event-stream");
    qCDebug(lcHubTransport) << "opening Server-Sent Events" << redacted(options.url);
    QNetworkReply *reply = options.request.manager->get(request);
    m_reply = reply;
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, reply] {
        if (reply == m_reply && statusOf(reply) == 200)
            setOpened();
    });
    connect(reply, &QNetworkReply::readyRead, this, &ServerSentEventsTransport::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &ServerSentEventsTransport::onFinished);
}

void ServerSentEventsTransport::onReadyRead()
{
    if (!m_reply)
        return;
    if (m_state == State::Opening && statusOf(m_reply) == 200)
        setOpened();
    if (m_state != State::Open) // an error body, or we are closing: read it at the end
        return;
    m_buffer += m_reply->readAll();
    QPointer<ServerSentEventsTransport> self(this);
    parse();
    if (!self || m_state != State::Open)
        return;
    // What is left is one unfinished line and the data of an unfinished event.
    const qint64 bound = transportBufferLimit(m_maxMessageSize);
    if (bound > 0 && qint64(m_buffer.size()) + qint64(m_data.size()) > bound) {
        qCDebug(lcHubTransport) << "Server-Sent Events: an event over" << bound << "bytes";
        m_sender.abort();
        stopStream();
        finish(messageTooLarge(m_maxMessageSize));
    }
}

void ServerSentEventsTransport::parse()
{
    QPointer<ServerSentEventsTransport> self(this);
    qsizetype offset = 0;
    while (m_state == State::Open) {
        // (the unfinished line left by the previous call was searched already)
        const qsizetype end = m_buffer.indexOf('\n', qMax(offset, m_scanned));
        if (end < 0)
            break;
        QByteArrayView line(m_buffer.constData() + offset, end - offset);
        offset = end + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) { // end of an event
            if (m_hasData) {
                const QByteArray payload = std::exchange(m_data, {});
                m_hasData = false;
                Q_EMIT received(payload);
                if (!self)
                    return;
            }
            continue;
        }
        if (line.startsWith(':')) // a comment (the server's first bytes are ":\r\n")
            continue;
        const qsizetype colon = line.indexOf(':');
        const QByteArrayView field = colon < 0 ? line : line.first(colon);
        QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
        if (field == "data") {
            if (m_hasData)
                m_data += '\n';
            m_data += value;
            m_hasData = true;
        }
    }
    m_buffer.remove(0, offset);
    m_scanned = m_buffer.size();
}

void ServerSentEventsTransport::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->deleteLater();
    switch (m_state) {
    case State::Opening:
        finish(replyError(reply, u"The Server-Sent Events request"_s));
        return;
    case State::Open:
        m_sender.abort();
        // The end of the body cannot tell an orderly end from a dropped connection (the body
        // runs until the connection closes), so both count as a failed transport; an orderly
        // end by the server comes with a Close message first anyway.
        if (reply->error() != QNetworkReply::NoError)
            finish(
                {Error::TransportFailed,
                 u"The Server-Sent Events stream failed: %1."_s.arg(redacted(reply->errorString())),
                 statusOf(reply)});
        else
            finish({Error::TransportFailed, u"The Server-Sent Events stream ended."_s, 0});
        return;
    default:
        return;
    }
}

void ServerSentEventsTransport::stopStream()
{
    discard(m_reply, this);
}

void ServerSentEventsTransport::send(const QByteArray &payload, std::function<void(bool)> done)
{
    if (m_state != State::Open) {
        if (done)
            done(false);
        return;
    }
    m_sender.send(payload, std::move(done));
}

void ServerSentEventsTransport::close()
{
    switch (m_state) {
    case State::Idle:
        finish({});
        return;
    case State::Opening:
        stopStream();
        finish({});
        return;
    case State::Open:
        m_state = State::Closing;
        if (m_sender.isIdle()) {
            stopStream();
            finish({});
        } else {
            m_closeTimer.start(CloseTimeoutMs);
        }
        return;
    case State::Closing:
    case State::Closed:
        return;
    }
}

// --- long polling -------------------------------------------------------------------------

LongPollingTransport::LongPollingTransport(QObject *parent)
    : Transport(parent)
    , m_sender(this)
{
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        m_sender.abort();
        discard(m_poll, this);
        discard(m_delete, this);
        finish({});
    });
    connect(&m_sender, &HttpSender::failed, this, [this](const TransportError &e) {
        if (m_state == State::Closing) {
            discard(m_poll, this);
            sendDelete();
            return;
        }
        discard(m_poll, this);
        finish(e);
    });
    connect(&m_sender, &HttpSender::idle, this, [this] {
        if (m_state == State::Closing && !m_delete) {
            discard(m_poll, this);
            sendDelete();
        }
    });
    connect(&m_sender, &HttpSender::roundTripMeasured, this, &Transport::roundTripMeasured);
}

LongPollingTransport::~LongPollingTransport()
{
    discard(m_poll, this);
    discard(m_delete, this);
}

void LongPollingTransport::open(const Options &options)
{
    m_state = State::Opening;
    m_options = options;
    if (!options.request.manager) {
        finish(missingManager());
        return;
    }
    m_sender.setTarget(options.url, options.request);
    qCDebug(lcHubTransport) << "opening long polling" << redacted(options.url);
    poll();
}

void LongPollingTransport::poll()
{
    if (!m_options.request.manager) {
        finish(missingManager());
        return;
    }
    QNetworkRequest request = makeRequest(m_options.url, m_options.request);
    request.setTransferTimeout(PollTimeoutMs);
    QNetworkReply *reply = m_options.request.manager->get(request);
    m_poll = reply;
    if (const qint64 bound = transportBufferLimit(m_options.maxMessageSize)) {
        // A response (several messages, possibly) over the bound fails as soon as its
        // Content-Length announces it or that much has arrived, not once it is all buffered.
        auto check = [this, reply, bound] {
            if (m_poll != reply
                || (reply->header(QNetworkRequest::ContentLengthHeader).toLongLong() <= bound
                    && reply->bytesAvailable() <= bound))
                return;
            qCDebug(lcHubTransport) << "long polling: a response over" << bound << "bytes";
            if (m_state == State::Closing) { // the DELETE follows as usual
                discard(m_poll, this);
                return;
            }
            m_sender.abort();
            discard(m_poll, this);
            finish(messageTooLarge(m_options.maxMessageSize));
        };
        connect(reply, &QNetworkReply::metaDataChanged, this, check);
        connect(reply, &QNetworkReply::readyRead, this, check);
    }
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (m_poll != reply)
            return;
        m_poll = nullptr;
        const int status = statusOf(reply);
        if (m_state == State::Opening) {
            if (reply->error() != QNetworkReply::NoError || status != 200) {
                finish(replyError(reply, u"The first long-polling request"_s));
                return;
            }
            setOpened();
            if (m_state != State::Open)
                return;
            const QByteArray body = reply->readAll();
            QPointer<LongPollingTransport> self(this);
            if (!body.isEmpty())
                Q_EMIT received(body);
            if (self && m_state == State::Open)
                poll();
            return;
        }
        if (m_state != State::Open)
            return;
        if (reply->error() == QNetworkReply::OperationCanceledError
            || reply->error() == QNetworkReply::TimeoutError) {
            if (status == 0) { // the transfer timeout: just poll again
                poll();
                return;
            }
        }
        if (status == 204) {
            m_sender.abort();
            finish({Error::ServerClosed, u"The server ended the long-polling connection."_s, 204});
            return;
        }
        if (reply->error() != QNetworkReply::NoError || status != 200) {
            m_sender.abort();
            finish(replyError(reply, u"Long polling"_s));
            return;
        }
        const QByteArray body = reply->readAll();
        QPointer<LongPollingTransport> self(this);
        if (!body.isEmpty()) {
            qCDebug(lcHubTransport) << "poll received" << body.size() << "bytes";
            Q_EMIT received(body);
        }
        if (self && m_state == State::Open)
            poll();
    });
}

void LongPollingTransport::sendDelete()
{
    if (!m_options.request.manager) {
        finish({});
        return;
    }
    QNetworkReply *reply
        = m_options.request.manager->deleteResource(makeRequest(m_options.url, m_options.request));
    m_delete = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (m_delete != reply)
            return;
        m_delete = nullptr;
        // 202, or 404 when the server ended the connection already: both are fine.
        qCDebug(lcHubTransport) << "long-polling DELETE answered" << statusOf(reply);
        m_closeTimer.stop();
        finish({});
    });
}

void LongPollingTransport::send(const QByteArray &payload, std::function<void(bool)> done)
{
    if (m_state != State::Open) {
        if (done)
            done(false);
        return;
    }
    m_sender.send(payload, std::move(done));
}

void LongPollingTransport::close()
{
    switch (m_state) {
    case State::Idle:
        finish({});
        return;
    case State::Opening:
        discard(m_poll, this);
        finish({});
        return;
    case State::Open:
        m_state = State::Closing;
        m_closeTimer.start(CloseTimeoutMs);
        if (m_sender.isIdle()) {
            discard(m_poll, this);
            sendDelete();
        }
        return;
    case State::Closing:
    case State::Closed:
        return;
    }
}

} // namespace Heliograph::Detail
