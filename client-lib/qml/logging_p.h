// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QLoggingCategory>

namespace Heliograph::Qml {

Q_DECLARE_LOGGING_CATEGORY(lcQml) // heliograph.client.qml

} // namespace Heliograph::Qml
