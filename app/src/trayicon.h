// SPDX-License-Identifier: MIT
// A system tray icon without Qt Widgets: a StatusNotifierItem (the freedesktop / KDE
// org.kde.StatusNotifierItem interface) on the session bus, through Qt DBus.
//
//   TrayIcon { unreadCount: session.notifications.unreadCount; statusText: "Connected"
//              onActivated: window.raise() }
//
// The item is the object /StatusNotifierItem owned under the unique service name
// org.kde.StatusNotifierItem-<pid>-<n>, announced to org.kde.StatusNotifierWatcher with
// RegisterStatusNotifierItem. Without a watcher (no tray), `available` stays false and
// `unavailableReason` says why; the item registers again as soon as a watcher appears. Hidden
// (`visible` false), the name is released, which is how the watcher learns the item is gone.
//
// On the bus: Category "Communications", Id "heliograph-desktop", Title, Status ("Active", or
// "NeedsAttention" with unread notifications), IconName ("mail-unread" with unread
// notifications, "network-transmit-receive" otherwise), ToolTip (title, "3 unread
// notifications · Connected"), ItemIsMenu false, no menu; NewStatus/NewIcon/NewToolTip/NewTitle
// when those change. Activate and ContextMenu emit activated(); SecondaryActivate and Scroll
// are ignored. Every bus call the item makes is asynchronous.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtDBus/QDBusArgument>
#include <QtDBus/QDBusConnection>
#include <QtQml/qqmlregistration.h>

QT_BEGIN_NAMESPACE
class QDBusServiceWatcher;
QT_END_NAMESPACE

namespace Heliograph::Desktop {

/// One picture of an icon on the bus, (iiay): width, height, ARGB32 pixels in network byte
/// order.
struct SniPixmap {
    int width = 0;
    int height = 0;
    QByteArray argb32;
};
using SniPixmapList = QList<SniPixmap>;

/// The ToolTip property, (sa(iiay)ss): icon name, icon pictures, title, text.
struct SniToolTip {
    QString iconName;
    SniPixmapList iconPixmaps;
    QString title;
    QString text;
};

QDBusArgument &operator<<(QDBusArgument &argument, const SniPixmap &pixmap);
const QDBusArgument &operator>>(const QDBusArgument &argument, SniPixmap &pixmap);
QDBusArgument &operator<<(QDBusArgument &argument, const SniToolTip &toolTip);
const QDBusArgument &operator>>(const QDBusArgument &argument, SniToolTip &toolTip);

class StatusNotifierItemAdaptor;

class TrayIcon : public QObject {
    Q_OBJECT
    QML_ELEMENT

    // --- inputs ------------------------------------------------------------------------------
    /// Unread notifications: above 0 the item needs attention and shows "mail-unread".
    Q_PROPERTY(int unreadCount READ unreadCount WRITE setUnreadCount NOTIFY unreadCountChanged)
    /// The second half of the tooltip, e.g. "Connected"; empty: left out.
    Q_PROPERTY(QString statusText READ statusText WRITE setStatusText NOTIFY statusTextChanged)
    /// The item's title (and the tooltip's). Default "Heliograph".
    Q_PROPERTY(QString title READ title WRITE setTitle NOTIFY titleChanged)
    /// Shown in the tray. Default true; false releases the service name.
    Q_PROPERTY(bool visible READ isVisible WRITE setVisible NOTIFY visibleChanged)

    // --- state -------------------------------------------------------------------------------
    /// Registered with a StatusNotifierWatcher: a tray shows the item.
    Q_PROPERTY(bool available READ isAvailable NOTIFY availableChanged)
    /// Why the item is not in a tray, for humans; empty while it is.
    Q_PROPERTY(QString unavailableReason READ unavailableReason NOTIFY availableChanged)
    /// org.kde.StatusNotifierItem-<pid>-<n>.
    Q_PROPERTY(QString serviceName READ serviceName CONSTANT)
    /// "Active" or "NeedsAttention".
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)
    Q_PROPERTY(QString iconName READ iconName NOTIFY iconNameChanged)
    Q_PROPERTY(QString toolTipText READ toolTipText NOTIFY toolTipChanged)

public:
    /// On the session bus.
    explicit TrayIcon(QObject *parent = nullptr);
    /// On `bus` (tests use a private bus).
    explicit TrayIcon(const QDBusConnection &bus, QObject *parent = nullptr);
    ~TrayIcon() override;

    int unreadCount() const { return m_unreadCount; }
    void setUnreadCount(int count);
    QString statusText() const { return m_statusText; }
    void setStatusText(const QString &text);
    QString title() const { return m_title; }
    void setTitle(const QString &title);
    bool isVisible() const { return m_visible; }
    void setVisible(bool visible);

    bool isAvailable() const { return m_available; }
    QString unavailableReason() const { return m_unavailableReason; }
    QString serviceName() const { return m_serviceName; }
    QString status() const;
    QString iconName() const;
    QString toolTipText() const;
    SniToolTip toolTip() const;

Q_SIGNALS:
    void unreadCountChanged();
    void statusTextChanged();
    void titleChanged();
    void visibleChanged();
    void availableChanged();
    void statusChanged();
    void iconNameChanged();
    void toolTipChanged();
    /// The tray asked for the app (a click on the icon, or its context menu).
    void activated();

private:
    friend class StatusNotifierItemAdaptor;

    void scheduleSync();
    void sync();
    void show();
    void hide();
    void registerWithWatcher();
    void setAvailable(bool available, const QString &reason);
    /// Emits the property and bus signals for what differs from the given earlier values.
    void announceChanges(const QString &oldStatus, const QString &oldIcon,
                         const QString &oldToolTip, const QString &oldTitle);

    QDBusConnection m_bus;
    QString m_serviceName;
    StatusNotifierItemAdaptor *m_adaptor;
    QDBusServiceWatcher *m_watcherWatcher;
    int m_unreadCount = 0;
    QString m_statusText;
    QString m_title;
    bool m_visible = true;
    bool m_syncPending = false;
    bool m_exported = false; ///< the object is on the connection and the name is asked for
    bool m_nameOwned = false;
    quint64 m_generation = 0; ///< bumped on hide: late replies of an earlier show are dropped
    bool m_available = false;
    QString m_unavailableReason;
};

} // namespace Heliograph::Desktop

Q_DECLARE_METATYPE(Heliograph::Desktop::SniPixmap)
Q_DECLARE_METATYPE(Heliograph::Desktop::SniToolTip)
