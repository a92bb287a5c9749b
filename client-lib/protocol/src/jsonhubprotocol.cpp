// SPDX-License-Identifier: MIT
// The JSON hub protocol: one JSON object per message, terminated by the record separator 0x1E.
#include "json_p.h"
#include "protocols_p.h"

#include <cstring>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {

namespace {

constexpr char RecordSeparator = 0x1E;

void writeHeaders(const Headers &headers, QByteArray &out)
{
    if (headers.isEmpty())
        return;
    out.append(",\"headers\":{");
    bool first = true;
    for (const auto &[k, v] : headers) {
        if (!first)
            out.append(',');
        first = false;
        Json::writeString(k, out);
        out.append(':');
        Json::writeString(v, out);
    }
    out.append('}');
}

void writeId(const QByteArray &id, QByteArray &out)
{
    if (id.isEmpty())
        return;
    out.append(",\"invocationId\":");
    Json::writeString(id, out);
}

template<typename Inv> void writeInvocation(char type, const Inv &m, QByteArray &out)
{
    out.append("{\"type\":");
    out.append(type);
    writeHeaders(m.headers, out);
    writeId(m.invocationId, out);
    out.append(",\"target\":");
    Json::writeString(m.target, out);
    out.append(",\"arguments\":[");
    bool first = true;
    for (const Value &a : m.arguments) {
        if (!first)
            out.append(',');
        first = false;
        Json::writeValue(a, out);
    }
    out.append(']');
    if (!m.streamIds.isEmpty()) {
        out.append(",\"streamIds\":[");
        first = true;
        for (const QByteArray &s : m.streamIds) {
            if (!first)
                out.append(',');
            first = false;
            Json::writeString(s, out);
        }
        out.append(']');
    }
    out.append('}');
}

struct Fields {
    bool hasType = false;
    qint64 type = 0;
    Headers headers;
    bool hasInvocationId = false;
    QByteArray invocationId;
    bool hasTarget = false;
    QByteArray target;
    bool hasArguments = false;
    ValueList arguments;
    bool hasItem = false;
    Value item;
    bool hasResult = false;
    Value result;
    bool hasError = false;
    QByteArray error;
    bool allowReconnect = false;
    QList<QByteArray> streamIds;
    bool hasSequenceId = false;
    qint64 sequenceId = 0;
};

ProtocolError err(QString message)
{
    return invalidData(std::move(message));
}

QString expectedType(QLatin1StringView property, QLatin1StringView type)
{
    return u"Expected '%1' to be of type %2."_s.arg(property, type);
}

QString missing(QLatin1StringView property)
{
    return u"Missing required property '%1'."_s.arg(property);
}

bool readStringProperty(Json::Reader &r, QLatin1StringView name, QByteArray &out, bool &has)
{
    if (r.peek() == 'n') { // null: treated as absent
        Value ignored;
        return r.readValue(ignored, 1);
    }
    if (r.peek() != '"')
        return r.fail(expectedType(name, "String"_L1));
    has = true;
    return r.readString(out);
}

bool readIntegerProperty(Json::Reader &r, QLatin1StringView name, qint64 &out)
{
    const char c = r.peek();
    if (c != '-' && (c < '0' || c > '9'))
        return r.fail(expectedType(name, "Number"_L1));
    Value v;
    if (!r.readValue(v, 1))
        return false;
    bool ok = false;
    out = v.toInteger(&ok);
    if (!ok || !v.isInteger())
        return r.fail(expectedType(name, "Integer"_L1));
    return true;
}

bool readFields(Json::Reader &r, Fields &f)
{
    if (!r.beginObject()) {
        return r.fail(u"Unexpected JSON Token Type '%1'. Expected a JSON Object."_s.arg(
            QLatin1StringView(r.tokenTypeName())));
    }
    QByteArray key;
    bool done = false;
    while (true) {
        if (!r.nextKey(key, done))
            return false;
        if (done)
            break;
        if (key == "type") {
            if (!readIntegerProperty(r, "type"_L1, f.type))
                return false;
            f.hasType = true;
        } else if (key == "invocationId") {
            if (!readStringProperty(r, "invocationId"_L1, f.invocationId, f.hasInvocationId))
                return false;
        } else if (key == "target") {
            if (!readStringProperty(r, "target"_L1, f.target, f.hasTarget))
                return false;
        } else if (key == "arguments") {
            if (r.peek() != '[')
                return r.fail(expectedType("arguments"_L1, "Array"_L1));
            Value args;
            if (!r.readValue(args, 1))
                return false;
            f.arguments = args.array();
            f.hasArguments = true;
        } else if (key == "item") {
            if (!r.readValue(f.item, 1))
                return false;
            f.hasItem = true;
        } else if (key == "result") {
            if (!r.readValue(f.result, 1))
                return false;
            f.hasResult = true;
        } else if (key == "error") {
            if (!readStringProperty(r, "error"_L1, f.error, f.hasError))
                return false;
        } else if (key == "allowReconnect") {
            const char c = r.peek();
            if (c != 't' && c != 'f')
                return r.fail(expectedType("allowReconnect"_L1, "Boolean"_L1));
            Value b;
            if (!r.readValue(b, 1))
                return false;
            f.allowReconnect = b.toBool();
        } else if (key == "sequenceId") {
            if (!readIntegerProperty(r, "sequenceId"_L1, f.sequenceId))
                return false;
            f.hasSequenceId = true;
        } else if (key == "headers") {
            if (r.peek() != '{')
                return r.fail(expectedType("headers"_L1, "Object"_L1));
            Value h;
            if (!r.readValue(h, 1))
                return false;
            f.headers.reserve(h.map().size());
            for (const MapEntry &e : h.map()) {
                if (!e.value.isString())
                    return r.fail(u"Expected header '%1' to be of type String."_s.arg(
                        QString::fromUtf8(e.key.bytes())));
                f.headers.append({e.key.bytes(), e.value.bytes()});
            }
        } else if (key == "streamIds") {
            if (r.peek() != '[')
                return r.fail(expectedType("streamIds"_L1, "Array"_L1));
            Value ids;
            if (!r.readValue(ids, 1))
                return false;
            f.streamIds.reserve(ids.array().size());
            for (const Value &id : ids.array()) {
                if (!id.isString())
                    return r.fail(expectedType("streamIds"_L1, "String"_L1));
                f.streamIds.append(id.bytes());
            }
        } else {
            if (!r.skipValue(1))
                return false;
        }
    }
    if (!r.atEnd())
        return r.fail(u"Unexpected data after the JSON object at offset %1."_s.arg(r.offset()));
    return true;
}

} // namespace

QByteArrayView JsonHubProtocol::name() const noexcept
{
    return "json";
}

void JsonHubProtocol::write(const HubMessage &message, QByteArray &out) const
{
    std::visit(
        [&out](const auto &m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, InvocationMessage>) {
                writeInvocation('1', m, out);
            } else if constexpr (std::is_same_v<T, StreamInvocationMessage>) {
                writeInvocation('4', m, out);
            } else if constexpr (std::is_same_v<T, StreamItemMessage>) {
                out.append("{\"type\":2");
                writeHeaders(m.headers, out);
                writeId(m.invocationId, out);
                out.append(",\"item\":");
                Json::writeValue(m.item, out);
                out.append('}');
            } else if constexpr (std::is_same_v<T, CompletionMessage>) {
                out.append("{\"type\":3");
                writeHeaders(m.headers, out);
                writeId(m.invocationId, out);
                if (m.kind == CompletionMessage::Kind::Error) {
                    out.append(",\"error\":");
                    Json::writeString(m.error, out);
                } else if (m.kind == CompletionMessage::Kind::Result) {
                    out.append(",\"result\":");
                    Json::writeValue(m.result, out);
                }
                out.append('}');
            } else if constexpr (std::is_same_v<T, CancelInvocationMessage>) {
                out.append("{\"type\":5");
                writeHeaders(m.headers, out);
                writeId(m.invocationId, out);
                out.append('}');
            } else if constexpr (std::is_same_v<T, PingMessage>) {
                out.append("{\"type\":6}");
            } else if constexpr (std::is_same_v<T, CloseMessage>) {
                out.append("{\"type\":7");
                if (m.error) {
                    out.append(",\"error\":");
                    Json::writeString(*m.error, out);
                }
                if (m.allowReconnect)
                    out.append(",\"allowReconnect\":true");
                out.append('}');
            } else if constexpr (std::is_same_v<T,
                                                AckMessage> || std::is_same_v<T, SequenceMessage>) {
                out.append(std::is_same_v<T, AckMessage> ? "{\"type\":8,\"sequenceId\":"
                                                         : "{\"type\":9,\"sequenceId\":");
                Text::appendInt(out, m.sequenceId);
                out.append('}');
            }
        },
        message);
    out.append(RecordSeparator);
}

FrameInfo JsonHubProtocol::scanFrame(QByteArrayView data, qsizetype maxMessageSize,
                                     qsizetype scanFrom) const
{
    FrameInfo info;
    scanFrom = std::clamp<qsizetype>(scanFrom, 0, data.size());
    const void *rs
        = std::memchr(data.data() + scanFrom, RecordSeparator, size_t(data.size() - scanFrom));
    if (!rs) {
        if (maxMessageSize > 0 && data.size() >= maxMessageSize) {
            info.status = FrameInfo::Status::Invalid;
            info.error = tooLarge(maxMessageSize);
        }
        return info;
    }
    const qsizetype payload = static_cast<const char *>(rs) - data.data();
    if (maxMessageSize > 0 && payload + 1 > maxMessageSize) {
        info.status = FrameInfo::Status::Invalid;
        info.error = tooLarge(maxMessageSize);
        return info;
    }
    info.status = FrameInfo::Status::Complete;
    info.frameSize = payload + 1;
    info.payloadOffset = 0;
    info.payloadSize = payload;
    return info;
}

Expected<std::optional<HubMessage>> JsonHubProtocol::parsePayload(QByteArrayView payload) const
{
    Json::Reader r(payload, MaxDepth);
    Fields f;
    if (!readFields(r, f))
        return err(r.error());
    if (!f.hasType)
        return err(missing("type"_L1));

    auto requireId = [&]() { return f.hasInvocationId && !f.invocationId.isEmpty(); };
    switch (f.type) {
    case 1:
    case 4: {
        if (f.type == 4 && !requireId())
            return err(missing("invocationId"_L1));
        if (!f.hasTarget)
            return err(missing("target"_L1));
        if (!f.hasArguments)
            return err(missing("arguments"_L1));
        if (f.type == 1)
            return std::optional<HubMessage>(InvocationMessage {
                std::move(f.headers), std::move(f.invocationId), std::move(f.target),
                std::move(f.arguments), std::move(f.streamIds)});
        return std::optional<HubMessage>(StreamInvocationMessage {
            std::move(f.headers), std::move(f.invocationId), std::move(f.target),
            std::move(f.arguments), std::move(f.streamIds)});
    }
    case 2:
        if (!requireId())
            return err(missing("invocationId"_L1));
        if (!f.hasItem)
            return err(missing("item"_L1));
        return std::optional<HubMessage>(
            StreamItemMessage {std::move(f.headers), std::move(f.invocationId), std::move(f.item)});
    case 3: {
        if (!requireId())
            return err(missing("invocationId"_L1));
        if (f.hasError && f.hasResult)
            return err(u"The 'error' and 'result' properties are mutually exclusive."_s);
        CompletionMessage c;
        c.headers = std::move(f.headers);
        c.invocationId = std::move(f.invocationId);
        if (f.hasError) {
            c.kind = CompletionMessage::Kind::Error;
            c.error = std::move(f.error);
        } else if (f.hasResult) {
            c.kind = CompletionMessage::Kind::Result;
            c.result = std::move(f.result);
        }
        return std::optional<HubMessage>(std::move(c));
    }
    case 5:
        if (!requireId())
            return err(missing("invocationId"_L1));
        return std::optional<HubMessage>(
            CancelInvocationMessage {std::move(f.headers), std::move(f.invocationId)});
    case 6:
        return std::optional<HubMessage>(PingMessage {});
    case 7: {
        CloseMessage c;
        if (f.hasError)
            c.error = std::move(f.error);
        c.allowReconnect = f.allowReconnect;
        return std::optional<HubMessage>(std::move(c));
    }
    case 8:
    case 9:
        if (!f.hasSequenceId)
            return err(missing("sequenceId"_L1));
        if (f.type == 8)
            return std::optional<HubMessage>(AckMessage {f.sequenceId});
        return std::optional<HubMessage>(SequenceMessage {f.sequenceId});
    default:
        return std::optional<HubMessage>(); // unknown type: skipped, as the official parsers do
    }
}

} // namespace Protocol
} // namespace Heliograph
