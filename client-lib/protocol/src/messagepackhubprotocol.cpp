// SPDX-License-Identifier: MIT
// The MessagePack hub protocol: VarInt length prefix + one MessagePack array per message.
// Encoding goes through msgpack-cxx's packer; values are decoded with msgpack-cxx's visitor
// parser straight into Value; the envelope is read field by field, like the .NET reader, so
// errors name the field that failed.
#include "protocols_p.h"
#include "text_p.h"

#include <QtCore/QtEndian>

#include <msgpack.hpp>

#include <cstring>
#include <memory>
#include <vector>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {

namespace {

/// The packer's output. It buffers the packer's many small writes (1-9 bytes per token) and
/// appends them in chunks: QByteArray::append is an out-of-line general insert, and calling it
/// per token took ~60% of the encoding time.
class Sink {
public:
    explicit Sink(QByteArray *out)
        : m_out(out)
    { }
    ~Sink() { flush(); }
    Q_DISABLE_COPY_MOVE(Sink)

    Q_ALWAYS_INLINE void write(const char *data, size_t n)
    {
        if (n > sizeof(m_buffer) - m_used && !makeRoom(data, n))
            return;
        char *dst = m_buffer + m_used;
        // Tokens are 1-9 bytes: copy short runs with fixed-size (inlined) overlapping copies
        // instead of a memcpy call each.
        if (n >= 8 && n <= 16) {
            std::memcpy(dst, data, 8);
            std::memcpy(dst + n - 8, data + n - 8, 8);
        } else if (n >= 4 && n < 8) {
            std::memcpy(dst, data, 4);
            std::memcpy(dst + n - 4, data + n - 4, 4);
        } else if (n > 0 && n < 4) {
            dst[0] = data[0];
            dst[n / 2] = data[n / 2];
            dst[n - 1] = data[n - 1];
        } else {
            std::memcpy(dst, data, n);
        }
        m_used += n;
    }
    void flush()
    {
        if (m_used == 0)
            return;
        m_out->append(m_buffer, qsizetype(m_used));
        m_used = 0;
        m_appended = true;
    }
    /// Flushes; returns false if it appended `data` itself (too large to buffer).
    Q_NEVER_INLINE bool makeRoom(const char *data, size_t n)
    {
        flush();
        if (n < sizeof(m_buffer))
            return true;
        m_out->append(data, qsizetype(n));
        m_appended = true;
        return false;
    }
    /// True while everything written is still in the buffer (nothing appended yet).
    bool allBuffered() const noexcept { return !m_appended; }
    qsizetype buffered() const noexcept { return qsizetype(m_used); }

private:
    QByteArray *m_out;
    size_t m_used = 0;
    bool m_appended = false;
    char m_buffer[4096]; // messages up to this size are framed without moving their body
};
using Packer = msgpack::packer<Sink>;

void packFloat32(Packer &pk, float f)
{
    quint32 bits;
    std::memcpy(&bits, &f, 4);
    char buf[5] = {char(0xca)};
    qToBigEndian(bits, buf + 1);
    pk.pack_str_body(buf, 5); // raw bytes
}

void packFloat64(Packer &pk, double d)
{
    quint64 bits;
    std::memcpy(&bits, &d, 8);
    char buf[9] = {char(0xcb)};
    qToBigEndian(bits, buf + 1);
    pk.pack_str_body(buf, 9); // raw bytes
}

void packString(Packer &pk, const QByteArray &s)
{
    pk.pack_str(quint32(s.size()));
    pk.pack_str_body(s.constData(), quint32(s.size()));
}

/// A struct map's key in PascalCase: the first letter capitalised (member names are ASCII).
void packPascalKey(Packer &pk, const QByteArray &s)
{
    if (s.isEmpty() || s[0] < 'a' || s[0] > 'z') {
        packString(pk, s);
        return;
    }
    const char first = char(s[0] - 'a' + 'A');
    pk.pack_str(quint32(s.size()));
    pk.pack_str_body(&first, 1);
    pk.pack_str_body(s.constData() + 1, quint32(s.size() - 1));
}

void packValue(Packer &pk, const Value &v, StructKeyCase keyCase)
{
    switch (v.type()) {
    case Value::Type::Null:
        pk.pack_nil();
        return;
    case Value::Type::Bool:
        if (v.toBool())
            pk.pack_true();
        else
            pk.pack_false();
        return;
    case Value::Type::Integer:
        pk.pack_int64(v.toInteger());
        return;
    case Value::Type::UnsignedInteger:
        pk.pack_uint64(v.toUnsignedInteger());
        return;
    case Value::Type::Double:
        // Written by hand: msgpack-cxx's pack_double/pack_float turn integral values into
        // integers, which would make 39.0 read back as the integer 39.
        if (v.isSinglePrecision())
            packFloat32(pk, static_cast<float>(v.toDouble()));
        else
            packFloat64(pk, v.toDouble());
        return;
    case Value::Type::String:
        pk.pack_str(quint32(v.bytes().size()));
        pk.pack_str_body(v.bytes().constData(), quint32(v.bytes().size()));
        return;
    case Value::Type::Binary:
        pk.pack_bin(quint32(v.bytes().size()));
        pk.pack_bin_body(v.bytes().constData(), quint32(v.bytes().size()));
        return;
    case Value::Type::Extension:
        pk.pack_ext(size_t(v.bytes().size()), v.extensionType());
        pk.pack_ext_body(v.bytes().constData(), quint32(v.bytes().size()));
        return;
    case Value::Type::Timestamp: {
        qint64 s;
        quint32 ns;
        v.toTimestamp(&s, &ns);
        char buf[12];
        if (ns == 0 && s >= 0 && s <= 0xFFFFFFFFLL) {
            const quint32 be = qToBigEndian(quint32(s));
            std::memcpy(buf, &be, 4);
            pk.pack_ext(4, -1);
            pk.pack_ext_body(buf, 4);
        } else if (s >= 0 && s < (1LL << 34)) {
            const quint64 be = qToBigEndian((quint64(ns) << 34) | quint64(s));
            std::memcpy(buf, &be, 8);
            pk.pack_ext(8, -1);
            pk.pack_ext_body(buf, 8);
        } else {
            const quint32 nsBe = qToBigEndian(ns);
            const qint64 sBe = qToBigEndian(s);
            std::memcpy(buf, &nsBe, 4);
            std::memcpy(buf + 4, &sBe, 8);
            pk.pack_ext(12, -1);
            pk.pack_ext_body(buf, 12);
        }
        return;
    }
    case Value::Type::Array:
        pk.pack_array(quint32(v.array().size()));
        for (const Value &e : v.array())
            packValue(pk, e, keyCase);
        return;
    case Value::Type::Map: {
        // Only a struct's member names change case; the keys of user data never do.
        const bool pascal = keyCase == StructKeyCase::PascalCase && v.isStructMap();
        pk.pack_map(quint32(v.map().size()));
        for (const MapEntry &e : v.map()) {
            if (pascal && e.key.isString())
                packPascalKey(pk, e.key.bytes());
            else
                packValue(pk, e.key, keyCase);
            packValue(pk, e.value, keyCase);
        }
        return;
    }
    }
}

void packIdOrNil(Packer &pk, const QByteArray &id)
{
    if (id.isEmpty())
        pk.pack_nil();
    else
        packString(pk, id);
}

void packHeaders(Packer &pk, const Headers &headers)
{
    pk.pack_map(quint32(headers.size()));
    for (const auto &[k, v] : headers) {
        packString(pk, k);
        packString(pk, v);
    }
}

template<typename Inv>
void packInvocation(Packer &pk, int type, const Inv &m, StructKeyCase keyCase)
{
    pk.pack_array(6);
    pk.pack_int(type);
    packHeaders(pk, m.headers);
    packIdOrNil(pk, m.invocationId);
    packString(pk, m.target);
    pk.pack_array(quint32(m.arguments.size()));
    for (const Value &a : m.arguments)
        packValue(pk, a, keyCase);
    pk.pack_array(quint32(m.streamIds.size()));
    for (const QByteArray &s : m.streamIds)
        packString(pk, s);
}

// --- decoding values: msgpack-cxx visitor building Values ----------------------------------

class ValueBuilder {
public:
    explicit ValueBuilder(qsizetype available)
        : m_available(available)
    { }

    bool visit_nil() { return emit(Value()); }
    bool visit_boolean(bool v) { return emit(Value(v)); }
    bool visit_positive_integer(uint64_t v) { return emit(Value(quint64(v))); }
    bool visit_negative_integer(int64_t v) { return emit(Value(qint64(v))); }
    bool visit_float32(float v) { return emit(Value::fromFloat(v)); }
    bool visit_float64(double v) { return emit(Value(v)); }
    bool visit_str(const char *v, uint32_t size)
    {
        // The keys of the objects in a list repeat: share the bytes of a key already seen in
        // this value instead of allocating and validating them again.
        QByteArray *slot = nullptr;
        const size_t depth = m_stack.size();
        if (size > 0 && size <= MaxSharedKey && depth >= 2 && m_stack[depth - 1].isMap
            && !m_stack[depth - 1].haveKey && !m_stack[depth - 2].isMap) {
            // A direct-mapped cache: one candidate per key.
            if (!m_keys)
                m_keys = std::make_unique<QByteArray[]>(KeySlots);
            slot = &m_keys[(size * 7 + quint8(v[0]) + quint8(v[size - 1])) % KeySlots];
            if (slot->size() == qsizetype(size) && std::memcmp(slot->constData(), v, size) == 0)
                return emit(Value::fromUtf8(*slot));
        }
        if (!Text::isValidUtf8(v, size))
            return failWith(u"Invalid UTF-8 in MessagePack string."_s);
        QByteArray bytes(v, size);
        if (slot)
            *slot = bytes;
        return emit(Value::fromUtf8(std::move(bytes)));
    }
    bool visit_bin(const char *v, uint32_t size)
    {
        return emit(Value::fromBinary(QByteArray(v, size)));
    }
    bool visit_ext(const char *v, uint32_t size)
    {
        if (size < 1)
            return failWith(u"Invalid MessagePack extension."_s);
        const auto type = static_cast<qint8>(v[0]);
        const char *d = v + 1;
        const uint32_t n = size - 1;
        if (type != -1)
            return emit(Value::fromExtension(type, QByteArray(d, n)));
        if (n == 4) {
            quint32 s;
            std::memcpy(&s, d, 4);
            return emit(Value::fromTimestamp(qFromBigEndian(s), 0));
        }
        if (n == 8) {
            quint64 x;
            std::memcpy(&x, d, 8);
            x = qFromBigEndian(x);
            const quint32 ns = quint32(x >> 34);
            if (ns > 999999999u)
                return failWith(u"Invalid MessagePack timestamp."_s);
            return emit(Value::fromTimestamp(qint64(x & ((1ULL << 34) - 1)), ns));
        }
        if (n == 12) {
            quint32 ns;
            qint64 s;
            std::memcpy(&ns, d, 4);
            std::memcpy(&s, d + 4, 8);
            ns = qFromBigEndian(ns);
            if (ns > 999999999u)
                return failWith(u"Invalid MessagePack timestamp."_s);
            return emit(Value::fromTimestamp(qFromBigEndian(s), ns));
        }
        return failWith(u"Invalid MessagePack timestamp length %1."_s.arg(n));
    }
    bool start_array(uint32_t n)
    {
        if (m_stack.size() >= size_t(HubProtocol::MaxDepth))
            return failWith(
                u"The maximum nesting depth of %1 was exceeded."_s.arg(HubProtocol::MaxDepth));
        Frame f;
        f.value = Value(ValueList());
        // Never trust a declared count for allocation: each element takes at least a byte,
        // so all reservations together never exceed the input size (nested containers would
        // otherwise each reserve the whole input: a ~64 * 56x memory amplification).
        const qsizetype reserve = qMin<qsizetype>(n, m_available);
        m_available -= reserve;
        f.value.asArray().reserve(reserve);
        m_stack.push_back(std::move(f));
        return true;
    }
    bool start_array_item() { return true; }
    bool end_array_item() { return true; }
    bool end_array() { return pop(); }
    bool start_map(uint32_t n)
    {
        if (m_stack.size() >= size_t(HubProtocol::MaxDepth))
            return failWith(
                u"The maximum nesting depth of %1 was exceeded."_s.arg(HubProtocol::MaxDepth));
        Frame f;
        f.value = Value(ValueMap());
        const qsizetype reserve = qMin<qsizetype>(n, m_available / 2);
        m_available -= reserve * 2;
        f.value.asMap().reserve(reserve);
        f.isMap = true;
        m_stack.push_back(std::move(f));
        return true;
    }
    bool start_map_key() { return true; }
    bool end_map_key() { return true; }
    bool start_map_value() { return true; }
    bool end_map_value() { return true; }
    bool end_map() { return pop(); }
    void parse_error(size_t, size_t error_offset)
    {
        failWith(u"Invalid MessagePack data at offset %1."_s.arg(error_offset));
    }
    void insufficient_bytes(size_t, size_t) { failWith(u"Truncated MessagePack data."_s); }
    bool referenced() const { return false; }
    void set_referenced(bool) { }

    Value takeResult() { return std::move(m_result); }
    const QString &error() const { return m_error; }

private:
    struct Frame {
        Value value;
        Value key;
        bool isMap = false;
        bool haveKey = false;
    };

    bool failWith(QString message)
    {
        if (m_error.isEmpty())
            m_error = std::move(message);
        return false;
    }
    bool emit(Value v)
    {
        if (m_stack.empty()) {
            m_result = std::move(v);
            return true;
        }
        Frame &top = m_stack.back();
        if (!top.isMap) {
            top.value.asArray().append(std::move(v));
        } else if (!top.haveKey) {
            top.key = std::move(v);
            top.haveKey = true;
        } else {
            top.value.asMap().append({std::move(top.key), std::move(v)});
            top.key = Value();
            top.haveKey = false;
        }
        return true;
    }
    bool pop()
    {
        Value v = std::move(m_stack.back().value);
        m_stack.pop_back();
        return emit(std::move(v));
    }

    qsizetype m_available; ///< element budget for reservations (one byte per element)
    static constexpr uint32_t MaxSharedKey = 32; ///< longer keys are not looked up
    static constexpr uint32_t KeySlots = 16;
    std::unique_ptr<QByteArray[]> m_keys; ///< map keys seen, for sharing (made when needed)
    std::vector<Frame> m_stack;
    Value m_result;
    QString m_error;
};

// --- the envelope cursor ----------------------------------------------------------------------

class Cursor {
public:
    explicit Cursor(QByteArrayView data)
        : m_data(data)
    { }

    // Like MessagePack-CSharp, a declared count is rejected when the remaining bytes cannot hold
    // that many items (at least one byte each).
    bool readArrayHeader(quint32 &n)
    {
        return readArrayHeaderUnchecked(n) && qint64(n) <= m_data.size() - m_pos;
    }
    bool readMapHeader(quint32 &n)
    {
        return readMapHeaderUnchecked(n) && 2 * qint64(n) <= m_data.size() - m_pos;
    }
    bool readArrayHeaderUnchecked(quint32 &n)
    {
        const int c = byte();
        if (c < 0)
            return false;
        if ((c & 0xF0) == 0x90) {
            n = quint32(c & 0x0F);
            ++m_pos;
            return true;
        }
        if (c == 0xdc)
            return ++m_pos, bigEndian<quint16>(n);
        if (c == 0xdd)
            return ++m_pos, bigEndian<quint32>(n);
        return false;
    }
    bool readMapHeaderUnchecked(quint32 &n)
    {
        const int c = byte();
        if (c < 0)
            return false;
        if ((c & 0xF0) == 0x80) {
            n = quint32(c & 0x0F);
            ++m_pos;
            return true;
        }
        if (c == 0xde)
            return ++m_pos, bigEndian<quint16>(n);
        if (c == 0xdf)
            return ++m_pos, bigEndian<quint32>(n);
        return false;
    }
    bool readInteger(qint64 &out)
    {
        const int c = byte();
        if (c < 0)
            return false;
        if (c <= 0x7f || c >= 0xe0) { // positive / negative fixint
            out = c <= 0x7f ? c : c - 0x100;
            ++m_pos;
            return true;
        }
        const qsizetype save = m_pos++;
        bool ok = false;
        switch (c) {
        case 0xcc:
            ok = fixed<quint8>(out);
            break;
        case 0xcd:
            ok = fixed<quint16>(out);
            break;
        case 0xce:
            ok = fixed<quint32>(out);
            break;
        case 0xcf: {
            quint64 u = 0;
            ok = bigEndian<quint64>(u) && u <= quint64(std::numeric_limits<qint64>::max());
            out = qint64(u);
            break;
        }
        case 0xd0:
            ok = fixed<qint8>(out);
            break;
        case 0xd1:
            ok = fixed<qint16>(out);
            break;
        case 0xd2:
            ok = fixed<qint32>(out);
            break;
        case 0xd3:
            ok = fixed<qint64>(out);
            break;
        default:
            break;
        }
        if (!ok)
            m_pos = save;
        return ok;
    }
    bool readBool(bool &out)
    {
        const int c = byte();
        if (c != 0xc2 && c != 0xc3)
            return false;
        out = c == 0xc3;
        ++m_pos;
        return true;
    }
    bool isNil() const { return m_pos < m_data.size() && quint8(m_data[m_pos]) == 0xc0; }
    bool readNil()
    {
        if (!isNil())
            return false;
        ++m_pos;
        return true;
    }
    /// A string (nil reads as absent).
    bool readString(QByteArray &out, bool *wasNil = nullptr)
    {
        const int c = byte();
        if (c < 0)
            return false;
        if (c == 0xc0) {
            ++m_pos;
            out.clear();
            if (wasNil)
                *wasNil = true;
            return true;
        }
        quint32 n;
        const qsizetype save = m_pos;
        if ((c & 0xE0) == 0xA0) {
            n = quint32(c & 0x1F);
            ++m_pos;
        } else if (c == 0xd9) {
            ++m_pos;
            if (!bigEndian<quint8>(n))
                return m_pos = save, false;
        } else if (c == 0xda) {
            ++m_pos;
            if (!bigEndian<quint16>(n))
                return m_pos = save, false;
        } else if (c == 0xdb) {
            ++m_pos;
            if (!bigEndian<quint32>(n))
                return m_pos = save, false;
        } else {
            return false;
        }
        if (qsizetype(n) > m_data.size() - m_pos || !Text::isValidUtf8(m_data.data() + m_pos, n)) {
            m_pos = save;
            return false;
        }
        out = QByteArray(m_data.data() + m_pos, n);
        m_pos += n;
        if (wasNil)
            *wasNil = false;
        return true;
    }
    bool readValue(Value &out, QString &error)
    {
        return MsgPack::readValue(m_data, &m_pos, out, error);
    }

private:
    int byte() const { return m_pos < m_data.size() ? quint8(m_data[m_pos]) : -1; }
    template<typename T, typename Out> bool bigEndian(Out &out)
    {
        if (m_data.size() - m_pos < qsizetype(sizeof(T)))
            return false;
        T v;
        std::memcpy(&v, m_data.data() + m_pos, sizeof(T));
        // NOLINTNEXTLINE(bugprone-signed-char-misuse): int 8 (T = qint8) is signed, sign-extended
        out = static_cast<Out>(qFromBigEndian(v));
        m_pos += qsizetype(sizeof(T));
        return true;
    }
    template<typename T> bool fixed(qint64 &out) { return bigEndian<T>(out); }

    QByteArrayView m_data;
    qsizetype m_pos = 0;
};

ProtocolError err(QString message)
{
    return invalidData(std::move(message));
}

QString readFailed(QLatin1StringView field, QLatin1StringView as)
{
    return u"Reading '%1' as %2 failed."_s.arg(field, as);
}

bool readHeaders(Cursor &c, Headers &headers, QString &error)
{
    quint32 n;
    if (!c.readMapHeader(n)) {
        error = u"Reading map length for 'headers' failed."_s;
        return false;
    }
    headers.reserve(qMin<qsizetype>(n, 64));
    for (quint32 i = 0; i < n; ++i) {
        QByteArray k, v;
        bool kNil = false, vNil = false;
        if (!c.readString(k, &kNil)) {
            error = u"Reading 'headers[%1].Key' as String failed."_s.arg(i);
            return false;
        }
        if (!c.readString(v, &vNil)) {
            error = u"Reading 'headers[%1].Value' as String failed."_s.arg(i);
            return false;
        }
        if (kNil || k.isEmpty()) {
            error = u"Null or empty key in header."_s;
            return false;
        }
        if (vNil || v.isEmpty()) {
            error = u"Null or empty value in header."_s;
            return false;
        }
        headers.append({std::move(k), std::move(v)});
    }
    return true;
}

bool readArguments(Cursor &c, ValueList &args, QString &error)
{
    quint32 n;
    if (!c.readArrayHeader(n)) {
        error = u"Reading array length for 'arguments' failed."_s;
        return false;
    }
    args.reserve(qMin<qsizetype>(n, 256));
    for (quint32 i = 0; i < n; ++i) {
        Value v;
        if (!c.readValue(v, error))
            return false;
        args.append(std::move(v));
    }
    return true;
}

bool readStreamIds(Cursor &c, QList<QByteArray> &ids, QString &error)
{
    quint32 n;
    if (!c.readArrayHeader(n)) {
        error = u"Reading array length for 'streamIds' failed."_s;
        return false;
    }
    for (quint32 i = 0; i < n; ++i) {
        QByteArray id;
        bool nil = false;
        if (!c.readString(id, &nil) || nil) {
            error = readFailed("streamId"_L1, "String"_L1);
            return false;
        }
        ids.append(std::move(id));
    }
    return true;
}

template<typename Inv>
Expected<std::optional<HubMessage>> readInvocation(Cursor &c, quint32 count, bool streaming)
{
    Inv m;
    QString error;
    if (!readHeaders(c, m.headers, error))
        return err(error);
    if (!c.readString(m.invocationId))
        return err(readFailed("invocationId"_L1, "String"_L1));
    if (streaming && m.invocationId.isEmpty())
        return err(u"Null or empty invocation ID for StreamInvocation message."_s);
    bool nilTarget = false;
    if (!c.readString(m.target, &nilTarget))
        return err(readFailed("target"_L1, "String"_L1));
    if (m.target.isEmpty())
        return err(u"Null or empty target for %1 message."_s.arg(streaming ? "StreamInvocation"_L1
                                                                           : "Invocation"_L1));
    if (!readArguments(c, m.arguments, error))
        return err(error);
    if (count > 5 && !readStreamIds(c, m.streamIds, error))
        return err(error);
    return std::optional<HubMessage>(std::move(m));
}

bool requireId(Cursor &c, QByteArray &id, QLatin1StringView kind, QString &error)
{
    if (!c.readString(id)) {
        error = readFailed("invocationId"_L1, "String"_L1);
        return false;
    }
    if (id.isEmpty()) {
        error = u"Null or empty invocation ID for %1 message."_s.arg(kind);
        return false;
    }
    return true;
}

} // namespace

namespace MsgPack {

void writeValue(const Value &v, QByteArray &out, StructKeyCase keyCase)
{
    Sink sink {&out};
    Packer pk(sink);
    packValue(pk, v, keyCase);
}

bool readValue(QByteArrayView data, qsizetype *offset, Value &out, QString &error)
{
    if (*offset >= data.size()) {
        error = u"Truncated MessagePack data."_s;
        return false;
    }
    ValueBuilder builder(data.size() - *offset);
    size_t off = size_t(*offset);
    msgpack::parse_return r;
    try {
        r = msgpack::detail::parse_imp(data.data(), size_t(data.size()), off, builder);
    } catch (const std::exception &e) {
        error = u"Invalid MessagePack data: %1"_s.arg(QString::fromUtf8(e.what()));
        return false;
    }
    if (r != msgpack::PARSE_SUCCESS && r != msgpack::PARSE_EXTRA_BYTES) {
        error = builder.error().isEmpty() ? u"Invalid MessagePack data."_s : builder.error();
        return false;
    }
    *offset = qsizetype(off);
    out = builder.takeResult();
    return true;
}

void writeVarInt(QByteArray &out, quint32 value)
{
    do {
        char b = char(value & 0x7F);
        value >>= 7;
        if (value)
            b = char(b | 0x80);
        out.append(b);
    } while (value);
}

} // namespace MsgPack

QByteArrayView MessagePackHubProtocol::name() const noexcept
{
    return "messagepack";
}

void MessagePackHubProtocol::write(const HubMessage &message, QByteArray &out) const
{
    // Reserve one prefix byte, write the body, then widen the prefix if the body needs it.
    const qsizetype start = out.size();
    out.append('\0');
    Sink sink {&out};
    Packer pk(sink);
    const StructKeyCase keyCase = m_keyCase;
    std::visit(
        [&pk, keyCase](const auto &m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, InvocationMessage>) {
                packInvocation(pk, 1, m, keyCase);
            } else if constexpr (std::is_same_v<T, StreamInvocationMessage>) {
                packInvocation(pk, 4, m, keyCase);
            } else if constexpr (std::is_same_v<T, StreamItemMessage>) {
                pk.pack_array(4);
                pk.pack_int(2);
                packHeaders(pk, m.headers);
                packIdOrNil(pk, m.invocationId);
                packValue(pk, m.item, keyCase);
            } else if constexpr (std::is_same_v<T, CompletionMessage>) {
                pk.pack_array(m.kind == CompletionMessage::Kind::Void ? 4 : 5);
                pk.pack_int(3);
                packHeaders(pk, m.headers);
                packIdOrNil(pk, m.invocationId);
                pk.pack_int(int(m.kind));
                if (m.kind == CompletionMessage::Kind::Error)
                    packString(pk, m.error);
                else if (m.kind == CompletionMessage::Kind::Result)
                    packValue(pk, m.result, keyCase);
            } else if constexpr (std::is_same_v<T, CancelInvocationMessage>) {
                pk.pack_array(3);
                pk.pack_int(5);
                packHeaders(pk, m.headers);
                packIdOrNil(pk, m.invocationId);
            } else if constexpr (std::is_same_v<T, PingMessage>) {
                pk.pack_array(1);
                pk.pack_int(6);
            } else if constexpr (std::is_same_v<T, CloseMessage>) {
                pk.pack_array(3);
                pk.pack_int(7);
                if (m.error && !m.error->isEmpty())
                    packString(pk, *m.error);
                else
                    pk.pack_nil();
                if (m.allowReconnect)
                    pk.pack_true();
                else
                    pk.pack_false();
            } else if constexpr (std::is_same_v<T, AckMessage>) {
                pk.pack_array(2);
                pk.pack_int(8);
                pk.pack_int64(m.sequenceId);
            } else if constexpr (std::is_same_v<T, SequenceMessage>) {
                pk.pack_array(2);
                pk.pack_int(9);
                pk.pack_int64(m.sequenceId);
            }
        },
        message);
    if (sink.allBuffered()) { // the usual case: the prefix goes in front, nothing moves
        out.truncate(start);
        MsgPack::writeVarInt(out, quint32(sink.buffered()));
        sink.flush();
        return;
    }
    sink.flush();
    const auto bodySize = quint32(out.size() - start - 1);
    if (bodySize < 0x80) {
        out[start] = char(bodySize);
        return;
    }
    QByteArray prefix;
    MsgPack::writeVarInt(prefix, bodySize);
    out[start] = prefix[0];
    out.insert(start + 1, prefix.constData() + 1, prefix.size() - 1);
}

FrameInfo MessagePackHubProtocol::scanFrame(QByteArrayView data, qsizetype maxMessageSize,
                                            qsizetype) const
{
    FrameInfo info;
    quint64 length = 0;
    qsizetype i = 0;
    for (;; ++i) {
        if (i == 5) { // the 5th byte had the continuation bit: fail now, not after more data
            info.status = FrameInfo::Status::Invalid;
            info.error = err(u"Messages over 2GB in size are not supported."_s);
            return info;
        }
        if (i >= data.size())
            return info; // incomplete prefix
        const auto b = static_cast<quint8>(data[i]);
        length |= quint64(b & 0x7F) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    const qsizetype prefix = i + 1;
    if (length > 0x7FFFFFFF) {
        info.status = FrameInfo::Status::Invalid;
        info.error = err(u"Messages over 2GB in size are not supported."_s);
        return info;
    }
    if (length == 0) {
        info.status = FrameInfo::Status::Invalid;
        info.error = err(u"Invalid payload: a MessagePack message cannot be empty."_s);
        return info;
    }
    if (maxMessageSize > 0 && qsizetype(length) + prefix > maxMessageSize) {
        info.status = FrameInfo::Status::Invalid;
        info.error = tooLarge(maxMessageSize);
        return info;
    }
    if (data.size() - prefix < qsizetype(length))
        return info; // incomplete body
    info.status = FrameInfo::Status::Complete;
    info.payloadOffset = prefix;
    info.payloadSize = qsizetype(length);
    info.frameSize = prefix + qsizetype(length);
    return info;
}

Expected<std::optional<HubMessage>>
MessagePackHubProtocol::parsePayload(QByteArrayView payload) const
{
    Cursor c(payload);
    quint32 count;
    if (!c.readArrayHeader(count))
        return err(u"Reading array length for 'message' failed."_s);
    qint64 type;
    if (count < 1 || !c.readInteger(type) || type < std::numeric_limits<qint32>::min()
        || type > std::numeric_limits<qint32>::max())
        return err(readFailed("messageType"_L1, "Int32"_L1));
    QString error;
    switch (type) {
    case 1:
        return readInvocation<InvocationMessage>(c, count, false);
    case 4:
        return readInvocation<StreamInvocationMessage>(c, count, true);
    case 2: {
        StreamItemMessage m;
        if (!readHeaders(c, m.headers, error)
            || !requireId(c, m.invocationId, "StreamItem"_L1, error) || !c.readValue(m.item, error))
            return err(error);
        return std::optional<HubMessage>(std::move(m));
    }
    case 3: {
        CompletionMessage m;
        if (!readHeaders(c, m.headers, error)
            || !requireId(c, m.invocationId, "Completion"_L1, error))
            return err(error);
        qint64 kind;
        if (!c.readInteger(kind))
            return err(readFailed("resultKind"_L1, "Int32"_L1));
        switch (kind) {
        case 1: {
            bool nil = false;
            if (!c.readString(m.error, &nil))
                return err(readFailed("error"_L1, "String"_L1));
            m.kind = CompletionMessage::Kind::Error;
            break;
        }
        case 2:
            m.kind = CompletionMessage::Kind::Void;
            break;
        case 3:
            m.kind = CompletionMessage::Kind::Result;
            if (!c.readValue(m.result, error))
                return err(error);
            break;
        default:
            return err(u"Invalid invocation result kind."_s);
        }
        return std::optional<HubMessage>(std::move(m));
    }
    case 5: {
        CancelInvocationMessage m;
        if (!readHeaders(c, m.headers, error)
            || !requireId(c, m.invocationId, "CancelInvocation"_L1, error))
            return err(error);
        return std::optional<HubMessage>(std::move(m));
    }
    case 6:
        return std::optional<HubMessage>(PingMessage {});
    case 7: {
        CloseMessage m;
        QByteArray e;
        bool nil = false;
        if (count < 2 || !c.readString(e, &nil))
            return err(readFailed("error"_L1, "String"_L1));
        // The writer (as .NET's) sends an empty error as nil, so "" reads as absent too:
        // otherwise the message would change in a write/read round trip.
        if (!nil && !e.isEmpty())
            m.error = std::move(e);
        if (count > 2 && !c.readBool(m.allowReconnect))
            return err(readFailed("allowReconnect"_L1, "Boolean"_L1));
        return std::optional<HubMessage>(std::move(m));
    }
    case 8:
    case 9: {
        qint64 id;
        if (count < 2 || !c.readInteger(id))
            return err(readFailed("sequenceId"_L1, "Int64"_L1));
        if (type == 8)
            return std::optional<HubMessage>(AckMessage {id});
        return std::optional<HubMessage>(SequenceMessage {id});
    }
    default:
        return std::optional<HubMessage>();
    }
}

} // namespace Protocol
} // namespace Heliograph
