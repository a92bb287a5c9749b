// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// HubError, why one call did not succeed, and HubErrorException, the exception a failed
/// QFuture of the connection API carries.

#include <heliograph/client/error.h>
#include <heliograph/client/heliographclient_export.h>
#include <heliograph/protocol/expected.h>

#include <QtCore/QException>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <memory>

namespace Heliograph {

/// Why an invocation, a send, a stream or a client-to-server stream did not succeed.
struct HELIOGRAPH_CLIENT_EXPORT HubError {
    Q_GADGET
    /// What kind of failure (a value of the call band of Heliograph::Error).
    Q_PROPERTY(Heliograph::Error code MEMBER code)
    /// The details, for humans (the server's error text for ServerError).
    Q_PROPERTY(QString message MEMBER message)
public:
    /// The former name of the codes, now Heliograph::Error (its call band, 100..199).
    /// \deprecated Use Heliograph::Error; kept for source compatibility until 1.0.
    using Code = Error;

    Error code = Error::ServerError; ///< what kind of failure (the call band of Error)
    QString message; ///< the details, for humans

    friend bool operator==(const HubError &, const HubError &) = default;
};

/// A HubError carried by a failed QFuture (catch it in `onFailed`).
class HELIOGRAPH_CLIENT_EXPORT HubErrorException : public QException {
public:
    /// Carries `error`.
    explicit HubErrorException(HubError error);
    ~HubErrorException() override;
    /// Copies the error.
    HubErrorException(const HubErrorException &other);
    /// Copies the error.
    HubErrorException &operator=(const HubErrorException &other);

    /// The error carried.
    const HubError &error() const noexcept;
    /// The error's message, UTF-8.
    const char *what() const noexcept override;
    /// Throws a copy of this exception (QException's API).
    void raise() const override;
    /// A copy on the heap (QException's API).
    HubErrorException *clone() const override;

private:
    struct Private;
    const std::unique_ptr<Private> d;
};

/// Either a value or a HubError: what the callback flavour of HubConnection::invoke() gets.
template<typename T> using HubResult = Expected<T, HubError>;

} // namespace Heliograph
