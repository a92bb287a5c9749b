// SPDX-License-Identifier: MIT
// The app's log: every Qt message (qDebug .. qFatal, with its category) goes to spdlog, to the
// console and to a rotating file in the app data folder (logs/heliograph-desktop.log, 1 MiB x
// 3). Nothing the app logs contains a password or a token.
#pragma once

#include <QtCore/QMetaEnum>
#include <QtCore/QString>

namespace Heliograph::Desktop {

/// A C++ enum name as words, for log lines: `SignedIn` is "signed in", `Live` is "live".
QString readableName(const char *enumKey);

/// The readable name of a Q_ENUM value (Session::SignedIn: "signed in"); its number when the
/// value has no name.
template<typename Enum> QString readableName(Enum value)
{
    const char *key = QMetaEnum::fromType<Enum>().valueToKey(int(value));
    return key ? readableName(key) : QString::number(int(value));
}

/// Installs the Qt message handler; returns the log file's path (empty if the file could not
/// be opened: the console still works).
QString installDesktopLogging(const QString &logDirectory);

} // namespace Heliograph::Desktop
