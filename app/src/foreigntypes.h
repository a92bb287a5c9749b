// SPDX-License-Identifier: MIT
// Types of Heliograph.Client that the desktop's QML names, registered in Heliograph.Desktop too
// (QML_FOREIGN), so the app's QML needs no second import, and the packaged app does not depend
// on the Heliograph.Client QML module being installed.
#pragma once

#include "qmlhubconnection.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QObject>
#include <QtQml/qqml.h>

namespace Heliograph::Desktop {

/// `HubConnection` in the desktop's QML: the type of Session.connection, and
/// Heliograph::HubConnection's own enums (`HubConnection.Connected`, `HubConnection.None`...).
struct ForeignHubConnection {
    Q_GADGET
    QML_FOREIGN(Heliograph::Qml::QmlHubConnection)
    QML_NAMED_ELEMENT(HubConnection)
    QML_UNCREATABLE("Session.connection is the session's hub connection")
    QML_EXTENDED_NAMESPACE(Heliograph::HubConnection)
};

} // namespace Heliograph::Desktop
