// SPDX-License-Identifier: MIT
#include "json_p.h"
#include "text_p.h"

#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/json.h>

#include <charconv>
#include <cstring>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {
namespace Json {

bool Reader::fail(QString message)
{
    if (m_error.isEmpty())
        m_error = std::move(message);
    return false;
}

const char *Reader::tokenTypeName() noexcept
{
    switch (peek()) {
    case '{':
        return "Object";
    case '[':
        return "Array";
    case '"':
        return "String";
    case 't':
        return m_end - m_p >= 4 && std::memcmp(m_p, "true", 4) == 0 ? "True" : "Invalid";
    case 'f':
        return m_end - m_p >= 5 && std::memcmp(m_p, "false", 5) == 0 ? "False" : "Invalid";
    case 'n':
        return m_end - m_p >= 4 && std::memcmp(m_p, "null", 4) == 0 ? "Null" : "Invalid";
    case '\0':
        return "None";
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return "Number";
    default:
        return "Invalid";
    }
}

bool Reader::readLiteral(const char *word, qsizetype len)
{
    if (m_end - m_p < len || std::memcmp(m_p, word, size_t(len)) != 0)
        return fail(u"Invalid JSON literal at offset %1."_s.arg(offset()));
    m_p += len;
    return true;
}

bool Reader::readValue(Value &out, int depth)
{
    switch (peek()) {
    case '{':
        return readObject(out, depth + 1);
    case '[':
        return readArray(out, depth + 1);
    case '"': {
        QByteArray s;
        if (!readString(s))
            return false;
        out = Value::fromUtf8(std::move(s));
        return true;
    }
    case 't':
        out = Value(true);
        return readLiteral("true", 4);
    case 'f':
        out = Value(false);
        return readLiteral("false", 5);
    case 'n':
        out = Value();
        return readLiteral("null", 4);
    case '\0':
        return fail(m_p >= m_end ? u"Unexpected end of JSON data."_s
                                 : u"Unexpected character at offset %1."_s.arg(offset()));
    default:
        return readNumber(out);
    }
}

bool Reader::skipValue(int depth)
{
    Value ignored;
    return readValue(ignored, depth);
}

bool Reader::readNumber(Value &out)
{
    const char *start = m_p;
    const char *p = m_p;
    bool isInteger = true;
    if (p < m_end && *p == '-')
        ++p;
    if (p >= m_end || *p < '0' || *p > '9')
        return fail(u"Unexpected character at offset %1."_s.arg(offset()));
    if (*p == '0') {
        ++p;
    } else {
        while (p < m_end && *p >= '0' && *p <= '9')
            ++p;
    }
    if (p < m_end && *p == '.') {
        isInteger = false;
        ++p;
        if (p >= m_end || *p < '0' || *p > '9')
            return fail(u"Invalid JSON number at offset %1."_s.arg(offset()));
        while (p < m_end && *p >= '0' && *p <= '9')
            ++p;
    }
    if (p < m_end && (*p == 'e' || *p == 'E')) {
        isInteger = false;
        ++p;
        if (p < m_end && (*p == '+' || *p == '-'))
            ++p;
        if (p >= m_end || *p < '0' || *p > '9')
            return fail(u"Invalid JSON number at offset %1."_s.arg(offset()));
        while (p < m_end && *p >= '0' && *p <= '9')
            ++p;
    }
    m_p = p;
    if (isInteger) {
        qint64 i;
        auto r = std::from_chars(start, p, i);
        if (r.ec == std::errc() && r.ptr == p) {
            out = Value(i);
            return true;
        }
        if (*start != '-') {
            quint64 u;
            r = std::from_chars(start, p, u);
            if (r.ec == std::errc() && r.ptr == p) {
                out = Value(u);
                return true;
            }
        }
    }
    double d;
    auto r = std::from_chars(start, p, d);
    if (r.ec != std::errc() || r.ptr != p)
        return fail(u"JSON number out of range at offset %1."_s.arg(start - m_begin));
    out = Value(d);
    return true;
}

namespace {
void appendUtf8(QByteArray &out, quint32 cp)
{
    if (cp < 0x80) {
        out.append(char(cp));
    } else if (cp < 0x800) {
        const char b[2] = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
        out.append(b, 2);
    } else if (cp < 0x10000) {
        const char b[3]
            = {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
        out.append(b, 3);
    } else {
        const char b[4] = {char(0xF0 | (cp >> 18)), char(0x80 | ((cp >> 12) & 0x3F)),
                           char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
        out.append(b, 4);
    }
}
} // namespace

bool Reader::readString(QByteArray &out)
{
    if (peek() != '"')
        return fail(u"Expected a JSON string at offset %1."_s.arg(offset()));
    const char *start = ++m_p;
    const char *p = start;
    // Fast path: no escapes.
    while (p < m_end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20)
        ++p;
    if (p >= m_end)
        return fail(u"Unterminated JSON string."_s);
    if (*p == '"') {
        if (!Text::isValidUtf8(start, p - start))
            return fail(u"Invalid UTF-8 in JSON string at offset %1."_s.arg(start - m_begin));
        out = QByteArray(start, p - start);
        m_p = p + 1;
        return true;
    }
    out.clear();
    out.reserve(p - start + 16);
    const char *chunk = start;
    while (true) {
        if (p >= m_end)
            return fail(u"Unterminated JSON string."_s);
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(
                u"Unescaped control character in JSON string at offset %1."_s.arg(p - m_begin));
        if (c != '\\') {
            ++p;
            continue;
        }
        if (!Text::isValidUtf8(chunk, p - chunk))
            return fail(u"Invalid UTF-8 in JSON string at offset %1."_s.arg(chunk - m_begin));
        out.append(chunk, p - chunk);
        if (++p >= m_end)
            return fail(u"Unterminated JSON string."_s);
        switch (*p) {
        case '"':
            out.append('"');
            break;
        case '\\':
            out.append('\\');
            break;
        case '/':
            out.append('/');
            break;
        case 'b':
            out.append('\b');
            break;
        case 'f':
            out.append('\f');
            break;
        case 'n':
            out.append('\n');
            break;
        case 'r':
            out.append('\r');
            break;
        case 't':
            out.append('\t');
            break;
        case 'u': {
            auto readHex4 = [&](const char *at, quint32 &cp) {
                if (m_end - at < 4)
                    return false;
                cp = 0;
                for (int i = 0; i < 4; ++i) {
                    const int h = Text::hexDigitValue(at[i]);
                    if (h < 0)
                        return false;
                    cp = (cp << 4) | quint32(h);
                }
                return true;
            };
            quint32 cp;
            if (!readHex4(p + 1, cp))
                return fail(u"Invalid \\u escape in JSON string at offset %1."_s.arg(p - m_begin));
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                quint32 low;
                if (m_end - p < 7 || p[1] != '\\' || p[2] != 'u' || !readHex4(p + 3, low)
                    || low < 0xDC00 || low > 0xDFFF)
                    return fail(u"Invalid UTF-16 surrogate pair in JSON string at offset %1."_s.arg(
                        p - m_begin));
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(u"Invalid UTF-16 surrogate pair in JSON string at offset %1."_s.arg(
                    p - m_begin));
            }
            appendUtf8(out, cp);
            break;
        }
        default:
            return fail(u"Invalid escape sequence in JSON string at offset %1."_s.arg(p - m_begin));
        }
        chunk = ++p;
    }
    if (!Text::isValidUtf8(chunk, p - chunk))
        return fail(u"Invalid UTF-8 in JSON string at offset %1."_s.arg(chunk - m_begin));
    out.append(chunk, p - chunk);
    m_p = p + 1;
    return true;
}

bool Reader::expectSeparator(bool &done, char close)
{
    const char c = peek();
    if (c == ',') {
        ++m_p;
        done = false;
        return true;
    }
    if (c == close) {
        ++m_p;
        done = true;
        return true;
    }
    return fail(
        m_p >= m_end
            ? u"Unexpected end of JSON data."_s
            : u"Expected ',' or '%1' at offset %2."_s.arg(QLatin1Char(close)).arg(offset()));
}

bool Reader::readArray(Value &out, int depth)
{
    if (depth > m_maxDepth)
        return fail(u"The maximum nesting depth of %1 was exceeded."_s.arg(m_maxDepth));
    ++m_p; // '['
    ValueList list;
    if (consume(']')) {
        out = Value(std::move(list));
        return true;
    }
    bool done = false;
    while (!done) {
        Value v;
        if (!readValue(v, depth) || !expectSeparator(done, ']'))
            return false;
        list.append(std::move(v));
    }
    out = Value(std::move(list));
    return true;
}

bool Reader::readObject(Value &out, int depth)
{
    if (depth > m_maxDepth)
        return fail(u"The maximum nesting depth of %1 was exceeded."_s.arg(m_maxDepth));
    ++m_p; // '{'
    ValueMap map;
    if (consume('}')) {
        out = Value(std::move(map));
        return true;
    }
    bool done = false;
    while (!done) {
        QByteArray key;
        if (!readString(key))
            return false;
        if (!consume(':'))
            return fail(u"Expected ':' at offset %1."_s.arg(offset()));
        Value v;
        if (!readValue(v, depth) || !expectSeparator(done, '}'))
            return false;
        map.append({Value::fromUtf8(std::move(key)), std::move(v)});
    }
    out = Value(std::move(map));
    return true;
}

bool Reader::beginObject()
{
    if (peek() != '{')
        return false;
    ++m_p;
    m_firstMember = true;
    return true;
}

bool Reader::nextKey(QByteArray &key, bool &done)
{
    if (m_firstMember) {
        m_firstMember = false;
        if (consume('}')) {
            done = true;
            return true;
        }
    } else {
        if (!expectSeparator(done, '}'))
            return false;
        if (done)
            return true;
    }
    done = false;
    if (!readString(key))
        return false;
    if (!consume(':'))
        return fail(u"Expected ':' at offset %1."_s.arg(offset()));
    return true;
}

// --- writer ---------------------------------------------------------------------------------

void writeString(QByteArrayView utf8, QByteArray &out)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    out.append('"');
    const char *p = utf8.data();
    const char *end = p + utf8.size();
    const char *chunk = p;
    for (; p < end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(chunk, p - chunk);
        chunk = p + 1;
        switch (c) {
        case '"':
            out.append("\\\"", 2);
            break;
        case '\\':
            out.append("\\\\", 2);
            break;
        case '\n':
            out.append("\\n", 2);
            break;
        case '\r':
            out.append("\\r", 2);
            break;
        case '\t':
            out.append("\\t", 2);
            break;
        case '\b':
            out.append("\\b", 2);
            break;
        case '\f':
            out.append("\\f", 2);
            break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(esc, 6);
        }
        }
    }
    out.append(chunk, p - chunk);
    out.append('"');
}

namespace {
/// The text of a non-string map key: its JSON, except that the keys of maps nested in it are
/// written as plain JSON too instead of as escaped strings. Escaping a key whose text holds an
/// escaped key doubles the backslashes at each level: exponential output in the nesting depth
/// (a 200-byte MessagePack map-in-key chain would never finish converting to JSON).
void writeKeyText(const Value &v, QByteArray &out)
{
    if (v.isArray()) {
        out.append('[');
        bool first = true;
        for (const Value &e : v.array()) {
            if (!first)
                out.append(',');
            first = false;
            writeKeyText(e, out);
        }
        out.append(']');
    } else if (v.isMap()) {
        out.append('{');
        bool first = true;
        for (const MapEntry &e : v.map()) {
            if (!first)
                out.append(',');
            first = false;
            writeKeyText(e.key, out);
            out.append(':');
            writeKeyText(e.value, out);
        }
        out.append('}');
    } else {
        writeValue(v, out);
    }
}

void writeKey(const Value &k, QByteArray &out)
{
    switch (k.type()) {
    case Value::Type::String:
        writeString(k.utf8(), out);
        return;
    case Value::Type::Integer:
        out.append('"');
        Text::appendInt(out, k.toInteger());
        out.append('"');
        return;
    case Value::Type::UnsignedInteger:
        out.append('"');
        Text::appendUInt(out, k.toUnsignedInteger());
        out.append('"');
        return;
    default: {
        // JSON keys must be strings: write the key's own JSON text as a string.
        QByteArray text;
        writeKeyText(k, text);
        if (k.isBinary() || k.isTimestamp() || k.type() == Value::Type::Extension)
            out.append(text); // already a quoted string
        else
            writeString(text, out);
    }
    }
}
} // namespace

void writeValue(const Value &v, QByteArray &out)
{
    switch (v.type()) {
    case Value::Type::Null:
        out.append("null", 4);
        return;
    case Value::Type::Bool:
        if (v.toBool())
            out.append("true", 4);
        else
            out.append("false", 5);
        return;
    case Value::Type::Integer:
        Text::appendInt(out, v.toInteger());
        return;
    case Value::Type::UnsignedInteger:
        Text::appendUInt(out, v.toUnsignedInteger());
        return;
    case Value::Type::Double:
        Text::appendDouble(out, v.toDouble(), v.isSinglePrecision());
        return;
    case Value::Type::String:
        writeString(v.utf8(), out);
        return;
    case Value::Type::Binary:
    case Value::Type::Extension:
        out.append('"');
        out.append(v.bytes().toBase64());
        out.append('"');
        return;
    case Value::Type::Timestamp: {
        qint64 s;
        quint32 ns;
        v.toTimestamp(&s, &ns);
        out.append('"');
        Text::appendIso8601(out, s, ns);
        out.append('"');
        return;
    }
    case Value::Type::Array: {
        out.append('[');
        bool first = true;
        for (const Value &e : v.array()) {
            if (!first)
                out.append(',');
            first = false;
            writeValue(e, out);
        }
        out.append(']');
        return;
    }
    case Value::Type::Map: {
        out.append('{');
        bool first = true;
        for (const MapEntry &e : v.map()) {
            if (!first)
                out.append(',');
            first = false;
            writeKey(e.key, out);
            out.append(':');
            writeValue(e.value, out);
        }
        out.append('}');
        return;
    }
    }
}

QByteArray toJson(const Value &v)
{
    QByteArray out;
    writeValue(v, out);
    return out;
}

} // namespace Json
} // namespace Protocol
} // namespace Heliograph

// --- public API (json.h) --------------------------------------------------------------------

namespace Heliograph {
inline namespace Protocol {
namespace Json {

Expected<Value> parse(QByteArrayView json, int maxDepth)
{
    Reader r(json, maxDepth);
    Value v;
    if (!r.readValue(v))
        return invalidData(r.error());
    if (!r.atEnd())
        return invalidData(u"Unexpected data after the JSON value at offset %1."_s.arg(r.offset()));
    return v;
}

QByteArray serialize(const Value &value)
{
    return toJson(value);
}

} // namespace Json
} // namespace Protocol
} // namespace Heliograph
