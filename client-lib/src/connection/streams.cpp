// SPDX-License-Identifier: MIT
// HubError, Subscription, HubStream, UploadStream and the retry policies.
#include "hubconnection_p.h"
#include "logging_p.h"

#include <QtCore/QRandomGenerator>

using namespace Qt::StringLiterals;

namespace Heliograph {

// --- HubErrorException --------------------------------------------------------------------

struct Q_DECL_HIDDEN HubErrorException::Private {
    HubError error;
    QByteArray what; ///< error.message as UTF-8, for what()
};

HubErrorException::HubErrorException(HubError error)
    : d(std::make_unique<Private>(Private {std::move(error), {}}))
{
    d->what = d->error.message.toUtf8();
}

HubErrorException::~HubErrorException() = default;

HubErrorException::HubErrorException(const HubErrorException &other)
    : QException(other)
    , d(std::make_unique<Private>(*other.d))
{ }

HubErrorException &HubErrorException::operator=(const HubErrorException &other)
{
    if (this != &other) {
        QException::operator=(other);
        *d = *other.d;
    }
    return *this;
}

const HubError &HubErrorException::error() const noexcept
{
    return d->error;
}

const char *HubErrorException::what() const noexcept
{
    return d->what.constData();
}

void HubErrorException::raise() const
{
    throw *this;
}

HubErrorException *HubErrorException::clone() const
{
    return new HubErrorException(*this);
}

// --- Subscription -------------------------------------------------------------------------

Subscription::Subscription() = default;
Subscription::~Subscription() = default;
Subscription::Subscription(const Subscription &) = default;
Subscription::Subscription(Subscription &&) noexcept = default;
Subscription &Subscription::operator=(const Subscription &) = default;
Subscription &Subscription::operator=(Subscription &&) noexcept = default;

Subscription::Subscription(std::shared_ptr<Data> data)
    : d(std::move(data))
{ }

bool Subscription::isActive() const
{
    return d && d->connection && d->connection->d->hasHandler(d->id);
}

void Subscription::disconnect()
{
    if (d && d->connection)
        d->connection->d->removeHandler(d->id);
}

QByteArray Subscription::method() const
{
    return d ? d->method : QByteArray();
}

// --- HubStream ----------------------------------------------------------------------------

HubStream::HubStream(HubConnection *connection)
    : QObject(connection)
    , d(std::make_unique<Private>())
{
    d->connection = connection;
}

HubStream::~HubStream()
{
    if (d->finished || !d->connection)
        return;
    HubConnection::Private *c = d->connection->d.get();
    c->streams.remove(d->invocationId);
    if (!d->invocationId.isEmpty() && c->isCurrent(d->session))
        c->sendMessage(CancelInvocationMessage {{}, d->invocationId});
}

QByteArray HubStream::invocationId() const
{
    return d->invocationId;
}

bool HubStream::isFinished() const
{
    return d->finished;
}

std::optional<HubError> HubStream::error() const
{
    return d->error;
}

void HubStream::cancel()
{
    if (d->finished)
        return;
    d->finished = true;
    d->error = HubError {Error::Canceled, u"The stream was canceled."_s};
    if (d->connection) {
        HubConnection::Private *c = d->connection->d.get();
        c->streams.remove(d->invocationId);
        if (!d->invocationId.isEmpty() && c->isCurrent(d->session))
            c->sendMessage(CancelInvocationMessage {{}, d->invocationId});
    }
    Q_EMIT finished();
}

// --- UploadStream -------------------------------------------------------------------------

UploadStream::UploadStream(HubConnection *connection)
    : QObject(connection)
    , d(std::make_unique<Private>())
{
    d->connection = connection;
}

UploadStream::~UploadStream()
{
    if (d->state != Private::State::Open || !d->connection)
        return;
    HubConnection::Private *c = d->connection->d.get();
    c->uploads.removeAll(this);
    if (c->isCurrent(d->session))
        c->sendMessage(CompletionMessage::withError(
            d->streamId, "The client destroyed the stream before completing it."));
}

QByteArray UploadStream::streamId() const
{
    return d->streamId;
}

bool UploadStream::isOpen() const
{
    if (d->state == Private::State::Unbound)
        return !d->completeRequested && !d->failRequested;
    return d->state == Private::State::Open;
}

bool UploadStream::write(const Value &item)
{
    switch (d->state) {
    case Private::State::Closed:
        return false;
    case Private::State::Unbound:
        if (d->completeRequested || d->failRequested)
            return false;
        d->buffered.append(item);
        return true;
    case Private::State::Open:
        break;
    }
    if (d->connection) {
        HubConnection::Private *c = d->connection->d.get();
        if (c->isCurrent(d->session) && c->sendMessage(StreamItemMessage {{}, d->streamId, item}))
            return true;
    }
    d->state = Private::State::Closed;
    Q_EMIT closed();
    return false;
}

void UploadStream::complete()
{
    switch (d->state) {
    case Private::State::Closed:
        return;
    case Private::State::Unbound:
        d->completeRequested = true;
        return;
    case Private::State::Open:
        break;
    }
    d->state = Private::State::Closed;
    if (d->connection) {
        HubConnection::Private *c = d->connection->d.get();
        c->uploads.removeAll(this);
        if (c->isCurrent(d->session))
            c->sendMessage(CompletionMessage::empty(d->streamId));
    }
    Q_EMIT closed();
}

void UploadStream::fail(const QString &error)
{
    switch (d->state) {
    case Private::State::Closed:
        return;
    case Private::State::Unbound:
        if (!d->completeRequested)
            d->failRequested = error;
        return;
    case Private::State::Open:
        break;
    }
    d->state = Private::State::Closed;
    if (d->connection) {
        HubConnection::Private *c = d->connection->d.get();
        c->uploads.removeAll(this);
        if (c->isCurrent(d->session))
            c->sendMessage(CompletionMessage::withError(
                d->streamId, error.isEmpty() ? QByteArray("Stream failed.") : error.toUtf8()));
    }
    Q_EMIT closed();
}

// --- retry policies -----------------------------------------------------------------------

RetryPolicy::~RetryPolicy() = default;

DefaultRetryPolicy::DefaultRetryPolicy()
    : DefaultRetryPolicy({0ms, 2s, 5s, 10s, 30s}, true, 0.2)
{ }

struct Q_DECL_HIDDEN DefaultRetryPolicy::Private {
    QList<std::chrono::milliseconds> delays;
    bool repeatLast = true;
    double jitter = 0.2;
};

DefaultRetryPolicy::DefaultRetryPolicy(QList<std::chrono::milliseconds> delays, bool repeatLast,
                                       double jitter)
    : d(std::make_unique<Private>(
        Private {std::move(delays), repeatLast, qBound(0.0, jitter, 1.0)}))
{ }

DefaultRetryPolicy::~DefaultRetryPolicy() = default;

DefaultRetryPolicy::DefaultRetryPolicy(const DefaultRetryPolicy &other)
    : RetryPolicy(other)
    , d(std::make_unique<Private>(*other.d))
{ }

DefaultRetryPolicy &DefaultRetryPolicy::operator=(const DefaultRetryPolicy &other)
{
    if (this != &other) {
        RetryPolicy::operator=(other);
        *d = *other.d;
    }
    return *this;
}

QList<std::chrono::milliseconds> DefaultRetryPolicy::delays() const
{
    return d->delays;
}

bool DefaultRetryPolicy::isRepeatLastEnabled() const
{
    return d->repeatLast;
}

double DefaultRetryPolicy::jitter() const
{
    return d->jitter;
}

std::optional<std::chrono::milliseconds>
DefaultRetryPolicy::nextRetryDelay(const RetryContext &context)
{
    if (d->delays.isEmpty())
        return std::nullopt;
    const qsizetype i = context.previousRetryCount;
    if (i >= d->delays.size() && !d->repeatLast)
        return std::nullopt;
    const std::chrono::milliseconds base = d->delays.at(qMin(i, d->delays.size() - 1));
    if (base.count() <= 0 || d->jitter <= 0)
        return base;
    const double factor
        = 1.0 + d->jitter * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0);
    return std::chrono::milliseconds(qint64(double(base.count()) * factor));
}

} // namespace Heliograph
