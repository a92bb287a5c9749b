// SPDX-License-Identifier: MIT
// The QML face of Heliograph::HubConnection. QML code uses the type `HubConnection`
// (HubConnection.qml), which adds the variadic invoke()/send() to this C++ base:
//
//   import Heliograph.Client
//   HubConnection {
//       id: hub
//       url: "https://example.com/hubs/chat"
//       accessTokenProvider: () => session.token      // or accessToken: "..."
//       active: true                                  // true starts, false stops
//       onConnected: hub.invoke("Echo", "hi").then(r => console.log(r))
//       Component.onCompleted: hub.on("ReceiveMessage", (user, text) => log(user, text))
//   }
//
// Everything runs on the GUI thread; callbacks that throw are logged
// (heliograph.client.qml) and do not disturb the connection. Configuration changes apply at
// the next start, as in Heliograph::HubConnection.
//
// The enums are the C++ ones (QML_EXTENDED_NAMESPACE): HubConnection's State, Protocol and
// Transport(s), and Heliograph::Error, written scoped: `HubConnection.State.Connected`,
// `HubConnection.Protocol.MessagePack`, `HubConnection.Transport.LongPolling`,
// `HubConnection.Error.ServerTimeout` are the C++ values, and the properties have the C++ enum
// types. (Qt 6.4 finds an extension's values unscoped on the C++ type, HubConnectionBase, but
// not on HubConnection.qml, which derives from it; scoped they work on both.)
#pragma once

#include "qmlpendingcall.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QUrl>
#include <QtCore/QVariantMap>
#include <QtQml/QJSValue>
#include <QtQml/QQmlParserStatus>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Qml {

/// The base of HubConnection in QML; it carries Heliograph::Error's values (a QML type has one
/// extension, and QmlHubConnection's is HubConnection's enums). Nothing else.
class QmlErrorValues : public QObject {
    Q_OBJECT
    QML_ANONYMOUS
    QML_EXTENDED_NAMESPACE(Heliograph)

public:
    using QObject::QObject;
};

class QmlHubConnection : public QmlErrorValues, public QQmlParserStatus {
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(HubConnectionBase)
    // QML sees HubConnection's enums (State, Error, Protocol, Transport, Transports) on this
    // type, not copies of them.
    QML_EXTENDED_NAMESPACE(Heliograph::HubConnection)

    // --- configuration (read at start) ----------------------------------------------------
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    Q_PROPERTY(Heliograph::HubConnection::Protocol protocol READ protocol WRITE setProtocol NOTIFY
                   protocolChanged)
    /// "json" or "messagepack".
    Q_PROPERTY(QString protocolName READ protocolName NOTIFY protocolChanged)
    Q_PROPERTY(Heliograph::HubConnection::Transports transports READ transports WRITE setTransports
                   NOTIFY transportsChanged)
    Q_PROPERTY(bool skipNegotiation READ skipNegotiation WRITE setSkipNegotiation NOTIFY
                   skipNegotiationChanged)
    /// A fixed bearer token; used when accessTokenProvider is not set. Never logged.
    Q_PROPERTY(QString accessToken READ accessToken WRITE setAccessToken NOTIFY accessTokenChanged)
    /// A function called before every connect and reconnect attempt; it returns the token
    /// (a string) or a thenable (a Promise, a PendingCall) that resolves to it. A throw or a
    /// rejection fails the attempt with Error Unauthorized.
    Q_PROPERTY(QJSValue accessTokenProvider READ accessTokenProvider WRITE setAccessTokenProvider
                   NOTIFY accessTokenProviderChanged)
    /// Extra HTTP headers {name: value} for every request and the WebSocket handshake.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    /// Automatic reconnect with the library's default delays (0, 2, 5, 10, 30 s...); set
    /// reconnectDelays for others. Default true.
    Q_PROPERTY(bool automaticReconnect READ automaticReconnect WRITE setAutomaticReconnect NOTIFY
                   automaticReconnectChanged)
    /// Milliseconds before each reconnect attempt; the last one repeats. Empty: the defaults.
    Q_PROPERTY(QList<int> reconnectDelays READ reconnectDelays WRITE setReconnectDelays NOTIFY
                   reconnectDelaysChanged)
    /// Declarative start/stop: true starts (once the component is complete), false stops.
    /// Becomes false by itself when the connection ends for good; start() and stop() set it.
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)

    // --- state (read-only) -----------------------------------------------------------------
    Q_PROPERTY(Heliograph::HubConnection::State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString connectionId READ connectionId NOTIFY connectionIdChanged)
    Q_PROPERTY(
        Heliograph::HubConnection::Transport transport READ transport NOTIFY transportChanged)
    /// The transport's name as negotiate spells it ("WebSockets", "ServerSentEvents",
    /// "LongPolling"); "None" unless Connected or Disconnecting.
    Q_PROPERTY(QString transportName READ transportName NOTIFY transportChanged)
    Q_PROPERTY(Heliograph::Error error READ error NOTIFY errorChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorChanged)

    // --- statistics (reset by start) -------------------------------------------------------
    /// The last measured round trip in ms; -1: none yet. A double to QML (Qt 6.4's QML tooling
    /// has no qint64; the value is exact far beyond any round trip).
    Q_PROPERTY(double roundTripTime READ roundTripTimeForQml NOTIFY statisticsChanged)
    Q_PROPERTY(int reconnectCount READ reconnectCount NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 bytesReceived READ bytesReceived NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 bytesSent READ bytesSent NOTIFY statisticsChanged)
    Q_PROPERTY(int resumeCount READ resumeCount NOTIFY statisticsChanged)
    Q_PROPERTY(int queuedMessages READ queuedMessages NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 replayedMessages READ replayedMessages NOTIFY statisticsChanged)
    Q_PROPERTY(bool recovered READ recovered NOTIFY recoveredChanged)
    /// When the next reconnect attempt starts (for a countdown); invalid when none is scheduled.
    Q_PROPERTY(QDateTime nextRetryAt READ nextRetryAt NOTIFY statisticsChanged)

    /// The wrapped C++ connection, e.g. for NotificationModel { connection: hub.connection }.
    Q_PROPERTY(Heliograph::HubConnection *connection READ connection CONSTANT)

public:
    using State = HubConnection::State;
    using Error = Heliograph::Error;
    using Protocol = HubConnection::Protocol;
    using Transport = HubConnection::Transport;
    using Transports = HubConnection::Transports;

    explicit QmlHubConnection(QObject *parent = nullptr);
    ~QmlHubConnection() override;

    /// The wrapped connection.
    HubConnection *connection() const { return m_hub.get(); }

    QUrl url() const;
    void setUrl(const QUrl &url);
    Protocol protocol() const;
    void setProtocol(Protocol protocol);
    QString protocolName() const;
    Transports transports() const;
    void setTransports(Transports transports);
    bool skipNegotiation() const;
    void setSkipNegotiation(bool skip);
    QString accessToken() const { return m_accessToken; }
    void setAccessToken(const QString &token);
    QJSValue accessTokenProvider() const { return m_tokenProvider; }
    void setAccessTokenProvider(const QJSValue &provider);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    bool automaticReconnect() const { return m_automaticReconnect; }
    void setAutomaticReconnect(bool on);
    QList<int> reconnectDelays() const { return m_reconnectDelays; }
    void setReconnectDelays(const QList<int> &delays);
    bool isActive() const { return m_active; }
    void setActive(bool active);

    State state() const;
    QString connectionId() const;
    Transport transport() const;
    QString transportName() const;
    Error error() const;
    QString errorString() const;
    qint64 roundTripTime() const;
    double roundTripTimeForQml() const;
    int reconnectCount() const;
    quint64 bytesReceived() const;
    quint64 bytesSent() const;
    int resumeCount() const;
    int queuedMessages() const;
    quint64 replayedMessages() const;
    bool recovered() const;
    QDateTime nextRetryAt() const;

    void classBegin() override;
    void componentComplete() override;

    /// Use invoke(method, ...args) (HubConnection.qml); this takes the arguments as an array.
    Q_INVOKABLE Heliograph::Qml::QmlPendingCall *invokeWithArguments(const QString &method,
                                                                     const QJSValue &arguments);
    /// Use send(method, ...args); fire and forget, the PendingCall finishes when it was sent.
    Q_INVOKABLE Heliograph::Qml::QmlPendingCall *sendWithArguments(const QString &method,
                                                                   const QJSValue &arguments);
    /// Calls `callback(...args)` for every invocation of `method` by the server (names ignore
    /// ASCII case). Returns a handle for off().
    Q_INVOKABLE int on(const QString &method, const QJSValue &callback);
    /// off(handle): that handler; off(method): every handler of the method;
    /// off(method, callback): the handlers of the method that are this function.
    Q_INVOKABLE void off(const QJSValue &methodOrHandle, const QJSValue &callback = QJSValue());

public Q_SLOTS:
    void start();
    void stop();

Q_SIGNALS:
    void urlChanged();
    void protocolChanged();
    void transportsChanged();
    void skipNegotiationChanged();
    void accessTokenChanged();
    void accessTokenProviderChanged();
    void headersChanged();
    void automaticReconnectChanged();
    void reconnectDelaysChanged();
    void activeChanged();
    void stateChanged();
    void connectionIdChanged();
    void transportChanged();
    void errorChanged();
    void statisticsChanged();
    void recoveredChanged();
    /// A stateful reconnect replaced the lost socket; nothing was lost.
    void resumed();

    void connected();
    void reconnecting(Heliograph::Error error);
    void reconnected(const QString &connectionId);
    void disconnected();
    void errorOccurred(Heliograph::Error error);

private:
    struct Handler {
        QString method;
        QJSValue callback;
        Subscription subscription;
    };

    QmlPendingCall *newCall(const QString &method);
    void applyActive();
    void applyTokenProvider();
    void applyRetryPolicy();
    void setActiveInternal(bool active);
    QFuture<QString> callTokenProvider();
    void callHandler(const QString &method, const QJSValue &callback, const ValueList &args);

    std::unique_ptr<HubConnection> m_hub;
    QString m_accessToken;
    QJSValue m_tokenProvider;
    QVariantMap m_headers;
    bool m_automaticReconnect = true;
    QList<int> m_reconnectDelays;
    bool m_active = false;
    bool m_complete = true;
    bool m_restartPending = false;
    QHash<int, Handler> m_handlers;
    int m_nextHandle = 1;
    QList<QPointer<QmlPendingCall>> m_pending;
};

} // namespace Heliograph::Qml
