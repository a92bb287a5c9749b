// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Subscription, what HubConnection::on() and onInvoke() return.

#include <heliograph/client/heliographclient_export.h>

#include <QtCore/QByteArray>

#include <memory>

namespace Heliograph {

class HubConnection;

/// A handler registration made with HubConnection::on() or onInvoke(). Copies refer to the
/// same registration; destroying a Subscription does not remove the handler (call
/// disconnect(), or give on() a context object).
class HELIOGRAPH_CLIENT_EXPORT Subscription {
public:
    Subscription();
    ~Subscription();
    /// Refers to the same registration.
    Subscription(const Subscription &);
    /// Takes over the reference; the source refers to none.
    Subscription(Subscription &&) noexcept;
    /// Refers to the same registration as `other` (the handler of the previous one stays).
    Subscription &operator=(const Subscription &);
    /// Takes over the reference (the handler of the previous one stays).
    Subscription &operator=(Subscription &&) noexcept;

    /// The handler is still registered (its connection and context object exist).
    bool isActive() const;
    /// Removes the handler; no-op when it is gone already.
    void disconnect();
    /// The hub method the handler is registered for.
    QByteArray method() const;

private:
    friend class HubConnection;
    struct Data;
    explicit Subscription(std::shared_ptr<Data> data);
    std::shared_ptr<Data> d;
};

} // namespace Heliograph
