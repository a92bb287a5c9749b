// SPDX-License-Identifier: MIT
// TrayIcon on a real, private D-Bus session bus (dbus-daemon started here), with a small
// org.kde.StatusNotifierWatcher of our own on that bus as the peer: registration, properties
// read through org.freedesktop.DBus.Properties, the New* signals, Activate, a watcher that
// appears later, and hiding. Every call to the item is asynchronous: the item answers on this
// same thread.
#include "trayicon.h"

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtDBus/QDBusArgument>
#include <QtDBus/QDBusConnection>
#include <QtDBus/QDBusConnectionInterface>
#include <QtDBus/QDBusContext>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusPendingCallWatcher>
#include <QtDBus/QDBusVariant>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#endif

using namespace Qt::StringLiterals;
using Heliograph::Desktop::TrayIcon;

namespace {

const QString ItemInterface = u"org.kde.StatusNotifierItem"_s;
const QString ItemPath = u"/StatusNotifierItem"_s;
const QString WatcherName = u"org.kde.StatusNotifierWatcher"_s;

// A bus of our own: no service activation, everyone may own any name.
const char BusConfig[] = "<!DOCTYPE busconfig PUBLIC\n"
                         " \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                         " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                         "<busconfig>\n"
                         "  <type>session</type>\n"
                         "  <listen>unix:dir=%1</listen>\n"
                         "  <auth>EXTERNAL</auth>\n"
                         "  <policy context=\"default\">\n"
                         "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                         "    <allow eavesdrop=\"true\"/>\n"
                         "    <allow own=\"*\"/>\n"
                         "  </policy>\n"
                         "</busconfig>\n";

/// What a tray's watcher does with RegisterStatusNotifierItem: remembers who registered.
class FakeWatcher : public QObject, protected QDBusContext {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.kde.StatusNotifierWatcher")
public:
    struct Registration {
        QString service;
        QString sender;
    };
    QList<Registration> registrations;

public Q_SLOTS:
    void RegisterStatusNotifierItem(const QString &service)
    {
        registrations.append({service, message().service()});
    }
};

/// Receives the item's bus signals.
class SignalRecorder : public QObject {
    Q_OBJECT
public:
    QStringList statuses;
    int icons = 0;
    int toolTips = 0;
    int titles = 0;

public Q_SLOTS:
    void onNewStatus(const QString &status) { statuses.append(status); }
    void onNewIcon() { ++icons; }
    void onNewToolTip() { ++toolTips; }
    void onNewTitle() { ++titles; }
};

/// The ToolTip struct taken apart by hand, checking its D-Bus signature on the way.
struct ToolTip {
    QString signature;
    QString iconName;
    int pixmaps = -1;
    QString title;
    QString text;
};

ToolTip readToolTip(const QVariant &value)
{
    ToolTip t;
    const auto argument = value.value<QDBusArgument>();
    t.signature = argument.currentSignature();
    argument.beginStructure();
    argument >> t.iconName;
    argument.beginArray();
    t.pixmaps = 0;
    while (!argument.atEnd()) {
        int width = 0, height = 0;
        QByteArray pixels;
        argument.beginStructure();
        argument >> width >> height >> pixels;
        argument.endStructure();
        ++t.pixmaps;
    }
    argument.endArray();
    argument >> t.title >> t.text;
    argument.endStructure();
    return t;
}

} // namespace

class TestTrayIcon : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();

    void registersWithTheWatcher();
    void propertiesOverTheBus();
    void unreadCountSignalsOnTheBus();
    void activateOverTheBus();
    void watcherAppearingLater();
    void hidingReleasesTheName();
    void withoutABus();

private:
    /// Sends `call` from the watcher's connection and waits for the answer, serving events.
    QDBusMessage callFromPeer(const QDBusMessage &call);
    QVariantMap itemProperties(const QString &service);
    bool hasOwner(const QString &name);
    void startWatcher();
    void stopWatcher();

    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    std::unique_ptr<FakeWatcher> m_watcher;
    bool m_watcherOnBus = false;
};

void TestTrayIcon::initTestCase()
{
    const QString daemon = QStandardPaths::findExecutable(u"dbus-daemon"_s);
    if (daemon.isEmpty()) {
        if (qEnvironmentVariable("CI") == u"true"_s)
            QFAIL("dbus-daemon not found (package dbus-daemon): this test must run in CI");
        QSKIP("dbus-daemon not found (package dbus-daemon)");
    }
    QVERIFY(m_dir.isValid());
    QFile config(m_dir.filePath(u"bus.conf"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QString::fromUtf8(BusConfig).arg(m_dir.path()).toUtf8());
    config.close();
#ifdef Q_OS_LINUX
    // The bus goes when this test goes, even when it crashes.
    m_daemon.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    m_daemon.start(daemon,
                   {u"--config-file"_s, config.fileName(), u"--print-address"_s, u"--nofork"_s});
    QVERIFY2(m_daemon.waitForStarted(), qPrintable(m_daemon.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(m_daemon.canReadLine(), 10'000);
    m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
    QVERIFY2(m_address.startsWith(u"unix:"_s), qPrintable(m_address));

    QVERIFY(QDBusConnection::connectToBus(m_address, u"item"_s).isConnected());
    QVERIFY(QDBusConnection::connectToBus(m_address, u"peer"_s).isConnected());
}

void TestTrayIcon::cleanupTestCase()
{
    QDBusConnection::disconnectFromBus(u"item"_s);
    QDBusConnection::disconnectFromBus(u"peer"_s);
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        QVERIFY(m_daemon.waitForFinished(10'000));
    }
}

void TestTrayIcon::init()
{
    startWatcher();
}

void TestTrayIcon::cleanup()
{
    stopWatcher();
}

void TestTrayIcon::startWatcher()
{
    QDBusConnection peer(u"peer"_s);
    m_watcher = std::make_unique<FakeWatcher>();
    QVERIFY(peer.registerObject(u"/StatusNotifierWatcher"_s, m_watcher.get(),
                                QDBusConnection::ExportAllSlots));
    QVERIFY(peer.registerService(WatcherName));
    m_watcherOnBus = true;
}

void TestTrayIcon::stopWatcher()
{
    QDBusConnection peer(u"peer"_s);
    if (m_watcherOnBus) {
        QVERIFY(peer.unregisterService(WatcherName));
        m_watcherOnBus = false;
    }
    peer.unregisterObject(u"/StatusNotifierWatcher"_s);
    m_watcher.reset();
}

QDBusMessage TestTrayIcon::callFromPeer(const QDBusMessage &call)
{
    QDBusPendingCallWatcher pending(QDBusConnection(u"peer"_s).asyncCall(call, 10'000));
    if (!pending.isFinished()) {
        QSignalSpy finished(&pending, &QDBusPendingCallWatcher::finished);
        finished.wait(15'000);
    }
    return pending.reply();
}

QVariantMap TestTrayIcon::itemProperties(const QString &service)
{
    const QDBusMessage reply
        = callFromPeer(QDBusMessage::createMethodCall(
                           service, ItemPath, u"org.freedesktop.DBus.Properties"_s, u"GetAll"_s)
                       << ItemInterface);
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().size() != 1)
        return {};
    return qdbus_cast<QVariantMap>(reply.arguments().constFirst().value<QDBusArgument>());
}

bool TestTrayIcon::hasOwner(const QString &name)
{
    return QDBusConnection(u"peer"_s).interface()->isServiceRegistered(name);
}

void TestTrayIcon::registersWithTheWatcher()
{
    TrayIcon icon(QDBusConnection(u"item"_s));
    QVERIFY(!icon.isAvailable());
    QSignalSpy availability(&icon, &TrayIcon::availableChanged);
    QTRY_VERIFY(icon.isAvailable());
    QVERIFY(icon.unavailableReason().isEmpty());
    QVERIFY(availability.count() >= 1);

    QVERIFY2(QRegularExpression(u"^org\\.kde\\.StatusNotifierItem-%1-\\d+$"_s.arg(
                                    QCoreApplication::applicationPid()))
                 .match(icon.serviceName())
                 .hasMatch(),
             qPrintable(icon.serviceName()));
    QCOMPARE(m_watcher->registrations.size(), 1);
    QCOMPARE(m_watcher->registrations.constFirst().service, icon.serviceName());
    // The item's own connection called, and owns the name it announced.
    const QString itemUniqueName = QDBusConnection(u"item"_s).baseService();
    QCOMPARE(m_watcher->registrations.constFirst().sender, itemUniqueName);
    QCOMPARE(QDBusConnection(u"peer"_s).interface()->serviceOwner(icon.serviceName()).value(),
             itemUniqueName);

    // Introspection shows the interface (hosts read it before the properties).
    const QDBusMessage introspection = callFromPeer(QDBusMessage::createMethodCall(
        icon.serviceName(), ItemPath, u"org.freedesktop.DBus.Introspectable"_s, u"Introspect"_s));
    QCOMPARE(introspection.type(), QDBusMessage::ReplyMessage);
    const QString xml = introspection.arguments().value(0).toString();
    QVERIFY2(xml.contains(u"<interface name=\"org.kde.StatusNotifierItem\">"_s), qPrintable(xml));
    QVERIFY2(xml.contains(u"<property name=\"ToolTip\" type=\"(sa(iiay)ss)\" access=\"read\""_s),
             qPrintable(xml));
    QVERIFY(xml.contains(u"<signal name=\"NewStatus\">"_s));
    QVERIFY(xml.contains(u"<method name=\"Activate\">"_s));
}

void TestTrayIcon::propertiesOverTheBus()
{
    TrayIcon icon(QDBusConnection(u"item"_s));
    icon.setStatusText(u"Connected"_s);
    QTRY_VERIFY(icon.isAvailable());

    const QVariantMap all = itemProperties(icon.serviceName());
    QCOMPARE(all.value(u"Category"_s).toString(), u"Communications"_s);
    QCOMPARE(all.value(u"Id"_s).toString(), u"heliograph-desktop"_s);
    QCOMPARE(all.value(u"Title"_s).toString(), u"Heliograph"_s);
    QCOMPARE(all.value(u"Status"_s).toString(), u"Active"_s);
    QCOMPARE(all.value(u"IconName"_s).toString(), u"network-transmit-receive"_s);
    QCOMPARE(all.value(u"AttentionIconName"_s).toString(), u"mail-unread"_s);
    QVERIFY(all.contains(u"ItemIsMenu"_s));
    QCOMPARE(all.value(u"ItemIsMenu"_s).toBool(), false);
    QCOMPARE(all.value(u"Menu"_s).value<QDBusObjectPath>().path(), u"/NO_DBUSMENU"_s);

    const ToolTip tip = readToolTip(all.value(u"ToolTip"_s));
    QCOMPARE(tip.signature, u"(sa(iiay)ss)"_s);
    QCOMPARE(tip.title, u"Heliograph"_s);
    QCOMPARE(tip.text, u"No unread notifications · Connected"_s);
    QCOMPARE(tip.pixmaps, 0);

    // One property through Get.
    const QDBusMessage get = callFromPeer(
        QDBusMessage::createMethodCall(icon.serviceName(), ItemPath,
                                       u"org.freedesktop.DBus.Properties"_s, u"Get"_s)
        << ItemInterface << u"Status"_s);
    QCOMPARE(get.type(), QDBusMessage::ReplyMessage);
    QCOMPARE(get.arguments().value(0).value<QDBusVariant>().variant().toString(), u"Active"_s);
}

void TestTrayIcon::unreadCountSignalsOnTheBus()
{
    TrayIcon icon(QDBusConnection(u"item"_s));
    icon.setStatusText(u"Connected"_s);
    QTRY_VERIFY(icon.isAvailable());

    QDBusConnection peer(u"peer"_s);
    SignalRecorder recorder;
    const QString service = icon.serviceName();
    QVERIFY(peer.connect(service, ItemPath, ItemInterface, u"NewStatus"_s, &recorder,
                         SLOT(onNewStatus(QString))));
    QVERIFY(
        peer.connect(service, ItemPath, ItemInterface, u"NewIcon"_s, &recorder, SLOT(onNewIcon())));
    QVERIFY(peer.connect(service, ItemPath, ItemInterface, u"NewToolTip"_s, &recorder,
                         SLOT(onNewToolTip())));
    QVERIFY(peer.connect(service, ItemPath, ItemInterface, u"NewTitle"_s, &recorder,
                         SLOT(onNewTitle())));
    // A round trip to the bus from the peer's connection: its match rules are in place.
    QVERIFY(peer.interface()->isServiceRegistered(service));

    QSignalSpy statusChanged(&icon, &TrayIcon::statusChanged);
    icon.setUnreadCount(3);
    QCOMPARE(statusChanged.count(), 1);
    QCOMPARE(icon.status(), u"NeedsAttention"_s);
    QTRY_COMPARE(recorder.statuses, QStringList {u"NeedsAttention"_s});
    QTRY_COMPARE(recorder.icons, 1);
    QTRY_COMPARE(recorder.toolTips, 1);

    QVariantMap all = itemProperties(service);
    QCOMPARE(all.value(u"Status"_s).toString(), u"NeedsAttention"_s);
    QCOMPARE(all.value(u"IconName"_s).toString(), u"mail-unread"_s);
    QCOMPARE(readToolTip(all.value(u"ToolTip"_s)).text, u"3 unread notifications · Connected"_s);

    // Same value: nothing. A new status text: only the tooltip (the bus keeps the order, so a
    // NewStatus or NewIcon sent before the NewToolTip would already be here).
    icon.setUnreadCount(3);
    icon.setStatusText(u"Reconnecting"_s);
    QTRY_COMPARE(recorder.toolTips, 2);
    QCOMPARE(recorder.statuses.size(), 1);
    QCOMPARE(recorder.icons, 1);
    QCOMPARE(readToolTip(itemProperties(service).value(u"ToolTip"_s)).text,
             u"3 unread notifications · Reconnecting"_s);

    // One unread: still NeedsAttention, only the tooltip changes.
    icon.setUnreadCount(1);
    QTRY_COMPARE(recorder.toolTips, 3);
    QCOMPARE(recorder.statuses.size(), 1);
    QCOMPARE(readToolTip(itemProperties(service).value(u"ToolTip"_s)).text,
             u"1 unread notification · Reconnecting"_s);

    icon.setUnreadCount(0);
    QTRY_COMPARE(recorder.statuses, (QStringList {u"NeedsAttention"_s, u"Active"_s}));
    QTRY_COMPARE(recorder.icons, 2);
    QTRY_COMPARE(recorder.toolTips, 4);
    all = itemProperties(service);
    QCOMPARE(all.value(u"Status"_s).toString(), u"Active"_s);
    QCOMPARE(all.value(u"IconName"_s).toString(), u"network-transmit-receive"_s);

    icon.setTitle(u"Heliograph (alice)"_s);
    QTRY_COMPARE(recorder.titles, 1);
    all = itemProperties(service);
    QCOMPARE(all.value(u"Title"_s).toString(), u"Heliograph (alice)"_s);
    QCOMPARE(readToolTip(all.value(u"ToolTip"_s)).title, u"Heliograph (alice)"_s);
}

void TestTrayIcon::activateOverTheBus()
{
    TrayIcon icon(QDBusConnection(u"item"_s));
    QTRY_VERIFY(icon.isAvailable());
    QSignalSpy activated(&icon, &TrayIcon::activated);

    const auto call = [&](const QString &method, const QVariantList &arguments) {
        QDBusMessage message
            = QDBusMessage::createMethodCall(icon.serviceName(), ItemPath, ItemInterface, method);
        message.setArguments(arguments);
        return callFromPeer(message);
    };
    QDBusMessage reply = call(u"Activate"_s, {10, 20});
    QCOMPARE(reply.type(), QDBusMessage::ReplyMessage);
    QCOMPARE(activated.count(), 1); // answered after the handler ran

    // Ignored, but answered.
    QCOMPARE(call(u"SecondaryActivate"_s, {10, 20}).type(), QDBusMessage::ReplyMessage);
    QCOMPARE(call(u"Scroll"_s, {120, u"vertical"_s}).type(), QDBusMessage::ReplyMessage);
    QCOMPARE(activated.count(), 1);

    QCOMPARE(call(u"ContextMenu"_s, {10, 20}).type(), QDBusMessage::ReplyMessage);
    QCOMPARE(activated.count(), 2);
}

void TestTrayIcon::watcherAppearingLater()
{
    stopWatcher();
    QVERIFY(!hasOwner(WatcherName));

    TrayIcon icon(QDBusConnection(u"item"_s));
    QTRY_VERIFY(icon.unavailableReason().contains(u"no StatusNotifierWatcher"_s));
    QVERIFY(!icon.isAvailable());
    QVERIFY(hasOwner(icon.serviceName())); // the item is on the bus, only the tray is missing

    startWatcher();
    QTRY_VERIFY(icon.isAvailable());
    QCOMPARE(m_watcher->registrations.size(), 1);
    QCOMPARE(m_watcher->registrations.constFirst().service, icon.serviceName());

    // The watcher leaves (the tray quits): unavailable, and back when a new one comes.
    stopWatcher();
    QTRY_VERIFY(!icon.isAvailable());
    QVERIFY(icon.unavailableReason().contains(u"StatusNotifierWatcher"_s));
    startWatcher();
    QTRY_VERIFY(icon.isAvailable());
    QCOMPARE(m_watcher->registrations.size(), 1);
}

void TestTrayIcon::hidingReleasesTheName()
{
    TrayIcon icon(QDBusConnection(u"item"_s));
    QTRY_VERIFY(icon.isAvailable());
    const QString service = icon.serviceName();
    QVERIFY(hasOwner(service));

    icon.setVisible(false);
    QTRY_VERIFY(!hasOwner(service));
    QVERIFY(!icon.isAvailable());
    QCOMPARE(icon.unavailableReason(), u"hidden"_s);
    // Nothing answers for the item any more.
    const QDBusMessage gone = callFromPeer(QDBusMessage::createMethodCall(
        service, ItemPath, u"org.freedesktop.DBus.Introspectable"_s, u"Introspect"_s));
    QCOMPARE(gone.type(), QDBusMessage::ErrorMessage);

    icon.setVisible(true);
    QTRY_VERIFY(icon.isAvailable());
    QVERIFY(hasOwner(service));
    QCOMPARE(m_watcher->registrations.size(), 2);
    QCOMPARE(m_watcher->registrations.constLast().service, service);

    // Hidden and shown again before anything reached the bus: shown, registered once more.
    icon.setVisible(false);
    icon.setVisible(true);
    QTRY_COMPARE(m_watcher->registrations.size(), 2);
    QVERIFY(icon.isAvailable());
}

void TestTrayIcon::withoutABus()
{
    TrayIcon icon(QDBusConnection(u"no-such-connection"_s));
    QTRY_COMPARE(icon.unavailableReason(), u"no D-Bus session bus"_s);
    QVERIFY(!icon.isAvailable());
}

QTEST_GUILESS_MAIN(TestTrayIcon)
#include "tst_trayicon.moc"
