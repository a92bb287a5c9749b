// SPDX-License-Identifier: MIT
#pragma once

// What HubConnection uses to lose nothing across outages (see hubconnection.h):
//  - ReplayCursorOptions and CursorStore: a replay cursor per stream of server-to-client
//    invocations, presented as a URL query parameter on every connect;
//  - OutboxStore: where the offline outbox keeps queued sends across an application restart;
//  - NetworkMonitor: whether the system is online, so retries pause while it is not.

#include <heliograph/client/heliographclient_export.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>
#include <optional>

namespace Heliograph {

/// A replay cursor for one stream of server-to-client invocations whose arguments carry a
/// strictly increasing sequence number (for heliograph-server's notification hub:
/// `ReceiveNotification({..., sequence})` and the `lastSequence` query parameter).
///
/// On every connect and reconnect the highest sequence received so far is sent as
/// `queryParameter` of the hub URL, so the server can replay what was missed. Invocations
/// with a sequence at or below the cursor are duplicates: they are dropped before any
/// handler sees them. With `contiguous`, a sequence above cursor + 1 is a gap: the
/// connection's `recovered` property turns false and gapDetected() is emitted.
struct HELIOGRAPH_CLIENT_EXPORT ReplayCursorOptions {
    /// The server-to-client method (ASCII case-insensitive), e.g. "ReceiveNotification".
    QByteArray method;
    /// The query parameter that carries the cursor on connect.
    QString queryParameter = QStringLiteral("lastSequence");
    /// Where the cursor is kept between runs (see CursorStore); empty: the method name.
    QString key;
    /// The sequence of one invocation. Default: the "sequence" field of the first argument
    /// (a map; the name matched ignoring case), as an integer.
    std::function<std::optional<qint64>(const ValueList &arguments)> sequenceOf;
    /// Whether the server marks the invocation as replayed (counted in replayedMessages).
    /// Default: the "replayed" field of the first argument (ignoring case) is true.
    std::function<bool(const ValueList &arguments)> isReplayed;
    /// Sequences increase by exactly one, so a jump means something was missed.
    bool contiguous = true;
    /// A server-to-client method (ASCII case-insensitive) whose first argument, an integer,
    /// replaces the cursor: heliograph-server's notification hub sends
    /// `ReplayCursorReset(sequence)` when the cursor presented is past what it has stored (a
    /// restored backup), so that what it sends next is not dropped as a duplicate. Consumed
    /// here (no handler sees it). Empty: none.
    QByteArray resetMethod = QByteArrayLiteral("ReplayCursorReset");
};

/// Keeps replay cursors. Called on the connection's thread; implementations must not block
/// for long (a small file or a settings store is fine).
class HELIOGRAPH_CLIENT_EXPORT CursorStore {
public:
    virtual ~CursorStore();
    /// The cursor saved under `key`; std::nullopt when there is none.
    virtual std::optional<qint64> load(const QString &key) = 0;
    /// Saves `sequence` as the cursor of `key`.
    virtual void save(const QString &key, qint64 sequence) = 0;

protected:
    /// For subclasses.
    CursorStore() = default;
};

/// Cursors in a small INI file (QSettings), written on every change.
class HELIOGRAPH_CLIENT_EXPORT FileCursorStore : public CursorStore {
public:
    /// Cursors in the INI file at `path`.
    explicit FileCursorStore(const QString &path);
    ~FileCursorStore() override;
    std::optional<qint64> load(const QString &key) override;
    void save(const QString &key, qint64 sequence) override;

private:
    struct Private;
    const std::unique_ptr<Private> d;
};

/// Keeps the offline outbox's queued sends across an application restart. Records are
/// opaque bytes, oldest first; save() replaces everything stored with `records`.
class HELIOGRAPH_CLIENT_EXPORT OutboxStore {
public:
    virtual ~OutboxStore();
    /// The records stored, oldest first; empty when there are none.
    virtual QList<QByteArray> load() = 0;
    /// Replaces everything stored with `records`; false when that failed.
    virtual bool save(const QList<QByteArray> &records) = 0;

protected:
    /// For subclasses.
    OutboxStore() = default;
};

/// The outbox in one file, replaced atomically (QSaveFile) on every change.
class HELIOGRAPH_CLIENT_EXPORT FileOutboxStore : public OutboxStore {
public:
    /// The outbox in the file at `path`.
    explicit FileOutboxStore(const QString &path);
    ~FileOutboxStore() override;
    QList<QByteArray> load() override;
    bool save(const QList<QByteArray> &records) override;
    /// The file.
    QString path() const;

private:
    struct Private;
    const std::unique_ptr<Private> d;
};

/// Whether the system has a network. HubConnection pauses automatic reconnect attempts while
/// isOnline() is false and tries again at once when onlineChanged(true) is emitted.
class HELIOGRAPH_CLIENT_EXPORT NetworkMonitor : public QObject {
    Q_OBJECT
    /// Whether the system has a network.
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged)
public:
    ~NetworkMonitor() override;
    /// Whether the system has a network now.
    virtual bool isOnline() const = 0;

    /// A monitor on QNetworkInformation's reachability where the platform has a backend;
    /// nullptr where it has none (then retries never pause).
    static NetworkMonitor *createSystemMonitor(QObject *parent = nullptr);

Q_SIGNALS:
    /// isOnline() changed.
    void onlineChanged(bool online);

protected:
    /// For subclasses.
    explicit NetworkMonitor(QObject *parent = nullptr);
};

} // namespace Heliograph
