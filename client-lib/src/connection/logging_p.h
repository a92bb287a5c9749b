// SPDX-License-Identifier: MIT
// Logging categories of the connection API (default threshold: info). Message contents are
// logged at debug level only; access tokens never (URLs go through redacted()).
#pragma once

#include <QtCore/QLoggingCategory>
#include <QtCore/QString>
#include <QtCore/QUrl>

namespace Heliograph::Detail {

Q_DECLARE_LOGGING_CATEGORY(lcHubConnection) // heliograph.client.connection
Q_DECLARE_LOGGING_CATEGORY(lcHubTransport) // heliograph.client.transport

/// The URL for logs and error texts: the value of an `access_token` query parameter and any
/// user info are replaced by "redacted".
QString redacted(const QUrl &url);
/// The same for a text that may contain URLs (network error strings).
QString redacted(QString text);

} // namespace Heliograph::Detail
