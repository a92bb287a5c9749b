// SPDX-License-Identifier: MIT
// The claims the desktop app shows from an access token it was given (tests and
// `--token-stdin` hand it a bare token). Nothing is verified here: the server does that; the
// app only reads who it is and when the token expires.
#pragma once

#include <QtCore/QDateTime>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace Heliograph::Desktop {

struct JwtClaims {
    QString subject; ///< `sub`
    QString tenant; ///< `tenant` or `tenant_id`
    QString name; ///< `name`; the subject when absent
    QStringList roles; ///< `role` (a string or an array) and `roles`
    QDateTime expiresAt; ///< `exp`; invalid when absent
};

/// The payload of a compact JWT; std::nullopt when it is not one.
std::optional<JwtClaims> decodeJwtClaims(const QString &token);

} // namespace Heliograph::Desktop
