// SPDX-License-Identifier: MIT
#pragma once

// The connection API of Heliograph Client: a SignalR hub connection over WebSockets,
// Server-Sent Events or long polling, with the JSON or MessagePack hub protocol. This header
// includes the rest of the API, one header per type:
//
//   error.h         Heliograph::Error, the failure codes (a connection band, a call band)
//   huberror.h      HubError, HubErrorException, HubResult
//   subscription.h  Subscription (what on() and onInvoke() return)
//   hubstream.h     HubStream, UploadStream
//   retrypolicy.h   RetryContext, RetryPolicy, DefaultRetryPolicy
//   resilience.h    ReplayCursorOptions, CursorStore, OutboxStore, NetworkMonitor
//
//   auto *hub = new Heliograph::HubConnection(QUrl(u"https://example.com/hubs/chat"_s), this);
//   hub->on<QString, QString>("ReceiveMessage", [](QString user, QString text) { ... });
//   connect(hub, &HubConnection::connected, this, [hub] {
//       hub->invokeAs<QString>("Echo", u"hi"_s).then(hub, [](const QString &echo) { ... });
//   });
//   hub->start();
//
// Everything happens on the thread that owns the HubConnection: no call blocks, no nested
// event loop is ever run, every signal, handler, callback and future continuation without a
// context is delivered on that thread.
//
// States (property `state`); each line is "from -> to: when (signals after the *Changed ones)":
//
//   Disconnected  -> Connecting:    start() (stateChanged() before start() returns)
//   Connecting    -> Connected:     the handshake was answered (connected())
//   Connecting    -> Disconnected:  the start failed, whichever way: the configuration was
//                                   refused (InvalidConfiguration), the access token provider,
//                                   negotiate, every transport or the handshake failed. Always
//                                   after start() has returned, always errorChanged(),
//                                   stateChanged(Disconnected), errorOccurred(error),
//                                   disconnected(), in this order. Or stop() (disconnected())
//   Connected     -> Reconnecting:  transport lost, server timeout, protocol error, or Close
//                                   with allowReconnect, and the retry policy gives a delay
//                                   (reconnecting(error))
//   Connected     -> Disconnected:  the same without a retry policy (or it gives up at once),
//                                   or Close without allowReconnect (errorOccurred(),
//                                   disconnected())
//   Connected     -> Disconnecting: stop(): a Close message is sent, the transport closed
//   Disconnecting -> Disconnected:  the transport closed, within 5 s (disconnected())
//   Reconnecting  -> Connected:     new negotiate, transport and handshake done
//                                   (reconnected(connectionId))
//   Reconnecting  -> Disconnected:  the retry policy gives up (errorOccurred(), disconnected()),
//                                   or stop() (disconnected())
//
// Losing nothing across outages, in layers (each can be turned off):
//  - Stateful reconnect (WebSockets, servers that allow it: ASP.NET Core 8+ with
//    AllowStatefulReconnects, heliograph-server): a socket that drops without a close
//    handshake, or goes silent past serverTimeout(), is replaced by a new one with the same
//    connection id, once, at once. Messages in flight either way are replayed and duplicates
//    dropped; the state stays Connected, pending calls and streams carry on, resumed() is
//    emitted. If the resume fails, the connection is lost as below.
//  - Automatic reconnect (RetryPolicy): a new connection. Invocations, streams and uploads
//    pending when the connection is lost or stopped fail with Error::ConnectionLost.
//  - The rejoin registry (addRejoin()): calls made again after every new connection, first.
//  - The offline outbox: invoke() and send() made while Connecting or Reconnecting are queued
//    (bounded, each with a timeout) and sent in order once the rejoin calls are answered.
//    With an OutboxStore, queued sends survive an application restart. Calls made while
//    Disconnected fail with Error::NotConnected; streams are never queued.
//  - Replay cursors (addReplayCursor()): the last sequence received is presented on every
//    connect so the server replays what was missed; duplicates are dropped; `recovered`
//    says whether anything was missed.
//  - Network awareness (setNetworkMonitor()): no reconnect attempts while offline, an
//    attempt at once when the network is back.

#include <heliograph/client/error.h>
#include <heliograph/client/heliographclient_export.h>
#include <heliograph/client/huberror.h>
#include <heliograph/client/hubstream.h>
#include <heliograph/client/resilience.h>
#include <heliograph/client/retrypolicy.h>
#include <heliograph/client/subscription.h>
#include <heliograph/protocol/convert.h>
#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QDateTime>
#include <QtCore/QFuture>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QUrl>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QSslConfiguration;
QT_END_NAMESPACE

namespace Heliograph {

/// A connection to one SignalR hub. See the state table at the top of this header.
class HELIOGRAPH_CLIENT_EXPORT HubConnection : public QObject {
    Q_OBJECT
    /// The connection's state (see the state table at the top of hubconnection.h).
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    /// The server's id for the connection (see connectionId()).
    Q_PROPERTY(QString connectionId READ connectionId NOTIFY connectionIdChanged)
    /// The transport in use (see transport()).
    Q_PROPERTY(Transport transport READ transport NOTIFY transportChanged)
    /// "json" or "messagepack".
    Q_PROPERTY(QString protocolName READ protocolName NOTIFY protocolChanged)
    /// Why the connection failed, was lost or ended (the connection band of Heliograph::Error).
    Q_PROPERTY(Heliograph::Error error READ error NOTIFY errorChanged)
    /// The details of error, for humans.
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorChanged)
    /// The latest round trip in milliseconds (see roundTripTime()).
    Q_PROPERTY(qint64 roundTripTime READ roundTripTime NOTIFY statisticsChanged)
    /// Successful automatic reconnects.
    Q_PROPERTY(int reconnectCount READ reconnectCount NOTIFY statisticsChanged)
    /// Transport payload bytes received.
    Q_PROPERTY(quint64 bytesReceived READ bytesReceived NOTIFY statisticsChanged)
    /// Transport payload bytes sent.
    Q_PROPERTY(quint64 bytesSent READ bytesSent NOTIFY statisticsChanged)
    /// Successful stateful resumes.
    Q_PROPERTY(int resumeCount READ resumeCount NOTIFY statisticsChanged)
    /// Calls waiting in the offline outbox.
    Q_PROPERTY(int queuedMessages READ queuedMessages NOTIFY statisticsChanged)
    /// Invocations of replay-cursor methods the server marked as replayed.
    Q_PROPERTY(quint64 replayedMessages READ replayedMessages NOTIFY statisticsChanged)
    /// Nothing was missed since the latest new connection (see isRecovered()).
    Q_PROPERTY(bool recovered READ isRecovered NOTIFY recoveredChanged)
    /// See nextRetryAt().
    Q_PROPERTY(QDateTime nextRetryAt READ nextRetryAt NOTIFY statisticsChanged)
    /// The hub endpoint (see setUrl()).
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    /// The hub protocol to use (see setProtocol()).
    Q_PROPERTY(Protocol protocol READ protocol WRITE setProtocol NOTIFY protocolChanged)
    /// The transports to try (see setTransports()).
    Q_PROPERTY(Transports transports READ transports WRITE setTransports NOTIFY transportsChanged)

public:
    /// The connection's lifecycle: see the state table at the top of hubconnection.h.
    enum class State { Disconnected, Connecting, Connected, Reconnecting, Disconnecting };
    Q_ENUM(State)

    /// The former name of the connection's failure codes, now Heliograph::Error (its
    /// connection band, 1..99). Set when it happens; reset by start() and by a successful
    /// reconnect.
    /// \deprecated Use Heliograph::Error; kept for source compatibility until 1.0.
    using Error = Heliograph::Error;

    /// The hub protocol: JSON (text) or MessagePack (binary).
    enum class Protocol { Json, MessagePack };
    Q_ENUM(Protocol)

    /// A transport; several combine into Transports.
    enum class Transport {
        None = 0x0,
        WebSockets = 0x1,
        ServerSentEvents = 0x2, ///< JSON only (text)
        LongPolling = 0x4,
    };
    Q_ENUM(Transport)
    /// A set of transports.
    Q_DECLARE_FLAGS(Transports, Transport)
    Q_FLAG(Transports)

    /// Supplies the access token (see setAccessTokenProvider()).
    using AccessTokenProvider = std::function<QFuture<QString>()>;
    /// HTTP header names and values, in order.
    using HttpHeaders = QList<std::pair<QByteArray, QByteArray>>;
    /// A handler of a server-to-client method: gets the invocation's arguments.
    using Handler = std::function<void(const ValueList &arguments)>;
    /// Answers a server's invocation with a result, possibly later (client results).
    using ResultHandler = std::function<QFuture<Value>(const ValueList &arguments)>;
    /// Answers a server's invocation with a result at once.
    using SyncResultHandler = std::function<Value(const ValueList &arguments)>;
    /// Gets the outcome of the callback flavour of invoke().
    using ResultCallback = std::function<void(const HubResult<Value> &result)>;

    /// A connection without a URL yet: call setUrl() before start().
    explicit HubConnection(QObject *parent = nullptr);
    /// A connection to the hub at `url` (see setUrl()).
    explicit HubConnection(const QUrl &url, QObject *parent = nullptr);
    ~HubConnection() override;

    // --- configuration ---------------------------------------------------------------------
    //
    // As the official clients: keepAliveInterval() and serverTimeout() apply to the live
    // connection at once; url(), headers(), the access token provider, handshakeTimeout() and
    // the retry policy apply from the next connect attempt on (an automatic reconnect's too;
    // not to a stateful resume, which reopens the same connection). Everything else is read
    // by start() and applies at the next start().

    /// The hub endpoint, http(s):// (ws(s):// is accepted and mapped). Changed while
    /// Reconnecting, the next attempt goes to the new URL.
    void setUrl(const QUrl &url);
    /// The hub endpoint.
    QUrl url() const;
    /// Default: Json.
    void setProtocol(Protocol protocol);
    /// The hub protocol used by the next start().
    Protocol protocol() const;
    /// How MessagePack writes the keys of described structs (HELIOGRAPH_DESCRIBE; see
    /// StructKeyCase). PascalCase lets them bind to .NET types without `[Key]` attributes on
    /// an ASP.NET Core hub, whose MessagePack protocol matches keys exactly. JSON is not
    /// affected (ASP.NET Core binds JSON names ignoring case); reading always ignores case.
    /// Default: CamelCase. Applies at the next start().
    void setMessagePackKeyCase(StructKeyCase keyCase);
    /// How MessagePack writes the keys of described structs.
    StructKeyCase messagePackKeyCase() const;
    /// "json" or "messagepack".
    QString protocolName() const;
    /// A transport's name as negotiate and ASP.NET Core spell it: "WebSockets",
    /// "ServerSentEvents", "LongPolling" (and "None").
    static QString transportName(Transport transport);
    /// The transports to try, in the order WebSockets, Server-Sent Events, long polling
    /// (as the server lists them), falling back to the next one when a transport fails to
    /// open. Default: all three.
    void setTransports(Transports transports);
    /// The transports to try.
    Transports transports() const;
    /// Connects the WebSocket straight to url() without negotiating (the official clients'
    /// skipNegotiation). Needs transports() to be exactly WebSockets; connectionId() then
    /// stays empty. Default: false.
    void setSkipNegotiationEnabled(bool enabled);
    /// Whether negotiate is skipped.
    bool isSkipNegotiationEnabled() const;
    /// Called before every connect and reconnect attempt; the token goes into an
    /// `Authorization: Bearer` header of every request. A failed or empty future is an
    /// Unauthorized failure / no token. Never logged.
    void setAccessTokenProvider(AccessTokenProvider provider);
    /// The access token provider; empty when none is set.
    AccessTokenProvider accessTokenProvider() const;
    /// Extra headers for every HTTP request and the WebSocket handshake.
    void setHeaders(const HttpHeaders &headers);
    /// The extra headers.
    HttpHeaders headers() const;
    /// Used for negotiate, Server-Sent Events and long polling (cookies, proxy, caching); its
    /// proxy and cookies also go to the WebSocket. Must live on this object's thread and
    /// outlive it, or be reset. nullptr (default): an internal one.
    void setNetworkAccessManager(QNetworkAccessManager *manager);
    /// The manager in use: the one set with setNetworkAccessManager(), else the one the
    /// connections without their own share on this thread (made on first use; settings made
    /// on it apply to all of them).
    QNetworkAccessManager *networkAccessManager() const;
    /// TLS settings for every request and the WebSocket (default: Qt's default).
    void setSslConfiguration(const QSslConfiguration &configuration);
    /// The TLS settings: those set, else QSslConfiguration::defaultConfiguration() (include
    /// <QtNetwork/QSslConfiguration> to call it; only in a Qt built with TLS).
    QSslConfiguration sslConfiguration() const;
    /// A Ping is sent when nothing was sent for this long. Default 15 s; 0 disables. Applies
    /// to the live connection at once.
    void setKeepAliveInterval(std::chrono::milliseconds interval);
    /// The keep-alive interval.
    std::chrono::milliseconds keepAliveInterval() const;
    /// The connection is lost when nothing arrives for this long (not on long polling).
    /// Default 30 s; 0 disables. Applies to the live connection at once (measured from the
    /// latest message received, so a shorter timeout can end the connection right away).
    void setServerTimeout(std::chrono::milliseconds timeout);
    /// The server timeout.
    std::chrono::milliseconds serverTimeout() const;
    /// Bound for each step of connecting: the negotiate request, opening the transport, and
    /// the handshake response. Default 15 s.
    void setHandshakeTimeout(std::chrono::milliseconds timeout);
    /// The bound for each step of connecting.
    std::chrono::milliseconds handshakeTimeout() const;
    /// The largest message the server may send, in bytes, framed (with the JSON record
    /// separator or the MessagePack length prefix), the handshake response included. Default
    /// 32 MiB (33 554 432); 0 or negative: unlimited (only what the transports can carry).
    ///
    /// A message that is or will be larger ends the connection at once, without the rest of it
    /// being buffered: a JSON record still without its separator once it reaches the limit, a
    /// MessagePack length prefix that announces more. Transports can carry several messages in
    /// one unit, so what they buffer (a WebSocket message or frame, a Server-Sent Events line
    /// and event, a long-polling response) is bounded by twice the limit, at least 1 MiB; a
    /// WebSocket frame header or an HTTP Content-Length that announces more fails as soon as it
    /// is read.
    ///
    /// The connection then ends like on any other protocol error: Error::ProtocolError, with
    /// errorString() "The server sent a message larger than the limit of N bytes.", pending
    /// calls fail with Error::ConnectionLost, and the retry policy decides on an
    /// automatic reconnect (no stateful resume: the same message would come again). In the
    /// handshake response it is a HandshakeFailed attempt.
    void setMaximumReceiveMessageSize(qint64 bytes);
    /// The largest message the server may send; 0 or negative: unlimited.
    qint64 maximumReceiveMessageSize() const;
    /// Automatic reconnect after a lost connection. Default: DefaultRetryPolicy (0, 2, 5, 10,
    /// 30 s, then every 30 s, ±20 % jitter). nullptr: no automatic reconnect.
    void setRetryPolicy(std::shared_ptr<RetryPolicy> policy);
    /// The retry policy; nullptr when automatic reconnect is off.
    std::shared_ptr<RetryPolicy> retryPolicy() const;
    /// Asks for stateful reconnect in negotiate (used only on WebSockets, when the server
    /// agrees). Default: true.
    void setStatefulReconnectEnabled(bool enabled);
    /// Whether stateful reconnect is asked for.
    bool isStatefulReconnectEnabled() const;
    /// Bytes of sent messages the server has not acknowledged yet, kept for replay. Past it,
    /// send() futures finish only once the server acknowledges. Default 100 000.
    void setStatefulReconnectBufferSize(qsizetype bytes);
    /// The replay buffer's size in bytes.
    qsizetype statefulReconnectBufferSize() const;
    /// The offline outbox. Default: enabled, 1 000 calls, 30 s each.
    void setOutboxEnabled(bool enabled);
    /// Whether the offline outbox is on.
    bool isOutboxEnabled() const;
    /// The most calls the outbox holds; a call beyond fails with Error::QueueFull.
    void setOutboxLimit(int calls);
    /// The most calls the outbox holds.
    int outboxLimit() const;
    /// How long a call may wait in the outbox; after that it fails with Error::TimedOut.
    void setOutboxTimeout(std::chrono::milliseconds timeout);
    /// How long a call may wait in the outbox.
    std::chrono::milliseconds outboxTimeout() const;
    /// Keeps queued send() calls (not invokes: their results would have nobody to go to
    /// after a restart) in `store`. Such a send()'s future finishes once the store has it;
    /// it never times out and stays stored until it is handed to a transport, by this run
    /// or by the next start() with the same store. nullptr (default): memory only.
    void setOutboxStore(std::shared_ptr<OutboxStore> store);
    /// The outbox store; nullptr when queued calls are kept in memory only.
    std::shared_ptr<OutboxStore> outboxStore() const;
    /// Pauses automatic reconnect while `monitor` says offline. Default: the system's
    /// (NetworkMonitor::createSystemMonitor()) where there is one; nullptr turns it off. Not
    /// owned unless parented to this connection.
    void setNetworkMonitor(NetworkMonitor *monitor);
    /// The network monitor in use, or nullptr.
    NetworkMonitor *networkMonitor() const;

    // --- rejoin registry and replay cursors ------------------------------------------------

    /// Invokes `method(arguments)` after every new connection (start() and each automatic
    /// reconnect, not a stateful resume), before anything in the outbox is sent; if the
    /// connection is Connected already, also now. Failures are logged and reported by
    /// rejoinFailed(). Returns an id for removeRejoin().
    quint64 addRejoin(const QByteArray &method, const ValueList &arguments = {});
    /// Removes the call that addRejoin() returned `id` for.
    void removeRejoin(quint64 id);
    /// Adds a replay cursor (see ReplayCursorOptions); its current value is loaded from
    /// `store` (nullptr: kept in memory only). Takes effect at the next connect.
    void addReplayCursor(const ReplayCursorOptions &options,
                         std::shared_ptr<CursorStore> store = {});
    /// The cursor of `method`: the highest sequence received, if any.
    std::optional<qint64> replayCursor(const QByteArray &method) const;

    // --- state -----------------------------------------------------------------------------

    /// The current state.
    State state() const;
    /// The server's id for this connection; empty unless Connected (and with skipNegotiation).
    QString connectionId() const;
    /// The transport in use; None unless Connected or Disconnecting.
    Transport transport() const;
    /// Why the connection last failed, was lost or ended (the connection band of
    /// Heliograph::Error); NoError after start() and after a successful reconnect.
    Heliograph::Error error() const;
    /// The details of error(), for humans.
    QString errorString() const;

    // --- statistics (reset by start()) -----------------------------------------------------

    /// Milliseconds of the latest round trip measured: the handshake, then on WebSockets a
    /// WebSocket ping sent with every keep-alive Ping, on the HTTP transports every POST.
    /// -1 until measured.
    qint64 roundTripTime() const;
    /// Successful automatic reconnects.
    int reconnectCount() const;
    /// Transport payload bytes (handshake and hub messages) received and sent.
    quint64 bytesReceived() const;
    /// Transport payload bytes sent (see bytesReceived()).
    quint64 bytesSent() const;
    /// Successful stateful resumes (the same connection on a new socket).
    int resumeCount() const;
    /// Calls waiting in the offline outbox.
    int queuedMessages() const;
    /// Invocations of replay-cursor methods the server marked as replayed.
    quint64 replayedMessages() const;
    /// False once a replay cursor saw a gap since the latest connect or reconnect (something
    /// was missed that the server did not replay); true again at the next new connection.
    bool isRecovered() const;
    /// When the next automatic reconnect attempt starts (for a countdown); invalid unless
    /// Reconnecting with an attempt scheduled (not while one runs or while offline).
    QDateTime nextRetryAt() const;

    // --- calls -----------------------------------------------------------------------------

    /// Invokes a hub method; the future gets its result (null for void methods) or fails with
    /// a HubErrorException. `uploads` are client-to-server streams (createUploadStream()).
    QFuture<Value> invoke(const QByteArray &method, const ValueList &arguments = {},
                          const QList<UploadStream *> &uploads = {});
    /// The same with a callback, called on this thread unless `context` is gone by then.
    void invoke(const QByteArray &method, const ValueList &arguments, const QObject *context,
                ResultCallback callback, const QList<UploadStream *> &uploads = {});
    /// Typed: arguments through toValue(), the result through fromValue<R>() (a conversion
    /// failure fails the future with Error::ConversionFailed).
    template<typename R = void, typename... A>
    QFuture<R> invokeAs(const QByteArray &method, const A &...arguments)
    {
        return invoke(method, ValueList {Heliograph::toValue(arguments)...})
            .then([method](const Value &result) -> R {
                if constexpr (std::is_void_v<R>) {
                    Q_UNUSED(result)
                    return;
                } else {
                    Expected<R> converted = fromValue<R>(result);
                    if (!converted)
                        throw HubErrorException(HubError {Error::ConversionFailed,
                                                          QString::fromUtf8(method)
                                                              + QStringLiteral(": ")
                                                              + converted.error().message});
                    return std::move(*converted);
                }
            });
    }
    /// Fire and forget: no completion is expected. The future finishes when the message has
    /// been handed to the transport (WebSockets) or its POST was answered (HTTP transports).
    QFuture<void> send(const QByteArray &method, const ValueList &arguments = {},
                       const QList<UploadStream *> &uploads = {});
    /// A server-to-client stream. The caller owns the object (it is parented to this
    /// connection until then); deleting it cancels the stream.
    HubStream *stream(const QByteArray &method, const ValueList &arguments = {},
                      const QList<UploadStream *> &uploads = {});
    /// A client-to-server stream to pass to invoke()/send()/stream(), once. Parented to this
    /// connection.
    UploadStream *createUploadStream();

    // --- handlers for server-to-client calls -----------------------------------------------

    /// Called for every invocation of `method` (ASCII case-insensitive, as the JavaScript
    /// client does). Several handlers per method run in registration order.
    Subscription on(const QByteArray &method, Handler handler);
    /// The same; the handler is removed when `context` is destroyed.
    Subscription on(const QByteArray &method, const QObject *context, Handler handler);
    /// Typed: `on<QString, int>("Method", [](QString a, int b) { ... })`. Arguments that do
    /// not convert are logged (warning) and the handler is not called.
    template<typename... Args>
    Subscription on(const QByteArray &method,
                    std::type_identity_t<std::function<void(Args...)>> handler)
    {
        return on(method, Handler([method, handler = std::move(handler)](const ValueList &args) {
                      std::tuple<std::remove_cvref_t<Args>...> converted;
                      QString error;
                      if (!convertArguments(args, converted, error,
                                            std::index_sequence_for<Args...> {})) {
                          warnHandlerArguments(method, error);
                          return;
                      }
                      std::apply(handler, std::move(converted));
                  }));
    }
    /// Answers the server's invocations of `method` that expect a result (client results):
    /// the future's value is sent back, a failed future sends its exception's text as the
    /// error. One result handler per method; a new one replaces the previous one. Invocations
    /// of a method without a result handler are answered "Client didn't provide a result.".
    Subscription onInvoke(const QByteArray &method, ResultHandler handler);
    /// The same with a handler that returns its result at once.
    Subscription onInvoke(const QByteArray &method, SyncResultHandler handler);
    /// Removes every handler (and the result handler) of `method`.
    void off(const QByteArray &method);
    /// Removes the one handler `subscription` refers to.
    void off(const Subscription &subscription);

public Q_SLOTS:
    /// Disconnected -> Connecting. Ignored (with a warning) in any other state. A start that
    /// fails, even for a configuration refused at once, ends Connecting -> Disconnected with
    /// errorOccurred() and then disconnected(), from the event loop (see the state table).
    void start();
    /// Ends the connection (or the connect / reconnect attempt). Sends a Close message when
    /// Connected.
    void stop();

Q_SIGNALS:
    /// The state property changed (emitted before the event signals of the change).
    void stateChanged(Heliograph::HubConnection::State state);
    /// The connectionId property changed.
    void connectionIdChanged();
    /// The transport property changed.
    void transportChanged();
    /// The protocol (and protocolName) property changed.
    void protocolChanged();
    /// The error and errorString properties changed.
    void errorChanged();
    /// One of the statistics changed (roundTripTime, reconnectCount, bytes, counters).
    void statisticsChanged();
    /// The url property changed.
    void urlChanged();
    /// The transports property changed.
    void transportsChanged();

    /// start() succeeded.
    void connected();
    /// The connection was lost; an automatic reconnect is under way.
    void reconnecting(Heliograph::Error error);
    /// An automatic reconnect succeeded; a new connection with a new id.
    void reconnected(const QString &connectionId);
    /// The state became Disconnected (stop(), a failure, or the retry policy gave up).
    void disconnected();
    /// A final failure: start() failed, or the connection ended for good.
    void errorOccurred(Heliograph::Error error);
    /// A stateful reconnect replaced the lost socket; nothing was lost.
    void resumed();
    /// The recovered property changed.
    void recoveredChanged();
    /// A replay cursor's stream jumped from `expected` to `received`.
    void gapDetected(const QByteArray &method, qint64 expected, qint64 received);
    /// A rejoin call failed after a (re)connect.
    void rejoinFailed(const QByteArray &method, const Heliograph::HubError &error);

public:
private:
    friend class HubStream;
    friend class UploadStream;
    friend class Subscription;

    /// Logs that a typed handler of `method` was not called (its arguments did not convert).
    static void warnHandlerArguments(const QByteArray &method, const QString &why);
    /// The arguments of a typed handler (on<Args...>()), converted one by one.
    template<typename... Args, std::size_t... I>
    static bool convertArguments(const ValueList &in, std::tuple<Args...> &out, QString &error,
                                 std::index_sequence<I...>)
    {
        bool ok = true;
        [[maybe_unused]] auto one = [&](const Value &v, auto &target, std::size_t index) {
            if (!ok)
                return;
            using T = std::remove_cvref_t<decltype(target)>;
            if (!ValueTraits<T>::fromValue(v, target, error)) {
                error = QStringLiteral("argument %1: ").arg(index) + error;
                ok = false;
            }
        };
        (one(in.value(qsizetype(I)), std::get<I>(out), I), ...);
        return ok;
    }

    class Private;
    const std::unique_ptr<Private> d;
};

Q_DECLARE_OPERATORS_FOR_FLAGS(HubConnection::Transports)

} // namespace Heliograph
