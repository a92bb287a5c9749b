// SPDX-License-Identifier: MIT
#include "trayicon.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtDBus/QDBusAbstractAdaptor>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusMetaType>
#include <QtDBus/QDBusObjectPath>
#include <QtDBus/QDBusPendingCallWatcher>
#include <QtDBus/QDBusPendingReply>
#include <QtDBus/QDBusServiceWatcher>

#include <algorithm>
#include <atomic>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcTray, "heliograph.desktop.tray")

namespace {

const QString ItemPath = u"/StatusNotifierItem"_s;
const QString WatcherService = u"org.kde.StatusNotifierWatcher"_s;
const QString WatcherPath = u"/StatusNotifierWatcher"_s;
const QString BusService = u"org.freedesktop.DBus"_s;
const QString BusPath = u"/org/freedesktop/DBus"_s;
constexpr uint NameFlagDoNotQueue = 4; // DBUS_NAME_FLAG_DO_NOT_QUEUE
constexpr uint NamePrimaryOwner = 1; // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER

QString nextServiceName()
{
    static std::atomic<int> counter {0};
    return u"org.kde.StatusNotifierItem-%1-%2"_s.arg(QCoreApplication::applicationPid())
        .arg(++counter);
}

QDBusMessage busCall(const QString &method, const QString &name)
{
    QDBusMessage call = QDBusMessage::createMethodCall(BusService, BusPath, BusService, method);
    call << name;
    return call;
}

void registerTypes()
{
    static const bool once = [] {
        qDBusRegisterMetaType<SniPixmap>();
        qDBusRegisterMetaType<SniPixmapList>();
        qDBusRegisterMetaType<SniToolTip>();
        return true;
    }();
    Q_UNUSED(once)
}

} // namespace

QDBusArgument &operator<<(QDBusArgument &argument, const SniPixmap &pixmap)
{
    argument.beginStructure();
    argument << pixmap.width << pixmap.height << pixmap.argb32;
    argument.endStructure();
    return argument;
}

const QDBusArgument &operator>>(const QDBusArgument &argument, SniPixmap &pixmap)
{
    argument.beginStructure();
    argument >> pixmap.width >> pixmap.height >> pixmap.argb32;
    argument.endStructure();
    return argument;
}

QDBusArgument &operator<<(QDBusArgument &argument, const SniToolTip &toolTip)
{
    argument.beginStructure();
    argument << toolTip.iconName << toolTip.iconPixmaps << toolTip.title << toolTip.text;
    argument.endStructure();
    return argument;
}

const QDBusArgument &operator>>(const QDBusArgument &argument, SniToolTip &toolTip)
{
    argument.beginStructure();
    argument >> toolTip.iconName >> toolTip.iconPixmaps >> toolTip.title >> toolTip.text;
    argument.endStructure();
    return argument;
}

// The interface on the bus. Qt DBus answers org.freedesktop.DBus.Properties and Introspect
// from these declarations; the signals below go out on the bus when emitted.
// clazy:excludeall=qproperty-without-notify
// (these are D-Bus properties of the StatusNotifierItem spec: a change is announced on the bus by
// the spec's own signals, NewTitle, NewIcon, NewStatus..., below; a Qt NOTIFY signal does not
// reach the bus, and hosts do not listen for PropertiesChanged)
class StatusNotifierItemAdaptor : public QDBusAbstractAdaptor {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.kde.StatusNotifierItem")
    Q_PROPERTY(QString Category READ category)
    Q_PROPERTY(QString Id READ id)
    Q_PROPERTY(QString Title READ title)
    Q_PROPERTY(QString Status READ status)
    Q_PROPERTY(QString IconName READ iconName)
    Q_PROPERTY(Heliograph::Desktop::SniPixmapList IconPixmap READ noPixmaps)
    Q_PROPERTY(QString OverlayIconName READ empty)
    Q_PROPERTY(Heliograph::Desktop::SniPixmapList OverlayIconPixmap READ noPixmaps)
    Q_PROPERTY(QString AttentionIconName READ attentionIconName)
    Q_PROPERTY(Heliograph::Desktop::SniPixmapList AttentionIconPixmap READ noPixmaps)
    Q_PROPERTY(QString AttentionMovieName READ empty)
    Q_PROPERTY(Heliograph::Desktop::SniToolTip ToolTip READ toolTip)
    Q_PROPERTY(bool ItemIsMenu READ itemIsMenu)
    Q_PROPERTY(QDBusObjectPath Menu READ menu)

public:
    explicit StatusNotifierItemAdaptor(TrayIcon *item)
        : QDBusAbstractAdaptor(item)
        , m_item(item)
    { }

    QString category() const { return u"Communications"_s; }
    QString id() const { return u"heliograph-desktop"_s; }
    QString title() const { return m_item->title(); }
    QString status() const { return m_item->status(); }
    QString iconName() const { return m_item->iconName(); }
    QString attentionIconName() const { return u"mail-unread"_s; }
    SniPixmapList noPixmaps() const { return {}; }
    QString empty() const { return {}; }
    SniToolTip toolTip() const { return m_item->toolTip(); }
    bool itemIsMenu() const { return false; }
    // The spec's way of saying "no com.canonical.dbusmenu here".
    QDBusObjectPath menu() const { return QDBusObjectPath(u"/NO_DBUSMENU"_s); }

public Q_SLOTS:
    void Activate(int x, int y)
    {
        Q_UNUSED(x)
        Q_UNUSED(y)
        Q_EMIT m_item->activated();
    }
    void SecondaryActivate(int x, int y)
    {
        Q_UNUSED(x)
        Q_UNUSED(y)
    }
    // No menu of our own: showing the window is the most useful answer.
    void ContextMenu(int x, int y) { Activate(x, y); }
    void Scroll(int delta, const QString &orientation)
    {
        Q_UNUSED(delta)
        Q_UNUSED(orientation)
    }

Q_SIGNALS:
    void NewTitle();
    void NewIcon();
    void NewAttentionIcon();
    void NewToolTip();
    void NewStatus(const QString &status);

private:
    TrayIcon *m_item;
};

TrayIcon::TrayIcon(QObject *parent)
    : TrayIcon(QDBusConnection::sessionBus(), parent)
{ }

TrayIcon::TrayIcon(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_serviceName(nextServiceName())
    , m_title(u"Heliograph"_s)
    , m_unavailableReason(u"not registered yet"_s)
{
    registerTypes();
    m_adaptor = new StatusNotifierItemAdaptor(this);
    m_watcherWatcher = new QDBusServiceWatcher(WatcherService, m_bus,
                                               QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(m_watcherWatcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &, const QString &newOwner) {
                if (!m_nameOwned)
                    return;
                if (newOwner.isEmpty())
                    setAvailable(false, u"the StatusNotifierWatcher left the session bus"_s);
                else
                    registerWithWatcher();
            });
    // Later, so that properties set right after construction (QML bindings) come first.
    scheduleSync();
}

TrayIcon::~TrayIcon()
{
    if (m_exported) {
        m_bus.unregisterObject(ItemPath);
        m_bus.send(busCall(u"ReleaseName"_s, m_serviceName)); // no reply awaited
    }
}

QString TrayIcon::status() const
{
    return m_unreadCount > 0 ? u"NeedsAttention"_s : u"Active"_s;
}

QString TrayIcon::iconName() const
{
    return m_unreadCount > 0 ? u"mail-unread"_s : u"network-transmit-receive"_s;
}

QString TrayIcon::toolTipText() const
{
    QString text = m_unreadCount == 0 ? u"No unread notifications"_s
        : m_unreadCount == 1          ? u"1 unread notification"_s
                                      : u"%1 unread notifications"_s.arg(m_unreadCount);
    if (!m_statusText.isEmpty())
        text += u" · "_s + m_statusText;
    return text;
}

SniToolTip TrayIcon::toolTip() const
{
    return SniToolTip {iconName(), {}, m_title, toolTipText()};
}

void TrayIcon::setUnreadCount(int count)
{
    count = std::max(count, 0);
    if (count == m_unreadCount)
        return;
    const QString oldStatus = status(), oldIcon = iconName(), oldToolTip = toolTipText();
    m_unreadCount = count;
    Q_EMIT unreadCountChanged();
    announceChanges(oldStatus, oldIcon, oldToolTip, m_title);
}

void TrayIcon::setStatusText(const QString &text)
{
    if (text == m_statusText)
        return;
    const QString oldToolTip = toolTipText();
    m_statusText = text;
    Q_EMIT statusTextChanged();
    announceChanges(status(), iconName(), oldToolTip, m_title);
}

void TrayIcon::setTitle(const QString &title)
{
    if (title == m_title)
        return;
    const QString oldTitle = m_title;
    m_title = title;
    Q_EMIT titleChanged();
    // The tooltip's title is the item's title.
    Q_EMIT m_adaptor->NewToolTip();
    announceChanges(status(), iconName(), toolTipText(), oldTitle);
}

void TrayIcon::announceChanges(const QString &oldStatus, const QString &oldIcon,
                               const QString &oldToolTip, const QString &oldTitle)
{
    // Signals of an adaptor whose object is not on the bus (hidden) go nowhere.
    if (status() != oldStatus) {
        Q_EMIT statusChanged();
        Q_EMIT m_adaptor->NewStatus(status());
    }
    if (iconName() != oldIcon) {
        Q_EMIT iconNameChanged();
        Q_EMIT m_adaptor->NewIcon();
    }
    if (toolTipText() != oldToolTip) {
        Q_EMIT toolTipChanged();
        Q_EMIT m_adaptor->NewToolTip();
    }
    if (m_title != oldTitle)
        Q_EMIT m_adaptor->NewTitle();
}

void TrayIcon::setVisible(bool visible)
{
    if (visible == m_visible)
        return;
    m_visible = visible;
    Q_EMIT visibleChanged();
    scheduleSync();
}

void TrayIcon::scheduleSync()
{
    if (m_syncPending)
        return;
    m_syncPending = true;
    QMetaObject::invokeMethod(this, &TrayIcon::sync, Qt::QueuedConnection);
}

void TrayIcon::sync()
{
    m_syncPending = false;
    if (m_visible && !m_exported)
        show();
    else if (!m_visible && m_exported)
        hide();
}

void TrayIcon::show()
{
    if (!m_bus.isConnected()) {
        setAvailable(false, u"no D-Bus session bus"_s);
        return;
    }
    if (!m_bus.registerObject(ItemPath, this, QDBusConnection::ExportAdaptors)) {
        setAvailable(false,
                     u"%1 is taken on this D-Bus connection (another tray icon)"_s.arg(ItemPath));
        return;
    }
    m_exported = true;
    const quint64 generation = m_generation;
    auto *call = new QDBusPendingCallWatcher(
        m_bus.asyncCall(busCall(u"RequestName"_s, m_serviceName) << NameFlagDoNotQueue), this);
    connect(call, &QDBusPendingCallWatcher::finished, this,
            [this, generation](QDBusPendingCallWatcher *w) {
                w->deleteLater();
                if (generation != m_generation)
                    return;
                const QDBusPendingReply<uint> reply = *w;
                if (reply.isError() || reply.value() != NamePrimaryOwner) {
                    setAvailable(
                        false,
                        u"could not own %1: %2"_s.arg(
                            m_serviceName, reply.isError() ? reply.error().message() : u"taken"_s));
                    return;
                }
                m_nameOwned = true;
                registerWithWatcher();
            });
}

void TrayIcon::hide()
{
    ++m_generation;
    m_bus.unregisterObject(ItemPath);
    // The watcher sees the name go: that is how an item leaves the tray.
    auto *call = new QDBusPendingCallWatcher(
        m_bus.asyncCall(busCall(u"ReleaseName"_s, m_serviceName)), this);
    connect(call, &QDBusPendingCallWatcher::finished, this, [](QDBusPendingCallWatcher *w) {
        w->deleteLater();
        if (w->isError())
            qCDebug(lcTray) << "ReleaseName failed:" << w->error().message();
    });
    m_exported = false;
    m_nameOwned = false;
    setAvailable(false, u"hidden"_s);
}

void TrayIcon::registerWithWatcher()
{
    QDBusMessage registration = QDBusMessage::createMethodCall(
        WatcherService, WatcherPath, WatcherService, u"RegisterStatusNotifierItem"_s);
    registration << m_serviceName;
    const quint64 generation = m_generation;
    auto *call = new QDBusPendingCallWatcher(m_bus.asyncCall(registration), this);
    connect(call, &QDBusPendingCallWatcher::finished, this,
            [this, generation](QDBusPendingCallWatcher *w) {
                w->deleteLater();
                if (generation != m_generation)
                    return;
                if (!w->isError())
                    setAvailable(true, {});
                else if (w->error().type() == QDBusError::ServiceUnknown)
                    setAvailable(false, u"no StatusNotifierWatcher on the session bus (no tray)"_s);
                else
                    setAvailable(false,
                                 u"the StatusNotifierWatcher refused the item: %1"_s.arg(
                                     w->error().message()));
            });
}

void TrayIcon::setAvailable(bool available, const QString &reason)
{
    if (available == m_available && reason == m_unavailableReason)
        return;
    m_available = available;
    m_unavailableReason = reason;
    if (available)
        qCInfo(lcTray) << "tray icon shown as" << m_serviceName;
    else
        qCInfo(lcTray) << "no tray icon:" << reason;
    Q_EMIT availableChanged();
}

} // namespace Heliograph::Desktop

#include "trayicon.moc"
