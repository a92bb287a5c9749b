// SPDX-License-Identifier: MIT
#pragma once

#include "connector_p.h"
#include "transport_p.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/hubmessage.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/reconnectbuffer.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtCore/QTimer>

#include <deque>
#include <optional>

namespace Heliograph {

using namespace std::chrono_literals;

// The Private classes are hidden (Q_DECL_HIDDEN): nested in exported classes they would be
// exported too, member functions and the std:: templates instantiated with them included.

struct Q_DECL_HIDDEN Subscription::Data {
    QPointer<HubConnection> connection;
    QByteArray method;
    quint64 id = 0;
};

struct Q_DECL_HIDDEN HubStream::Private {
    QPointer<HubConnection> connection;
    QByteArray invocationId;
    quint64 session = 0;
    bool finished = false;
    std::optional<HubError> error;
};

struct Q_DECL_HIDDEN UploadStream::Private {
    enum class State : quint8 { Unbound, Open, Closed };
    QPointer<HubConnection> connection;
    State state = State::Unbound;
    QByteArray streamId;
    quint64 session = 0;
    ValueList buffered; ///< written before the stream was passed to a call
    bool completeRequested = false;
    std::optional<QString> failRequested;
};

class Q_DECL_HIDDEN HubConnection::Private {
public:
    enum class CallKind : quint8 { Invoke, Send, Stream };

    struct Config {
        QUrl url;
        Protocol protocol = Protocol::Json;
        StructKeyCase messagePackKeyCase = StructKeyCase::CamelCase;
        Transports transports
            = Transport::WebSockets | Transport::ServerSentEvents | Transport::LongPolling;
        bool skipNegotiationEnabled = false;
        AccessTokenProvider tokenProvider;
        HttpHeaders headers;
        QPointer<QNetworkAccessManager> manager;
#if QT_CONFIG(ssl)
        std::optional<QSslConfiguration> ssl;
#endif
        std::chrono::milliseconds keepAlive = 15s;
        std::chrono::milliseconds serverTimeout = 30s;
        std::chrono::milliseconds handshakeTimeout = 15s;
        qint64 maxReceiveMessageSize = 32 * 1024 * 1024; ///< framed; 0 = unlimited
        std::shared_ptr<RetryPolicy> retryPolicy = std::make_shared<DefaultRetryPolicy>();
        bool statefulReconnectEnabled = true;
        qsizetype statefulBufferSize = 100000;
        bool outboxEnabled = true;
        int outboxLimit = 1000;
        std::chrono::milliseconds outboxTimeout = 30s;
        std::shared_ptr<OutboxStore> outboxStore;
    };

    /// Stateful reconnect of the current logical connection (protocol doc section 5).
    struct Stateful {
        /// A send() held back by the buffer limit: it completes once the server has
        /// acknowledged enough (or fails with the connection).
        struct Held {
            qint64 id = 0;
            std::function<void(bool)> done;
        };
        bool enabled = false; ///< negotiated, WebSockets, handshake version 2
        bool resuming = false; ///< the socket is gone, a new one is being opened
        bool awaitingSequence = false; ///< after a resume: drop messages until Sequence
        bool resumedOnce = false; ///< the current socket came from a resume
        QUrl url; ///< the transport URL with `id=`
        ReconnectBuffer messages; ///< sent and not acknowledged; received, counted
        QList<Held> held;
        Error lossError = Error::NoError;
        QString lossMessage;
    };

    /// A call waiting in the offline outbox.
    struct Queued {
        CallKind kind;
        QByteArray method;
        ValueList arguments;
        ResultCallback onResult;
        std::function<void(bool)> onSent;
        qint64 deadlineMs = 0; ///< on `clock`
        qint64 enqueuedAtMs = 0; ///< wall clock, for the store
        bool persisted = false;
    };

    struct Rejoin {
        quint64 id = 0;
        QByteArray method;
        ValueList arguments;
    };

    struct Cursor {
        ReplayCursorOptions options;
        QByteArray key; ///< lower-cased method
        std::shared_ptr<CursorStore> store;
        std::optional<qint64> value;
    };

    /// What notify() emits after the property signals.
    enum class Event : quint8 { None, Connected, Reconnecting, Reconnected, Failed, Disconnected };

    struct HandlerEntry {
        quint64 id = 0;
        QByteArray method;
        Handler handler;
        QPointer<const QObject> context;
        bool hasContext = false;
        bool removed = false;
    };
    struct ResultEntry {
        quint64 id = 0;
        QByteArray method;
        ResultHandler handler;
    };

    explicit Private(HubConnection *q);

    // lifecycle
    void start();
    void stop();
    void startAttempt();
    void onConnectorSucceeded();
    void onConnectorFailed(Error error, const QString &message);
    void onTransportReceived(const QByteArray &payload);
    void onTransportClosed(const Detail::TransportError &error);
    void processHandshake();
    void established();
    void processMessages();
    void dispatch(HubMessage &&message);
    void handleInvocation(InvocationMessage &&invocation);
    void handleCompletion(CompletionMessage &&completion);
    void handleClose(const CloseMessage &close);
    void attemptFailed(Error error, const QString &message);
    void connectionLost(Error error, const QString &message, bool mayReconnect);
    void finishStop();
    void teardownSession(bool graceful);
    void failEverything(const HubError &error);
    std::optional<std::chrono::milliseconds> askRetryPolicy(const RetryContext &context);

    // stateful reconnect
    void attachTransport(Detail::Transport *t);
    Detail::Connector *makeConnector(bool resume);
    void beginResume(Error error, const QString &message);
    void onResumed();
    void trimReplayBuffer(qint64 acknowledged);
    void releaseHeldSends(bool ok);
    void sendAck();
    bool acceptSequenced();

    // outbox, rejoin, cursors
    bool enqueue(CallKind kind, const QByteArray &method, const ValueList &arguments,
                 ResultCallback onResult, std::function<void(bool)> onSent);
    void runRejoins();
    void flushOutbox();
    void expireOutbox();
    void failOutbox(const HubError &error);
    bool persistOutbox();
    void restoreOutbox();
    bool outboxBlocksCalls() const
    {
        return rejoinsPending > 0 || !outbox.empty();
    }
    QUrl urlWithCursors() const;
    bool applyCursor(const InvocationMessage &invocation);
    void setRecovered(bool value);
    void onNetworkOnlineChanged(bool online);
    void scheduleRetry(std::chrono::milliseconds delay);
    void setNextRetryAt(const QDateTime &at);

    // timers
    void scheduleHeartbeat();
    void heartbeat();
    /// keepAlive or serverTimeout changed: the live connection's timer follows at once.
    void liveTimingChanged();

    // sending
    bool sendMessage(const HubMessage &message, std::function<void(bool)> done = {});
    void call(CallKind kind, const QByteArray &method, const ValueList &arguments,
              const QList<UploadStream *> &uploads, ResultCallback onResult,
              std::function<void(bool)> onSent, HubStream *stream);
    QByteArray nextInvocationId()
    {
        return QByteArray::number(invocationCounter++);
    }
    bool isCurrent(quint64 session) const
    {
        return session == currentSession && state == State::Connected;
    }

    // handlers
    Subscription addHandler(const QByteArray &method, const QObject *context, Handler handler);
    Subscription addResultHandler(const QByteArray &method, ResultHandler handler);
    void removeHandler(quint64 id);
    bool hasHandler(quint64 id) const;

    // properties
    void setState(State s);
    void setError(Error e, const QString &message);
    void setConnectionId(const QString &id);
    void setTransportKind(Transport t);
    void notify(Event event);
    void statisticsTouched();
    QNetworkAccessManager *manager();

    HubConnection *const q;
    Config config;
    Config active; ///< the configuration of the running start()
    const HubProtocol *protocol = &HubProtocol::json();

    State state = State::Disconnected;
    Error error = Error::NoError;
    QString errorString;
    QString connectionId;
    Transport transportKind = Transport::None;
    qint64 roundTripTime = -1;
    int reconnectCount = 0;
    quint64 bytesReceived = 0;
    quint64 bytesSent = 0;

    struct Dirty {
        bool state = false, error = false, connectionId = false, transport = false;
    } dirty;
    quint64 transitions = 0;
    bool statisticsQueued = false;
    bool destroying = false;
    bool bypassOutbox = false; ///< rejoin calls and the outbox flush go straight out

    // the session: one connect attempt and the transport it opened
    quint64 currentSession = 0; ///< bumped by every new session: stale callbacks compare it
    Detail::Connector *connector = nullptr;
    Detail::Transport *transport = nullptr;
    QString pendingConnectionId;
    Transport pendingTransport = Transport::None;
    bool handshakeDone = false;
    QByteArray handshakeBuffer;
    std::optional<MessageReader> reader;
    QElapsedTimer handshakeClock;
    QTimer handshakeTimer;
    QTimer heartbeatTimer;
    QElapsedTimer clock;
    qint64 lastSentMs = 0;
    qint64 lastReceivedMs = 0;

    // stateful reconnect
    Stateful sr;
    QTimer ackTimer;
    int resumeCount = 0;

    // offline outbox, rejoin registry, replay cursors, network
    std::deque<Queued> outbox;
    QTimer outboxTimer;
    QList<Rejoin> rejoins;
    quint64 nextRejoinId = 1;
    int rejoinsPending = 0;
    QList<Cursor> cursors;
    quint64 replayedMessages = 0;
    bool recovered = true;
    QPointer<NetworkMonitor> monitor;
    bool monitorChosen = false; ///< setNetworkMonitor() was called (nullptr included)
    bool retryPausedOffline = false;

    // automatic reconnect
    QTimer retryTimer;
    QDateTime nextRetryAt;
    QElapsedTimer reconnectClock;
    int retryCount = 0;

    // calls
    quint64 invocationCounter = 1; ///< the next invocation or stream id
    QHash<QByteArray, ResultCallback> pending;
    QHash<QByteArray, QPointer<HubStream>> streams;
    QList<QPointer<UploadStream>> uploads;

    // handlers, keyed by the lower-cased method name
    QHash<QByteArray, QList<std::shared_ptr<HandlerEntry>>> handlers;
    QHash<QByteArray, ResultEntry> resultHandlers;
    QSet<QByteArray> warnedNoHandler; ///< methods the server called without a handler here
    quint64 nextHandlerId = 1;
};

} // namespace Heliograph
