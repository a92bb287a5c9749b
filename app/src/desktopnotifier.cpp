// SPDX-License-Identifier: MIT
#include "desktopnotifier.h"

#include <QtCore/QLoggingCategory>
#include <QtDBus/QDBusConnection>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusPendingCallWatcher>
#include <QtDBus/QDBusPendingReply>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcNotifier, "heliograph.desktop.notifier")

namespace {
const QString Service = u"org.freedesktop.Notifications"_s;
}

DesktopNotifier::DesktopNotifier(QObject *parent)
    : QObject(parent)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        setAvailability(Availability::Unavailable, u"no D-Bus session bus"_s);
        return;
    }
    const QDBusMessage ask
        = QDBusMessage::createMethodCall(u"org.freedesktop.DBus"_s, u"/org/freedesktop/DBus"_s,
                                         u"org.freedesktop.DBus"_s, u"NameHasOwner"_s)
        << Service;
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(ask), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this](QDBusPendingCallWatcher *w) {
        w->deleteLater();
        const QDBusPendingReply<bool> reply = *w;
        if (reply.isError())
            setAvailability(Availability::Unavailable, reply.error().message());
        else if (!reply.value())
            setAvailability(Availability::Unavailable, u"no %1 service"_s.arg(Service));
        else
            setAvailability(Availability::Available, {});
    });
}

void DesktopNotifier::setAvailability(Availability availability, const QString &why)
{
    m_availability = availability;
    if (availability == Availability::Unavailable)
        qCInfo(lcNotifier) << "desktop notifications are off:" << why;
    else
        qCInfo(lcNotifier) << "desktop notifications through" << Service;
    Q_EMIT availabilityChanged();
}

void DesktopNotifier::notify(const QString &title, const QString &body)
{
    if (m_availability != Availability::Available)
        return;
    QDBusMessage call = QDBusMessage::createMethodCall(Service, u"/org/freedesktop/Notifications"_s,
                                                       Service, u"Notify"_s);
    call << u"Heliograph"_s << uint(0) << u"dialog-information"_s << title << body << QStringList()
         << QVariantMap() << int(-1);
    auto *watcher
        = new QDBusPendingCallWatcher(QDBusConnection::sessionBus().asyncCall(call), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [](QDBusPendingCallWatcher *w) {
        w->deleteLater();
        if (w->isError())
            qCDebug(lcNotifier) << "Notify failed:" << w->error().message();
    });
}

} // namespace Heliograph::Desktop
