// SPDX-License-Identifier: MIT
// Internal: a strict RFC 8259 JSON reader producing Values (UTF-8 throughout, int64-exact,
// depth-limited, no recursion beyond the depth limit) and the matching writer.
#pragma once

#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace Heliograph {
inline namespace Protocol {
namespace Json {

class Reader {
public:
    explicit Reader(QByteArrayView data, int maxDepth = 64) noexcept
        : m_p(data.data())
        , m_begin(data.data())
        , m_end(data.data() + data.size())
        , m_maxDepth(maxDepth)
    { }

    void skipWhitespace() noexcept
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }
    bool atEnd() noexcept
    {
        skipWhitespace();
        return m_p >= m_end;
    }
    /// Next non-whitespace byte without consuming it; 0 at the end.
    char peek() noexcept
    {
        skipWhitespace();
        return m_p < m_end ? *m_p : '\0';
    }
    bool consume(char c) noexcept
    {
        if (peek() != c)
            return false;
        ++m_p;
        return true;
    }

    /// Reads any value; `depth` is the nesting level of the container holding it.
    bool readValue(Value &out, int depth = 0);
    /// Reads a string token (the cursor must be at '"'), unescaped, validated UTF-8.
    bool readString(QByteArray &out);
    /// Skips a value of any kind (still validated).
    bool skipValue(int depth = 0);

    /// Object iteration: call beginObject(), then nextKey() until it returns false.
    bool beginObject();
    bool nextKey(QByteArray &key, bool &done);

    /// The name .NET's Utf8JsonReader would give the next token ("Null", "String", ...).
    const char *tokenTypeName() noexcept;

    bool fail(QString message);
    const QString &error() const noexcept { return m_error; }
    qsizetype offset() const noexcept { return m_p - m_begin; }

private:
    bool readNumber(Value &out);
    bool readLiteral(const char *word, qsizetype len);
    bool readArray(Value &out, int depth);
    bool readObject(Value &out, int depth);
    bool expectSeparator(bool &done, char close);

    const char *m_p;
    const char *m_begin;
    const char *m_end;
    int m_maxDepth;
    bool m_firstMember = true;
    QString m_error;
};

void writeString(QByteArrayView utf8, QByteArray &out);
void writeValue(const Value &v, QByteArray &out);

/// Convenience for whole documents.
QByteArray toJson(const Value &v);

} // namespace Json
} // namespace Protocol
} // namespace Heliograph
