// SPDX-License-Identifier: MIT
// A MessagePack subset for the backplane's four shapes: arrays, maps, str, bin, integers, nil.
// The writer picks the smallest form as MessagePack-CSharp does (so our bytes equal ASP.NET's);
// the reader takes any width.
#include "cluster/backplaneprotocol.h"

#include <QtCore/QtEndian>

#include <limits>
#include <optional>

using namespace Qt::StringLiterals;

namespace Heliograph::Server::Backplane {

namespace {

// --- writing ---------------------------------------------------------------------------------

void putBigEndian(QByteArray &out, quint64 v, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i)
        out.append(char((v >> (8 * i)) & 0xff));
}

/// An array's or a map's codes: the fix form (count in the low four bits), then 16 and 32 bits.
struct Container {
    quint8 fix;
    quint8 wide16;
    quint8 wide32;
    const char *name; ///< for errors: "an array", "a map"
};
constexpr Container Array {0x90, 0xdc, 0xdd, "an array"};
constexpr Container Map {0x80, 0xde, 0xdf, "a map"};

void writeHeader(QByteArray &out, const Container &c, quint32 n)
{
    if (n <= 15) {
        out.append(char(c.fix | n));
    } else if (n <= 0xffff) {
        out.append(char(c.wide16));
        putBigEndian(out, n, 2);
    } else {
        out.append(char(c.wide32));
        putBigEndian(out, n, 4);
    }
}

void writeString(QByteArray &out, QByteArrayView s)
{
    const auto n = quint64(s.size());
    if (n <= 31) {
        out.append(char(0xa0 | n));
    } else if (n <= 0xff) {
        out.append(char(0xd9));
        putBigEndian(out, n, 1);
    } else if (n <= 0xffff) {
        out.append(char(0xda));
        putBigEndian(out, n, 2);
    } else {
        out.append(char(0xdb));
        putBigEndian(out, n, 4);
    }
    out.append(s.data(), s.size());
}

void writeBinary(QByteArray &out, QByteArrayView b)
{
    const auto n = quint64(b.size());
    if (n <= 0xff) {
        out.append(char(0xc4));
        putBigEndian(out, n, 1);
    } else if (n <= 0xffff) {
        out.append(char(0xc5));
        putBigEndian(out, n, 2);
    } else {
        out.append(char(0xc6));
        putBigEndian(out, n, 4);
    }
    out.append(b.data(), b.size());
}

void writeInt(QByteArray &out, qint64 v)
{
    if (v >= 0) {
        if (v <= 0x7f) {
            out.append(char(v));
        } else if (v <= 0xff) {
            out.append(char(0xcc));
            putBigEndian(out, quint64(v), 1);
        } else if (v <= 0xffff) {
            out.append(char(0xcd));
            putBigEndian(out, quint64(v), 2);
        } else if (v <= 0xffffffffLL) {
            out.append(char(0xce));
            putBigEndian(out, quint64(v), 4);
        } else {
            out.append(char(0xcf));
            putBigEndian(out, quint64(v), 8);
        }
        return;
    }
    if (v >= -32) {
        out.append(char(v));
    } else if (v >= -128) {
        out.append(char(0xd0));
        putBigEndian(out, quint64(v), 1);
    } else if (v >= -32768) {
        out.append(char(0xd1));
        putBigEndian(out, quint64(v), 2);
    } else if (v >= std::numeric_limits<qint32>::min()) {
        out.append(char(0xd2));
        putBigEndian(out, quint64(v), 4);
    } else {
        out.append(char(0xd3));
        putBigEndian(out, quint64(v), 8);
    }
}

// --- reading ---------------------------------------------------------------------------------

/// A cursor over one message. Every read checks the bounds; the first failure sticks.
class Reader {
public:
    explicit Reader(QByteArrayView data)
        : m_data(data)
    { }

    bool failed() const noexcept { return m_failed; }
    QString error() const { return m_error; }

    /// An array's or a map's header: its item count.
    std::optional<quint32> header(const Container &c)
    {
        const auto b = byte();
        if (!b)
            return std::nullopt;
        if ((*b & 0xf0) == c.fix)
            return *b & 0x0f;
        if (*b == c.wide16)
            return unsignedBytes(2);
        if (*b == c.wide32)
            return unsignedBytes(4);
        return unexpected(c.name, *b);
    }
    /// A str, bin or nil (empty), as .NET's ReadString/ReadBytes accept.
    std::optional<QByteArray> bytes()
    {
        const auto b = byte();
        if (!b)
            return std::nullopt;
        std::optional<quint32> n;
        if ((*b & 0xe0) == 0xa0)
            n = *b & 0x1f;
        else if (*b == 0xd9 || *b == 0xc4)
            n = unsignedBytes(1);
        else if (*b == 0xda || *b == 0xc5)
            n = unsignedBytes(2);
        else if (*b == 0xdb || *b == 0xc6)
            n = unsignedBytes(4);
        else if (*b == 0xc0)
            return QByteArray();
        else
            return unexpected("a string", *b);
        if (!n)
            return std::nullopt;
        if (qsizetype(*n) > m_data.size() - m_pos)
            return fail(u"Unexpected end of the message."_s);
        QByteArray out(m_data.data() + m_pos, qsizetype(*n));
        m_pos += qsizetype(*n);
        return out;
    }
    /// Any integer that fits in a qint64.
    std::optional<qint64> integer()
    {
        const auto b = byte();
        if (!b)
            return std::nullopt;
        if (*b <= 0x7f)
            return *b;
        if (*b >= 0xe0)
            return qint64(qint8(*b));
        auto sized = [this](int bytes, bool isSigned) -> std::optional<qint64> {
            const auto u = unsignedBytes64(bytes);
            if (!u)
                return std::nullopt;
            if (!isSigned) {
                if (*u > quint64(std::numeric_limits<qint64>::max()))
                    return fail(u"The integer does not fit."_s);
                return qint64(*u);
            }
            const int shift = 64 - 8 * bytes; // sign-extend
            return qint64(*u << shift) >> shift;
        };
        switch (*b) {
        case 0xcc:
            return sized(1, false);
        case 0xcd:
            return sized(2, false);
        case 0xce:
            return sized(4, false);
        case 0xcf:
            return sized(8, false);
        case 0xd0:
            return sized(1, true);
        case 0xd1:
            return sized(2, true);
        case 0xd2:
            return sized(4, true);
        case 0xd3:
            return sized(8, true);
        default:
            return unexpected("an integer", *b);
        }
    }
    std::optional<qint32> int32()
    {
        const auto v = integer();
        if (!v)
            return std::nullopt;
        if (*v < std::numeric_limits<qint32>::min() || *v > std::numeric_limits<qint32>::max())
            return fail(u"The integer does not fit in 32 bits."_s);
        return qint32(*v);
    }

    /// "Expected a map, got the MessagePack code 0xa3."
    std::nullopt_t unexpected(const char *what, quint8 code)
    {
        return fail(u"Expected %1, got the MessagePack code 0x%2."_s.arg(
            QLatin1StringView(what), QString::number(code, 16).rightJustified(2, u'0')));
    }
    std::nullopt_t fail(const QString &why)
    {
        if (!m_failed) {
            m_failed = true;
            m_error = why;
        }
        return std::nullopt;
    }

private:
    std::optional<quint8> byte()
    {
        if (m_failed)
            return std::nullopt;
        if (m_pos >= m_data.size())
            return fail(u"Unexpected end of the message."_s);
        return quint8(m_data[m_pos++]);
    }
    std::optional<quint64> unsignedBytes64(int n)
    {
        if (m_failed)
            return std::nullopt;
        if (n > m_data.size() - m_pos)
            return fail(u"Unexpected end of the message."_s);
        quint64 v = 0;
        for (int i = 0; i < n; ++i)
            v = (v << 8) | quint8(m_data[m_pos++]);
        return v;
    }
    std::optional<quint32> unsignedBytes(int n)
    {
        const auto v = unsignedBytes64(n);
        if (!v)
            return std::nullopt;
        return quint32(*v);
    }

    QByteArrayView m_data;
    qsizetype m_pos = 0;
    bool m_failed = false;
    QString m_error;
};

ProtocolError readError(const Reader &r)
{
    return invalidData(r.error());
}

} // namespace

const QByteArray *Invocation::payloadFor(QByteArrayView protocol) const noexcept
{
    for (const auto &[name, bytes] : payloads)
        if (name == protocol)
            return &bytes;
    return nullptr;
}

QByteArray write(const Invocation &m)
{
    QByteArray out;
    qsizetype size = 16 + m.invocationId.size() + m.returnChannel.size();
    for (const QByteArray &id : m.excluded)
        size += id.size() + 5;
    for (const auto &[name, bytes] : m.payloads)
        size += name.size() + bytes.size() + 10;
    out.reserve(size);
    const bool call = !m.invocationId.isEmpty();
    writeHeader(out, Array, call ? 4 : 2);
    writeHeader(out, Array, quint32(m.excluded.size()));
    for (const QByteArray &id : m.excluded)
        writeString(out, id);
    writeHeader(out, Map, quint32(m.payloads.size()));
    for (const auto &[name, bytes] : m.payloads) {
        writeString(out, name);
        writeBinary(out, bytes);
    }
    if (call) {
        writeString(out, m.invocationId);
        writeString(out, m.returnChannel);
    }
    return out;
}

QByteArray write(const GroupCommand &m)
{
    QByteArray out;
    out.reserve(16 + m.serverName.size() + m.group.size() + m.connectionId.size());
    writeHeader(out, Array, 5);
    writeInt(out, m.id);
    writeString(out, m.serverName);
    writeInt(out, m.action);
    writeString(out, m.group);
    writeString(out, m.connectionId);
    return out;
}

QByteArray write(const Ack &m)
{
    QByteArray out;
    writeHeader(out, Array, 1);
    writeInt(out, m.id);
    return out;
}

QByteArray write(const Completion &m)
{
    QByteArray out;
    out.reserve(16 + m.protocol.size() + m.completion.size());
    writeHeader(out, Array, 2);
    writeString(out, m.protocol);
    writeBinary(out, m.completion);
    return out;
}

Expected<Invocation> readInvocation(QByteArrayView data)
{
    Reader r(data);
    const auto items = r.header(Array);
    if (!items)
        return readError(r);
    if (*items < 2)
        return invalidData(u"Insufficient items in Invocation array."_s);
    Invocation m;
    const auto excluded = r.header(Array);
    if (!excluded)
        return readError(r);
    for (quint32 i = 0; i < *excluded; ++i) {
        auto id = r.bytes();
        if (!id)
            return readError(r);
        m.excluded.append(std::move(*id));
    }
    const auto protocols = r.header(Map);
    if (!protocols)
        return readError(r);
    for (quint32 i = 0; i < *protocols; ++i) {
        auto name = r.bytes();
        auto bytes = name ? r.bytes() : std::nullopt;
        if (!bytes)
            return readError(r);
        m.payloads.append({std::move(*name), std::move(*bytes)});
    }
    if (*items > 3) {
        auto id = r.bytes();
        auto channel = id ? r.bytes() : std::nullopt;
        if (!channel)
            return readError(r);
        m.invocationId = std::move(*id);
        m.returnChannel = std::move(*channel);
    }
    return m;
}

Expected<GroupCommand> readGroupCommand(QByteArrayView data)
{
    Reader r(data);
    const auto items = r.header(Array);
    if (!items)
        return readError(r);
    if (*items < 5)
        return invalidData(u"Insufficient items in GroupCommand array."_s);
    GroupCommand m;
    const auto id = r.int32();
    auto server = id ? r.bytes() : std::nullopt;
    const auto action = server ? r.integer() : std::nullopt;
    if (!action)
        return readError(r);
    if (*action < 0 || *action > 255)
        return invalidData(u"The group action does not fit in a byte."_s);
    auto group = r.bytes();
    auto connection = group ? r.bytes() : std::nullopt;
    if (!connection)
        return readError(r);
    m.id = *id;
    m.serverName = std::move(*server);
    m.action = quint8(*action);
    m.group = std::move(*group);
    m.connectionId = std::move(*connection);
    return m;
}

Expected<Ack> readAck(QByteArrayView data)
{
    Reader r(data);
    const auto items = r.header(Array);
    if (!items)
        return readError(r);
    if (*items < 1)
        return invalidData(u"Insufficient items in Ack array."_s);
    const auto id = r.int32();
    if (!id)
        return readError(r);
    return Ack {*id};
}

Expected<Completion> readCompletion(QByteArrayView data)
{
    Reader r(data);
    const auto items = r.header(Array);
    if (!items)
        return readError(r);
    if (*items < 2)
        return invalidData(u"Insufficient items in CompletionMessage array."_s);
    auto protocol = r.bytes();
    auto completion = protocol ? r.bytes() : std::nullopt;
    if (!completion)
        return readError(r);
    return Completion {std::move(*protocol), std::move(*completion)};
}

} // namespace Heliograph::Server::Backplane
