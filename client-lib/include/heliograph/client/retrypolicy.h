// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// RetryPolicy, which decides whether and when HubConnection reconnects after a lost
/// connection, and DefaultRetryPolicy.

#include <heliograph/client/error.h>
#include <heliograph/client/heliographclient_export.h>

#include <QtCore/QList>
#include <QtCore/QString>

#include <chrono>
#include <memory>
#include <optional>

namespace Heliograph {

/// What a RetryPolicy is told before each reconnect attempt.
struct RetryContext {
    /// Attempts made so far in this reconnect (0 before the first).
    int previousRetryCount = 0;
    /// Time since the connection was lost.
    std::chrono::milliseconds elapsed {0};
    /// The latest failure (the connection band of Error): the loss itself, then the failure
    /// of the latest attempt.
    Error reason = Error::NoError;
    /// The details of reason, for humans.
    QString reasonString;
};

/// Decides whether and when to try reconnecting. Called on the connection's thread.
class HELIOGRAPH_CLIENT_EXPORT RetryPolicy {
public:
    virtual ~RetryPolicy();
    /// The delay before the next attempt, or std::nullopt to give up (-> Disconnected).
    virtual std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryContext &context)
        = 0;

protected:
    /// For subclasses.
    RetryPolicy() = default;
    /// Subclasses may be copyable.
    RetryPolicy(const RetryPolicy &) = default;
    /// Subclasses may be copyable.
    RetryPolicy &operator=(const RetryPolicy &) = default;
};

/// Delays from a list, then the last one forever (or give up), each varied by ±jitter.
class HELIOGRAPH_CLIENT_EXPORT DefaultRetryPolicy : public RetryPolicy {
public:
    /// 0, 2, 5, 10, 30 s, then every 30 s forever, ±20 %.
    DefaultRetryPolicy();
    /// `jitter` is a fraction (0.2 = ±20 %); `repeatLast` false gives up after the list.
    explicit DefaultRetryPolicy(QList<std::chrono::milliseconds> delays, bool repeatLast = true,
                                double jitter = 0.2);
    ~DefaultRetryPolicy() override;
    /// Copies the delays and settings.
    DefaultRetryPolicy(const DefaultRetryPolicy &other);
    /// Copies the delays and settings.
    DefaultRetryPolicy &operator=(const DefaultRetryPolicy &other);

    std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryContext &context) override;

    /// The delays, in order.
    QList<std::chrono::milliseconds> delays() const;
    /// Whether the last delay repeats forever (the constructor's `repeatLast`; false: give up
    /// after the list).
    bool isRepeatLastEnabled() const;
    /// The jitter, a fraction of each delay (0.2 = ±20 %).
    double jitter() const;

private:
    struct Private;
    const std::unique_ptr<Private> d;
};

} // namespace Heliograph
