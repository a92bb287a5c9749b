// SPDX-License-Identifier: MIT
// Desktop notifications through org.freedesktop.Notifications on the session bus (QtDBus),
// where the bus has that service; silently nothing otherwise (one log line says so). Every
// D-Bus call is asynchronous.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>

namespace Heliograph::Desktop {

class DesktopNotifier : public QObject {
    Q_OBJECT
public:
    enum class Availability { Unknown, Available, Unavailable };

    explicit DesktopNotifier(QObject *parent = nullptr);

    Availability availability() const { return m_availability; }
    /// Shows a notification (dropped while the service is unknown or unavailable).
    void notify(const QString &title, const QString &body);

Q_SIGNALS:
    void availabilityChanged();

private:
    void setAvailability(Availability availability, const QString &why);
    Availability m_availability = Availability::Unknown;
};

} // namespace Heliograph::Desktop
