// SPDX-License-Identifier: MIT
// Shared helpers for the unit tests: message builders, readable QCOMPARE output, hex input.
#pragma once

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubmessage.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QDebug>
#include <QtTest/QTest>

#include <cstring>

Q_DECLARE_METATYPE(Heliograph::HubMessage)
Q_DECLARE_METATYPE(Heliograph::Value)
Q_DECLARE_METATYPE(Heliograph::ProtocolErrorCode)

/// Verifies that an Expected holds a value, printing its error otherwise.
#define VERIFY_OK(expected) QVERIFY2((expected), ::Heliograph::errorOf(expected).constData())

namespace Heliograph {

/// The error text of a failed Expected, or empty (QVERIFY2 evaluates its message eagerly).
template<typename T> QByteArray errorOf(const Expected<T> &e)
{
    return e ? QByteArray() : e.error().message.toUtf8();
}

// --- builders ---------------------------------------------------------------------------------

inline HubMessage invocation(QByteArray id, QByteArray target, ValueList args,
                             QList<QByteArray> streamIds = {}, Headers headers = {})
{
    return InvocationMessage {std::move(headers), std::move(id), std::move(target), std::move(args),
                              std::move(streamIds)};
}

inline HubMessage streamInvocation(QByteArray id, QByteArray target, ValueList args,
                                   QList<QByteArray> streamIds = {}, Headers headers = {})
{
    return StreamInvocationMessage {std::move(headers), std::move(id), std::move(target),
                                    std::move(args), std::move(streamIds)};
}

inline HubMessage streamItem(QByteArray id, Value item, Headers headers = {})
{
    return StreamItemMessage {std::move(headers), std::move(id), std::move(item)};
}

inline HubMessage completionResult(QByteArray id, Value result, Headers headers = {})
{
    CompletionMessage c = CompletionMessage::withResult(std::move(id), std::move(result));
    c.headers = std::move(headers);
    return c;
}

inline HubMessage completionError(QByteArray id, QByteArray error, Headers headers = {})
{
    CompletionMessage c = CompletionMessage::withError(std::move(id), std::move(error));
    c.headers = std::move(headers);
    return c;
}

inline HubMessage completionVoid(QByteArray id, Headers headers = {})
{
    CompletionMessage c = CompletionMessage::empty(std::move(id));
    c.headers = std::move(headers);
    return c;
}

inline HubMessage cancelInvocation(QByteArray id, Headers headers = {})
{
    return CancelInvocationMessage {std::move(headers), std::move(id)};
}

/// Frames a MessagePack body with its VarInt length prefix (written here independently of the
/// library's writer).
inline QByteArray framed(const QByteArray &body)
{
    QByteArray out;
    quint32 n = quint32(body.size());
    do {
        const auto low = char(n & 0x7F);
        n >>= 7;
        out.append(n ? char(low | 0x80) : low);
    } while (n);
    return out + body;
}

/// Writes a handshake response, parses it back and checks every field.
inline void checkHandshakeResponseRoundTrip(const QByteArray &error, const QByteArray &bytes)
{
    QCOMPARE(Handshake::writeResponse({error}), bytes);
    HandshakeResponse parsed {"stale"};
    auto consumed = Handshake::parseResponse(bytes, parsed);
    VERIFY_OK(consumed);
    QCOMPARE(*consumed, bytes.size());
    QCOMPARE(parsed.error, error);
    QCOMPARE(parsed.isSuccess(), error.isEmpty());
}

inline HubMessage ping()
{
    return PingMessage {};
}

inline HubMessage closeMessage(std::optional<QByteArray> error = std::nullopt,
                               bool allowReconnect = false)
{
    return CloseMessage {std::move(error), allowReconnect};
}

inline HubMessage ack(qint64 id)
{
    return AckMessage {id};
}

inline HubMessage sequence(qint64 id)
{
    return SequenceMessage {id};
}

// --- bytes ----------------------------------------------------------------------------------

/// "0e 96 01" -> bytes (whitespace ignored).
inline QByteArray hex(const char *spaced)
{
    return QByteArray::fromHex(QByteArray(spaced));
}

/// A JSON text framed with the record separator.
inline QByteArray rs(QByteArray json)
{
    json.append('\x1e');
    return json;
}

/// The MessagePack encoding of a single Value, obtained through the public API: the value is the
/// item of a StreamItem with id "x", whose framed encoding is prefix + `94 02 80 a1 78` + item.
inline QByteArray messagePackValue(const Value &v)
{
    const QByteArray framed = HubProtocol::messagePack().serialize(streamItem("x", v));
    const FrameInfo f = HubProtocol::messagePack().scanFrame(framed);
    if (f.status != FrameInfo::Status::Complete)
        return {};
    return framed.mid(f.payloadOffset + 5);
}

// --- readable output for QCOMPARE -------------------------------------------------------------

inline QByteArray describe(const Value &v)
{
    QString s;
    QDebug(&s) << v;
    QByteArray out = s.toUtf8();
    if (v.isSinglePrecision())
        out.append("f32");
    return out;
}

inline QByteArray describe(const ValueList &l)
{
    QByteArray out("[");
    for (qsizetype i = 0; i < l.size(); ++i) {
        if (i)
            out.append(", ");
        out.append(describe(l[i]));
    }
    out.append(']');
    return out;
}

inline QByteArray quoted(const QByteArray &b)
{
    return '"' + b + '"';
}

inline QByteArray describeHeaders(const Headers &h)
{
    QByteArray out("{");
    for (const auto &[k, v] : h)
        out.append(quoted(k) + ':' + quoted(v) + ' ');
    out.append('}');
    return out;
}

inline QByteArray describe(const HubMessage &m)
{
    return std::visit(
        [](const auto &x) -> QByteArray {
            using T = std::decay_t<decltype(x)>;
            QByteArray out(messageTypeName(messageType(HubMessage(x))));
            if constexpr (std::is_same_v<
                              T, InvocationMessage> || std::is_same_v<T, StreamInvocationMessage>) {
                out += "{headers=" + describeHeaders(x.headers) + " id=" + quoted(x.invocationId)
                    + " target=" + quoted(x.target) + " args=" + describe(x.arguments)
                    + " streamIds=[";
                for (const QByteArray &s : x.streamIds)
                    out += quoted(s) + ' ';
                out += "]}";
            } else if constexpr (std::is_same_v<T, StreamItemMessage>) {
                out += "{headers=" + describeHeaders(x.headers) + " id=" + quoted(x.invocationId)
                    + " item=" + describe(x.item) + '}';
            } else if constexpr (std::is_same_v<T, CompletionMessage>) {
                out += "{headers=" + describeHeaders(x.headers) + " id=" + quoted(x.invocationId)
                    + " kind=" + QByteArray::number(int(x.kind)) + " result=" + describe(x.result)
                    + " error=" + quoted(x.error) + '}';
            } else if constexpr (std::is_same_v<T, CancelInvocationMessage>) {
                out += "{headers=" + describeHeaders(x.headers) + " id=" + quoted(x.invocationId)
                    + '}';
            } else if constexpr (std::is_same_v<T, CloseMessage>) {
                out += "{error=" + (x.error ? quoted(*x.error) : QByteArray("<absent>"))
                    + " allowReconnect=" + QByteArray(x.allowReconnect ? "true}" : "false}");
            } else if constexpr (std::is_same_v<T,
                                                AckMessage> || std::is_same_v<T, SequenceMessage>) {
                out += '{' + QByteArray::number(x.sequenceId) + '}';
            }
            return out;
        },
        m);
}

// QTest finds these through argument-dependent lookup.
inline char *toString(const Value &v)
{
    return qstrdup(describe(v).constData());
}
inline char *toString(const ValueList &l)
{
    return qstrdup(describe(l).constData());
}
inline char *toString(const HubMessage &m)
{
    return qstrdup(describe(m).constData());
}
inline char *toString(const ProtocolError &e)
{
    return qstrdup(
        QByteArray(QByteArray::number(int(e.code)) + ": " + e.message.toUtf8()).constData());
}

/// Parses exactly one framed message (the whole buffer must be that frame).
inline Expected<HubMessage> parseOne(const HubProtocol &p, QByteArrayView framed)
{
    const FrameInfo f = p.scanFrame(framed);
    if (f.status == FrameInfo::Status::Invalid)
        return f.error;
    if (f.status == FrameInfo::Status::Incomplete)
        return invalidData(QStringLiteral("test: incomplete frame"));
    if (f.frameSize != framed.size())
        return invalidData(QStringLiteral("test: trailing bytes after the frame"));
    auto r = p.parsePayload(framed.sliced(f.payloadOffset, f.payloadSize));
    if (!r)
        return r.error();
    if (!*r)
        return invalidData(QStringLiteral("test: unknown message type"));
    return std::move(**r);
}

} // namespace Heliograph
