// SPDX-License-Identifier: MIT
#include "json_p.h"

#include <heliograph/protocol/hubside.h>

#include <cstring>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {
namespace Handshake {

namespace {
constexpr char RecordSeparator = 0x1E;

/// Locates the record separator; 0 = incomplete, -1 = too large, else the payload length + 1.
qsizetype findTerminator(QByteArrayView data, qsizetype maxSize)
{
    const void *rs = std::memchr(data.data(), RecordSeparator, size_t(data.size()));
    if (!rs)
        return (maxSize > 0 && data.size() >= maxSize) ? -1 : 0;
    const qsizetype len = static_cast<const char *>(rs) - data.data();
    if (maxSize > 0 && len + 1 > maxSize)
        return -1;
    return len + 1;
}

ProtocolError tooLargeHandshake(qsizetype maxSize)
{
    return ProtocolError {ProtocolErrorCode::MessageTooLarge,
                          u"The handshake exceeds the maximum message size of %1B."_s.arg(maxSize)};
}
} // namespace

QByteArray writeRequest(const HandshakeRequest &request)
{
    QByteArray out;
    out.reserve(48);
    out.append("{\"protocol\":");
    Json::writeString(request.protocol, out);
    out.append(",\"version\":");
    out.append(QByteArray::number(request.version));
    out.append('}');
    out.append(RecordSeparator);
    return out;
}

QByteArray writeResponse(const HandshakeResponse &response)
{
    if (response.error.isEmpty())
        return QByteArrayLiteral("{}\x1e");
    QByteArray out("{\"error\":");
    Json::writeString(response.error, out);
    out.append('}');
    out.append(RecordSeparator);
    return out;
}

Expected<qsizetype> parseRequest(QByteArrayView data, HandshakeRequest &out, qsizetype maxSize)
{
    const qsizetype end = findTerminator(data, maxSize);
    if (end < 0)
        return tooLargeHandshake(maxSize);
    if (end == 0)
        return qsizetype(0);
    Json::Reader r(data.first(end - 1), 8);
    if (!r.beginObject())
        return invalidData(u"Unexpected JSON Token Type '%1'. Expected a JSON Object."_s.arg(
            QLatin1StringView(r.tokenTypeName())));
    bool hasProtocol = false, hasVersion = false, done = false;
    QByteArray key;
    while (true) {
        if (!r.nextKey(key, done))
            return invalidData(r.error());
        if (done)
            break;
        if (key == "protocol") {
            if (r.peek() != '"')
                return invalidData(u"Expected 'protocol' to be of type String."_s);
            if (!r.readString(out.protocol))
                return invalidData(r.error());
            hasProtocol = true;
        } else if (key == "version") {
            Value v;
            const char c = r.peek();
            if ((c != '-' && (c < '0' || c > '9')) || !r.readValue(v, 1) || !v.isInteger()
                || v.toInteger() < std::numeric_limits<int>::min()
                || v.toInteger() > std::numeric_limits<int>::max())
                return invalidData(u"Expected 'version' to be of type Number."_s);
            out.version = int(v.toInteger());
            hasVersion = true;
        } else if (!r.skipValue(1)) {
            return invalidData(r.error());
        }
    }
    if (!r.atEnd())
        return invalidData(u"Unexpected data after the handshake request."_s);
    if (!hasProtocol)
        return invalidData(u"Missing required property 'protocol'."_s);
    if (!hasVersion)
        return invalidData(u"Missing required property 'version'."_s);
    return end;
}

Expected<qsizetype> parseResponse(QByteArrayView data, HandshakeResponse &out, qsizetype maxSize)
{
    const qsizetype end = findTerminator(data, maxSize);
    if (end < 0)
        return tooLargeHandshake(maxSize);
    if (end == 0)
        return qsizetype(0);
    Json::Reader r(data.first(end - 1), 8);
    if (!r.beginObject())
        return invalidData(u"Unexpected JSON Token Type '%1'. Expected a JSON Object."_s.arg(
            QLatin1StringView(r.tokenTypeName())));
    bool done = false;
    QByteArray key;
    out.error.clear();
    while (true) {
        if (!r.nextKey(key, done))
            return invalidData(r.error());
        if (done)
            break;
        if (key == "type") {
            return invalidData(u"Expected a handshake response from the server."_s);
        } else if (key == "error") {
            if (r.peek() != '"')
                return invalidData(u"Expected 'error' to be of type String."_s);
            if (!r.readString(out.error))
                return invalidData(r.error());
        } else if (!r.skipValue(1)) {
            return invalidData(r.error());
        }
    }
    if (!r.atEnd())
        return invalidData(u"Unexpected data after the handshake response."_s);
    return end;
}

Expected<const HubProtocol *> resolve(const HandshakeRequest &request,
                                      TransferFormat transportFormats,
                                      const QList<const HubProtocol *> &enabled)
{
    const HubProtocol *protocol = nullptr;
    if (enabled.isEmpty()) {
        protocol = HubProtocol::find(request.protocol);
    } else {
        for (const HubProtocol *p : enabled) {
            if (p->name().compare(request.protocol, Qt::CaseInsensitive) == 0) {
                protocol = p;
                break;
            }
        }
    }
    if (!protocol)
        return ProtocolError {
            ProtocolErrorCode::UnsupportedProtocol,
            u"The protocol '%1' is not supported."_s.arg(QString::fromUtf8(request.protocol))};
    if (request.version > protocol->version() || request.version < 0)
        return ProtocolError {
            ProtocolErrorCode::UnsupportedVersion,
            u"The server does not support version %1 of the '%2' protocol."_s.arg(request.version)
                .arg(QString::fromUtf8(request.protocol))};
    if (!supports(transportFormats, protocol->transferFormat()))
        return ProtocolError {
            ProtocolErrorCode::UnsupportedTransferFormat,
            u"Cannot use the '%1' protocol on the current transport. The transport does not "
            "support '%2' transfer format."_s.arg(
                QString::fromUtf8(request.protocol),
                protocol->transferFormat() == TransferFormat::Text ? u"Text"_s : u"Binary"_s)};
    return protocol;
}

} // namespace Handshake
} // namespace Protocol
} // namespace Heliograph
