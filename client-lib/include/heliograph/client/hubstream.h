// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The streams of a HubConnection: HubStream (server to client, HubConnection::stream()) and
/// UploadStream (client to server, HubConnection::createUploadStream()).

#include <heliograph/client/heliographclient_export.h>
#include <heliograph/client/huberror.h>
#include <heliograph/protocol/convert.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <memory>
#include <optional>

namespace Heliograph {

class HubConnection;

/// A server-to-client stream started by HubConnection::stream().
class HELIOGRAPH_CLIENT_EXPORT HubStream : public QObject {
    Q_OBJECT
    /// The stream has ended: completed, failed or canceled.
    Q_PROPERTY(bool finished READ isFinished NOTIFY finished)
public:
    ~HubStream() override;

    /// The id of the stream's invocation (the one CancelInvocation names).
    QByteArray invocationId() const;
    /// The stream has ended: completed, failed or canceled.
    bool isFinished() const;
    /// The error that ended the stream, if one did.
    std::optional<HubError> error() const;

public Q_SLOTS:
    /// Sends CancelInvocation; no item, completed() or errorOccurred() follows, only finished().
    void cancel();

Q_SIGNALS:
    /// One item of the stream, in the order the server sent them.
    void item(const Heliograph::Value &value);
    /// The server completed the stream.
    void completed();
    /// The server completed it with an error, or the connection was lost.
    void errorOccurred(const Heliograph::HubError &error);
    /// After completed(), errorOccurred() or cancel().
    void finished();

private:
    friend class HubConnection;
    explicit HubStream(HubConnection *connection);
    struct Private;
    const std::unique_ptr<Private> d;
};

/// A client-to-server stream: create it with HubConnection::createUploadStream(), pass it to
/// one invoke()/send()/stream(), write items, then complete() it. Items written before that
/// call are buffered and sent right after the invocation.
class HELIOGRAPH_CLIENT_EXPORT UploadStream : public QObject {
    Q_OBJECT
public:
    ~UploadStream() override;

    /// Assigned when the stream is passed to a call; empty before.
    QByteArray streamId() const;
    /// Items can still be written.
    bool isOpen() const;
    /// False when the stream is completed, failed, or its connection is gone.
    bool write(const Value &item);
    /// write() of `toValue(item)`.
    template<typename T> bool writeAs(const T &item) { return write(Heliograph::toValue(item)); }
    /// Ends the stream normally.
    void complete();
    /// Ends the stream with an error text the server sees.
    void fail(const QString &error);

Q_SIGNALS:
    /// The stream cannot take more items (completed, failed or its connection ended).
    void closed();

private:
    friend class HubConnection;
    explicit UploadStream(HubConnection *connection);
    struct Private;
    const std::unique_ptr<Private> d;
};

} // namespace Heliograph
