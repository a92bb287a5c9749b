// SPDX-License-Identifier: MIT
#include "json_p.h"

#include <heliograph/protocol/hubside.h>

#include <QtCore/QRandomGenerator>

#include <charconv>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {

bool AvailableTransport::supports(TransferFormat f) const
{
    const QByteArrayView name = f == TransferFormat::Text ? "Text" : "Binary";
    for (const QByteArray &t : transferFormats)
        if (t == name)
            return true;
    return false;
}

QByteArray NegotiateResponse::toJson() const
{
    QByteArray out;
    out.reserve(320);
    if (error) {
        out.append("{\"error\":");
        Json::writeString(error->toUtf8(), out);
        out.append('}');
        return out;
    }
    out.append('{');
    if (useStatefulReconnect)
        out.append("\"useStatefulReconnect\":true,");
    out.append("\"negotiateVersion\":");
    out.append(QByteArray::number(negotiateVersion));
    if (!url.isEmpty()) {
        out.append(",\"url\":");
        Json::writeString(url, out);
        if (!accessToken.isEmpty()) {
            out.append(",\"accessToken\":");
            Json::writeString(accessToken, out);
        }
    }
    if (!connectionId.isEmpty() || url.isEmpty()) {
        out.append(",\"connectionId\":");
        Json::writeString(connectionId, out);
    }
    if (negotiateVersion > 0 && (!connectionToken.isEmpty() || url.isEmpty())) {
        out.append(",\"connectionToken\":");
        Json::writeString(connectionToken, out);
    }
    if (url.isEmpty() || !availableTransports.isEmpty()) {
        out.append(",\"availableTransports\":[");
        bool first = true;
        for (const AvailableTransport &t : availableTransports) {
            if (!first)
                out.append(',');
            first = false;
            out.append("{\"transport\":");
            Json::writeString(t.transport, out);
            out.append(",\"transferFormats\":[");
            bool firstFormat = true;
            for (const QByteArray &f : t.transferFormats) {
                if (!firstFormat)
                    out.append(',');
                firstFormat = false;
                Json::writeString(f, out);
            }
            out.append("]}");
        }
        out.append(']');
    }
    out.append('}');
    return out;
}

namespace {
ProtocolError negotiateError(QString message)
{
    return ProtocolError {ProtocolErrorCode::NegotiateFailed, std::move(message)};
}

bool readStringField(const Value &v, QByteArray &out)
{
    if (v.isNull())
        return true;
    if (!v.isString())
        return false;
    out = v.bytes();
    return true;
}
} // namespace

Expected<NegotiateResponse> NegotiateResponse::fromJson(QByteArrayView json)
{
    Json::Reader r(json, 16);
    Value doc;
    if (r.peek() != '{')
        return negotiateError(u"Invalid negotiation response received: expected a JSON object."_s);
    if (!r.readValue(doc) || !r.atEnd())
        return negotiateError(u"Invalid negotiation response received: %1"_s.arg(
            r.error().isEmpty() ? u"trailing data."_s : r.error()));

    NegotiateResponse resp;
    bool hasConnectionId = false, hasToken = false, hasTransports = false;
    for (const MapEntry &e : doc.map()) {
        const QByteArrayView key = e.key.utf8();
        const Value &v = e.value;
        auto bad = [&](const char *type) {
            return negotiateError(u"Invalid negotiation response received: '%1' must be %2."_s.arg(
                QString::fromUtf8(key), QLatin1StringView(type)));
        };
        if (key == "ProtocolVersion") {
            return negotiateError(
                u"Detected a connection attempt to an ASP.NET SignalR Server. This client only "
                "supports connecting to an ASP.NET Core SignalR Server. See "
                "https://aka.ms/signalr-core-differences for details."_s);
        } else if (key == "error") {
            if (!v.isString())
                return bad("a string");
            resp.error = v.toString();
        } else if (key == "negotiateVersion") {
            bool ok = false;
            const qint64 n = v.toInteger(&ok);
            if (!ok || n < 0 || n > std::numeric_limits<int>::max())
                return bad("an integer");
            resp.negotiateVersion = int(n);
        } else if (key == "url") {
            if (!readStringField(v, resp.url))
                return bad("a string");
        } else if (key == "accessToken") {
            if (!readStringField(v, resp.accessToken))
                return bad("a string");
        } else if (key == "connectionId") {
            if (!readStringField(v, resp.connectionId))
                return bad("a string");
            hasConnectionId = v.isString();
        } else if (key == "connectionToken") {
            if (!readStringField(v, resp.connectionToken))
                return bad("a string");
            hasToken = v.isString();
        } else if (key == "useStatefulReconnect") {
            if (!v.isBool())
                return bad("a boolean");
            resp.useStatefulReconnect = v.toBool();
        } else if (key == "availableTransports") {
            if (!v.isArray())
                return bad("an array");
            hasTransports = true;
            for (const Value &t : v.array()) {
                const Value *name = t.find("transport");
                const Value *formats = t.find("transferFormats");
                if (!name || !name->isString() || !formats || !formats->isArray())
                    return negotiateError(
                        u"Invalid negotiation response received: every transport needs "
                        "'transport' and 'transferFormats'."_s);
                AvailableTransport at {name->bytes(), {}};
                for (const Value &f : formats->array()) {
                    if (!f.isString())
                        return bad("an array of strings");
                    at.transferFormats.append(f.bytes());
                }
                resp.availableTransports.append(std::move(at));
            }
        }
    }
    // Keep only what applies to this kind of response (and what toJson() writes for it), so a
    // parsed response round-trips: an error response is just its error, an access token comes
    // with a redirect url, a connection token with negotiate version 1+ (v0 uses the id).
    if (resp.error)
        return failure(*resp.error);
    if (resp.url.isEmpty())
        resp.accessToken.clear();
    if (resp.negotiateVersion == 0)
        resp.connectionToken.clear();
    if (!resp.url.isEmpty())
        return resp;
    if (!hasConnectionId)
        return negotiateError(u"Invalid negotiation response received: missing 'connectionId'."_s);
    if (resp.negotiateVersion > 0 && !hasToken)
        return negotiateError(
            u"Invalid negotiation response received: missing 'connectionToken'."_s);
    if (!hasTransports)
        return negotiateError(
            u"Invalid negotiation response received: missing 'availableTransports'."_s);
    return resp;
}

namespace Negotiate {

Expected<int> selectVersion(std::optional<QByteArrayView> requested, int minimumVersion)
{
    int version = 0;
    if (requested) {
        const QByteArrayView s = *requested;
        long long v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.isEmpty() || r.ec != std::errc() || r.ptr != s.data() + s.size()
            || v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min())
            return ProtocolError {ProtocolErrorCode::UnsupportedVersion,
                                  u"The client requested a non-integer protocol version."_s};
        version = int(v);
    }
    if (version < minimumVersion)
        return ProtocolError {ProtocolErrorCode::UnsupportedVersion,
                              u"The client requested version '%1', but the server does not "
                              "support this version."_s.arg(version)};
    return qMin(version, MaxVersion);
}

QByteArray newConnectionId()
{
    quint32 raw[4];
    QRandomGenerator::system()->fillRange(raw);
    return QByteArray(reinterpret_cast<const char *>(raw), sizeof raw)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

} // namespace Negotiate

} // namespace Protocol
} // namespace Heliograph
