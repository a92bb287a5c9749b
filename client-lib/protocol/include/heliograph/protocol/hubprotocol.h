// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The JSON and MessagePack hub protocols (framing and encoding) and MessageReader.

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/hubmessage.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

namespace Heliograph {
inline namespace Protocol {

/// What a transport can carry: text (JSON) or binary (MessagePack) frames. Combine with `|`
/// to describe a set (see handshake.h).
enum class TransferFormat : quint8 { Text = 1, Binary = 2 };

/// How a MessagePack writer spells the keys of struct maps (Value::isStructMap(): the maps
/// toValue() makes of types described with HELIOGRAPH_DESCRIBE). Every other map is user data
/// and is written as it is. JSON always writes struct keys as toValue() made them (camelCase),
/// and every reader matches them to members ignoring case.
enum class StructKeyCase : quint8 {
    /// `createdAt`, as made: what the JavaScript client hands to the application as is, and
    /// what every Heliograph protocol default is.
    CamelCase,
    /// `CreatedAt`: the first letter capitalised, as .NET names members. MessagePack-CSharp
    /// (the official .NET client's MessagePack protocol) matches keys exactly, so a C# class
    /// without `[Key]` attributes binds only these.
    PascalCase,
};

/// Where the next frame in a buffer ends.
struct FrameInfo {
    /// Whether a whole frame is there.
    enum class Status : quint8 {
        Complete, ///< a whole frame starts the buffer: the sizes are set
        Incomplete, ///< more bytes are needed
        Invalid ///< the bytes can never become a valid frame: see error
    };
    Status status = Status::Incomplete; ///< the outcome of the scan
    qsizetype frameSize = 0; ///< total bytes of the frame including its framing
    qsizetype payloadOffset = 0; ///< where the message body starts inside the frame
    qsizetype payloadSize = 0; ///< body bytes (JSON: without the record separator)
    ProtocolError error; ///< for Status::Invalid
};

/// A SignalR hub protocol: message framing and encoding. Implementations are stateless and
/// thread-safe; get them from json(), messagePack() or find().
class HELIOGRAPH_PROTOCOL_EXPORT HubProtocol {
public:
    virtual ~HubProtocol();

    /// "json" or "messagepack", as in the handshake.
    virtual QByteArrayView name() const noexcept = 0;
    /// Highest protocol version spoken (2: stateful reconnect).
    virtual int version() const noexcept = 0;
    /// Text for JSON, Binary for MessagePack.
    virtual TransferFormat transferFormat() const noexcept = 0;

    /// Appends the framed encoding of `message` to `out`.
    virtual void write(const HubMessage &message, QByteArray &out) const = 0;
    /// The framed encoding of `message` in a new buffer (write() into an empty one).
    QByteArray serialize(const HubMessage &message) const;

    /// Finds the frame at the start of `data`. `maxMessageSize` (0 = unlimited) applies to the
    /// framed size; a frame that is or will be larger is Invalid with MessageTooLarge.
    /// `scanFrom` lets a caller skip bytes it already searched for a terminator.
    virtual FrameInfo scanFrame(QByteArrayView data, qsizetype maxMessageSize = 0,
                                qsizetype scanFrom = 0) const = 0;

    /// Decodes one message body (FrameInfo payload). std::nullopt means a message of an
    /// unknown type, which the official implementations skip; the caller should skip it too.
    virtual Expected<std::optional<HubMessage>> parsePayload(QByteArrayView payload) const = 0;

    /// Convenience for whole buffers: decodes every complete frame, in order.
    Expected<QList<HubMessage>> parseAll(QByteArrayView data) const;

    /// The JSON hub protocol (records terminated by the 0x1E separator).
    static const HubProtocol &json() noexcept;
    /// The MessagePack hub protocol (each message prefixed with its varint length); struct
    /// keys camelCase.
    static const HubProtocol &messagePack() noexcept;
    /// The MessagePack hub protocol writing struct keys in `keyCase`: CamelCase gives
    /// messagePack() itself. Both have the name "messagepack" and read the same way.
    static const HubProtocol &messagePack(StructKeyCase keyCase) noexcept;
    /// Case-insensitive lookup by handshake name; nullptr if unknown.
    static const HubProtocol *find(QByteArrayView name) noexcept;

    /// Maximum nesting of arrays/maps accepted by the decoders (as .NET's default of 64).
    static constexpr int MaxDepth = 64;

protected:
    HubProtocol() = default;
    Q_DISABLE_COPY_MOVE(HubProtocol)
};

/// Incremental reader: feed it transport payloads as they arrive (split or batched anyhow)
/// and take complete messages out. Unknown message types are skipped and counted.
class HELIOGRAPH_PROTOCOL_EXPORT MessageReader {
public:
    /// The outcome of read().
    enum class Status : quint8 {
        Message, ///< a message was decoded
        NeedMoreData, ///< no complete frame is buffered
        Error ///< the input is invalid; the reader stays failed until clear()
    };
    /// What read() returns.
    struct Result {
        Status status = Status::NeedMoreData; ///< which of the members is meaningful
        std::optional<HubMessage> message; ///< set for Status::Message
        ProtocolError error; ///< set for Status::Error
    };

    /// A reader for `protocol` (which must outlive it). `maxMessageSize` (0 = unlimited)
    /// bounds each framed message, checked before the message is buffered in full.
    explicit MessageReader(const HubProtocol &protocol, qsizetype maxMessageSize = 0);

    /// Adds bytes. Passing a QByteArray into an empty reader takes it without copying.
    /// Ignored once the reader has failed.
    void append(QByteArrayView data);
    /// \overload
    void append(const QByteArray &data);

    /// The next message, NeedMoreData, or Error (the stream is then unusable: close it).
    Result read();

    /// Bytes appended and not consumed by read() yet.
    qsizetype bufferedBytes() const noexcept { return m_buffer.size() - m_offset; }
    /// Messages of unknown types skipped so far.
    quint64 skippedMessages() const noexcept { return m_skipped; }
    /// The protocol this reader decodes.
    const HubProtocol &protocol() const noexcept { return *m_protocol; }
    /// Drops the buffered bytes and a failure: the reader starts afresh.
    void clear();

private:
    void compact();

    const HubProtocol *m_protocol;
    qsizetype m_maxMessageSize;
    QByteArray m_buffer;
    qsizetype m_offset = 0;
    qsizetype m_scanned = 0; ///< bytes after m_offset already searched for a terminator
    quint64 m_skipped = 0;
    bool m_failed = false;
    ProtocolError m_error;
};

} // namespace Protocol
} // namespace Heliograph
