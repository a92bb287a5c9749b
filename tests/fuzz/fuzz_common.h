// SPDX-License-Identifier: MIT
// Shared helpers of the hub protocol fuzz targets: the split-reader run, the frame-by-frame
// reference it is compared with, and the encode/decode round-trip invariant. Every violated
// invariant prints what it saw and calls abort(), which libFuzzer reports as a crash.
#pragma once

#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace HeliographFuzz {

using namespace Heliograph;

/// The limit the fuzzed MessageReader runs with (what a server would configure).
inline constexpr qsizetype MaxMessageSize = 32768;

inline QByteArrayView view(const uint8_t *data, size_t size)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size));
}

[[noreturn]] inline void violated(const char *what, QByteArrayView first = {},
                                  QByteArrayView second = {})
{
    std::fprintf(stderr, "\n*** fuzz invariant violated: %s\n", what);
    if (!first.isEmpty())
        std::fprintf(stderr, "    first : %s\n", first.toByteArray().toHex(' ').constData());
    if (!second.isEmpty())
        std::fprintf(stderr, "    second: %s\n", second.toByteArray().toHex(' ').constData());
    std::fflush(stderr);
    std::abort();
}

inline void require(bool condition, const char *what, QByteArrayView first = {},
                    QByteArrayView second = {})
{
    if (!condition)
        violated(what, first, second);
}

/// A split position in [0, size] that depends on every byte of the input (FNV-1a), so the
/// mutator explores many splits without spending input bytes on choosing one.
inline qsizetype splitPoint(QByteArrayView data)
{
    quint64 h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
        h ^= quint8(c);
        h *= 0x100000001b3ULL;
    }
    return qsizetype(h % quint64(data.size() + 1));
}

/// What reading a byte stream produced: the messages, then how it ended.
struct ReadOutcome {
    QList<HubMessage> messages;
    quint64 skipped = 0;
    bool error = false; ///< a framing or parse error stopped the stream
    bool incomplete = false; ///< trailing bytes of an unfinished frame
};

/// Reference semantics: frame by frame over the whole buffer, with the same size limit.
inline ReadOutcome referenceRead(const HubProtocol &protocol, QByteArrayView data)
{
    ReadOutcome out;
    while (!data.isEmpty()) {
        const FrameInfo f = protocol.scanFrame(data, MaxMessageSize, 0);
        if (f.status == FrameInfo::Status::Invalid) {
            out.error = true;
            return out;
        }
        if (f.status == FrameInfo::Status::Incomplete) {
            out.incomplete = true;
            return out;
        }
        require(f.frameSize > 0 && f.frameSize <= data.size() && f.payloadOffset >= 0
                    && f.payloadSize >= 0 && f.payloadOffset + f.payloadSize <= f.frameSize,
                "scanFrame returned a frame outside the buffer", data);
        auto parsed = protocol.parsePayload(data.sliced(f.payloadOffset, f.payloadSize));
        if (!parsed) {
            out.error = true;
            return out;
        }
        if (*parsed)
            out.messages.append(std::move(**parsed));
        else
            ++out.skipped;
        data = data.sliced(f.frameSize);
    }
    return out;
}

/// The server path: a MessageReader fed in two appends (a copied view, then a shared
/// QByteArray), drained after each.
inline ReadOutcome splitRead(const HubProtocol &protocol, QByteArrayView data, qsizetype split)
{
    MessageReader reader(protocol, MaxMessageSize);
    ReadOutcome out;
    auto drain = [&]() {
        while (true) {
            MessageReader::Result r = reader.read();
            switch (r.status) {
            case MessageReader::Status::Message:
                require(r.message.has_value(), "Message result without a message");
                out.messages.append(std::move(*r.message));
                break;
            case MessageReader::Status::Error:
                out.error = true;
                // The reader must stay failed.
                require(reader.read().status == MessageReader::Status::Error,
                        "MessageReader recovered after an error");
                return false;
            case MessageReader::Status::NeedMoreData:
                return true;
            }
        }
    };
    reader.append(data.first(split));
    if (drain()) {
        reader.append(data.sliced(split).toByteArray());
        drain();
    }
    out.skipped = reader.skippedMessages();
    out.incomplete = !out.error && reader.bufferedBytes() > 0;
    return out;
}

/// Encodes `m` with `protocol`, decodes it again: the result must be the same message, the
/// encoding exactly one frame, and encoding the decoded message must give the same bytes.
inline void checkRoundTrip(const HubProtocol &protocol, const HubMessage &m)
{
    QByteArray encoded;
    protocol.write(m, encoded);
    const FrameInfo f = protocol.scanFrame(encoded, 0, 0);
    require(f.status == FrameInfo::Status::Complete && f.frameSize == encoded.size(),
            "an encoded message is not exactly one frame", encoded);
    auto again
        = protocol.parsePayload(QByteArrayView(encoded).sliced(f.payloadOffset, f.payloadSize));
    if (!again) {
        std::fprintf(stderr, "parse error: %s\n", qPrintable(again.error().message));
        violated("an encoded message does not decode", encoded);
    }
    require(again->has_value(), "an encoded message decodes as an unknown type", encoded);
    if (!(**again == m)) {
        QByteArray reencoded;
        protocol.write(**again, reencoded);
        violated("decode(encode(m)) != m", encoded, reencoded);
    }
    QByteArray reencoded;
    reencoded.reserve(encoded.size()); // also exercises writing into a non-empty capacity
    protocol.write(**again, reencoded);
    require(reencoded == encoded, "encode(decode(encode(m))) != encode(m)", encoded, reencoded);
}

/// Writes `m` with another protocol and parses the result: the values a protocol reads must
/// be writable by the other one (binary, timestamps, non-string keys, non-finite doubles...).
/// The outcome is not compared: the protocols differ in what they can represent.
inline void crossEncode(const HubProtocol &other, const HubMessage &m)
{
    QByteArray encoded;
    other.write(m, encoded);
    const FrameInfo f = other.scanFrame(encoded, 0, 0);
    require(f.status == FrameInfo::Status::Complete && f.frameSize == encoded.size(),
            "a cross-encoded message is not exactly one frame", encoded);
    (void)other.parsePayload(QByteArrayView(encoded).sliced(f.payloadOffset, f.payloadSize));
}

/// The whole hub protocol target: split reader vs reference, round trips, raw parsePayload.
inline void fuzzHubProtocol(const HubProtocol &protocol, const HubProtocol &other,
                            QByteArrayView input)
{
    const ReadOutcome split = splitRead(protocol, input, splitPoint(input));
    const ReadOutcome reference = referenceRead(protocol, input);
    require(split.messages.size() == reference.messages.size(),
            "split reader and reference disagree on the message count", input);
    require(split.messages == reference.messages,
            "split reader and reference decode different messages", input);
    require(split.error == reference.error && split.incomplete == reference.incomplete
                && split.skipped == reference.skipped,
            "split reader and reference end differently", input);

    for (const HubMessage &m : split.messages) {
        checkRoundTrip(protocol, m);
        crossEncode(other, m);
    }

    // The raw input as one message body, without framing.
    auto direct = protocol.parsePayload(input);
    if (direct && *direct) {
        checkRoundTrip(protocol, **direct);
        crossEncode(other, **direct);
    }
}

} // namespace HeliographFuzz
