// SPDX-License-Identifier: MIT
// Tenant and user ids as the server uses them everywhere: in tokens, the push API, the admin
// hub and group and storage keys. Both are case-insensitive ASCII, kept in lower case, from a
// documented alphabet without the separators the server builds names with (':' in tenant ids,
// '/' in both), so "tenant:" + t, "user:" + t + '/' + u and "doc:" + t + ':' + d can never be
// read two ways (docs/hubs.md, docs/security.md).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace Heliograph::Server::Identity {

constexpr qsizetype MaxTenantIdSize = 64;
constexpr qsizetype MaxUserIdSize = 128;

/// Lower-cases `tenant` in place if it is 1-64 of A-Z a-z 0-9 . _ - ; otherwise false, with
/// `why` saying so (without echoing control characters).
bool normalizeTenantId(QByteArray &tenant, QString *why = nullptr);
/// Lower-cases `user` in place if it is 1-128 of A-Z a-z 0-9 . _ @ | : + - ; otherwise false.
bool normalizeUserId(QByteArray &user, QString *why = nullptr);

} // namespace Heliograph::Server::Identity
