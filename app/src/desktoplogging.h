// SPDX-License-Identifier: MIT
// The app's log: every Qt message (qDebug .. qFatal, with its category) goes to spdlog, to the
// console and to a rotating file in the app data folder (logs/heliograph-desktop.log, 1 MiB x
// 3). Nothing the app logs contains a password or a token.
#pragma once

#include <QtCore/QString>

namespace Heliograph::Desktop {

/// Installs the Qt message handler; returns the log file's path (empty if the file could not
/// be opened: the console still works).
QString installDesktopLogging(const QString &logDirectory);

} // namespace Heliograph::Desktop
