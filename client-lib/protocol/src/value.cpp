// SPDX-License-Identifier: MIT
#include "json_p.h"
#include "text_p.h"

#include <heliograph/protocol/convert.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QDebug>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QTimeZone>
#include <QtCore/QVariant>

#include <cmath>
#include <limits>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {

namespace {
const ValueList &emptyList()
{
    static const ValueList l;
    return l;
}
const ValueMap &emptyMap()
{
    static const ValueMap m;
    return m;
}
} // namespace

Value Value::fromFloat(float f) noexcept
{
    Value v(static_cast<double>(f));
    v.m_single = true;
    return v;
}

Value::Value(const char *utf8)
    : m_type(Type::String)
    , m_bytes(utf8)
{ }
Value::Value(const QString &s)
    : m_type(Type::String)
    , m_bytes(s.toUtf8())
{ }
Value::Value(QStringView s)
    : m_type(Type::String)
    , m_bytes(s.toUtf8())
{ }
Value::Value(QLatin1StringView s)
    : m_type(Type::String)
    , m_bytes(QString(s).toUtf8())
{ }

Value::Value(ValueList array)
    : m_type(Type::Array)
    , m_container(std::make_shared<ValueList>(std::move(array)))
{ }

Value::Value(ValueMap map)
    : m_type(Type::Map)
    , m_container(std::make_shared<ValueMap>(std::move(map)))
{ }

Value Value::fromStructMap(ValueMap members)
{
    Value v(std::move(members));
    v.m_structMap = true;
    return v;
}

Value::Value(const QDateTime &dt)
{
    if (!dt.isValid())
        return; // null
    const qint64 ms = dt.toMSecsSinceEpoch();
    qint64 s = ms / 1000;
    qint64 rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        --s;
    }
    *this = fromTimestamp(s, quint32(rem) * 1000000u);
}

Value Value::fromUtf8(QByteArray utf8)
{
    Value v;
    v.m_type = Type::String;
    v.m_bytes = std::move(utf8);
    return v;
}

Value Value::fromBinary(QByteArray bytes)
{
    Value v;
    v.m_type = Type::Binary;
    v.m_bytes = std::move(bytes);
    return v;
}

Value Value::fromTimestamp(qint64 seconds, quint32 nanoseconds)
{
    Value v;
    v.m_type = Type::Timestamp;
    v.m_scalar.i = seconds + nanoseconds / 1000000000u;
    v.m_nanos = nanoseconds % 1000000000u;
    return v;
}

Value Value::fromExtension(qint8 type, QByteArray data)
{
    Value v;
    v.m_type = Type::Extension;
    v.m_scalar.i = type; // NOLINT(bugprone-signed-char-misuse): extension types are signed
    v.m_bytes = std::move(data);
    return v;
}

bool Value::toBool(bool defaultValue) const noexcept
{
    return m_type == Type::Bool ? m_scalar.b : defaultValue;
}

qint64 Value::toInteger(bool *ok) const noexcept
{
    bool good = false;
    qint64 r = 0;
    switch (m_type) {
    case Type::Integer:
        good = true;
        r = m_scalar.i;
        break;
    case Type::Double:
        if (std::isfinite(m_scalar.d) && std::trunc(m_scalar.d) == m_scalar.d
            && m_scalar.d >= -9223372036854775808.0 && m_scalar.d < 9223372036854775808.0) {
            good = true;
            r = static_cast<qint64>(m_scalar.d);
        }
        break;
    default:
        break;
    }
    if (ok)
        *ok = good;
    return r;
}

quint64 Value::toUnsignedInteger(bool *ok) const noexcept
{
    bool good = false;
    quint64 r = 0;
    switch (m_type) {
    case Type::UnsignedInteger:
        good = true;
        r = m_scalar.u;
        break;
    case Type::Integer:
        good = m_scalar.i >= 0;
        r = good ? quint64(m_scalar.i) : 0;
        break;
    case Type::Double:
        if (std::isfinite(m_scalar.d) && std::trunc(m_scalar.d) == m_scalar.d && m_scalar.d >= 0
            && m_scalar.d < 18446744073709551616.0) {
            good = true;
            r = static_cast<quint64>(m_scalar.d);
        }
        break;
    default:
        break;
    }
    if (ok)
        *ok = good;
    return r;
}

double Value::toDouble(bool *ok) const noexcept
{
    bool good = true;
    double r = 0;
    switch (m_type) {
    case Type::Double:
        r = m_scalar.d;
        break;
    case Type::Integer:
        r = double(m_scalar.i);
        break;
    case Type::UnsignedInteger:
        r = double(m_scalar.u);
        break;
    case Type::String:
        // JSON carries non-finite doubles as these names (as .NET's named literals do).
        if (m_bytes == "NaN")
            r = std::numeric_limits<double>::quiet_NaN();
        else if (m_bytes == "Infinity")
            r = std::numeric_limits<double>::infinity();
        else if (m_bytes == "-Infinity")
            r = -std::numeric_limits<double>::infinity();
        else
            good = false;
        break;
    default:
        good = false;
    }
    if (ok)
        *ok = good;
    return r;
}

QString Value::toString() const
{
    return m_type == Type::String ? QString::fromUtf8(m_bytes) : QString();
}

bool Value::toTimestamp(qint64 *seconds, quint32 *nanoseconds) const
{
    if (m_type == Type::Timestamp) {
        *seconds = m_scalar.i;
        *nanoseconds = m_nanos;
        return true;
    }
    if (m_type == Type::String)
        return Text::parseIso8601(m_bytes, seconds, nanoseconds);
    return false;
}

QDateTime Value::toDateTime() const
{
    qint64 s;
    quint32 ns;
    if (!toTimestamp(&s, &ns))
        return {};
    return QDateTime::fromMSecsSinceEpoch(s * 1000 + ns / 1000000, Qt::UTC);
}

const ValueList &Value::array() const noexcept
{
    return m_type == Type::Array ? *static_cast<const ValueList *>(m_container.get()) : emptyList();
}

const ValueMap &Value::map() const noexcept
{
    return m_type == Type::Map ? *static_cast<const ValueMap *>(m_container.get()) : emptyMap();
}

ValueList &Value::asArray()
{
    if (m_type != Type::Array) {
        *this = Value(ValueList());
    } else if (m_container.use_count() > 1) {
        m_container
            = std::make_shared<ValueList>(*static_cast<const ValueList *>(m_container.get()));
    }
    return *static_cast<ValueList *>(m_container.get());
}

ValueMap &Value::asMap()
{
    if (m_type != Type::Map) {
        *this = Value(ValueMap());
    } else if (m_container.use_count() > 1) {
        m_container = std::make_shared<ValueMap>(*static_cast<const ValueMap *>(m_container.get()));
    }
    return *static_cast<ValueMap *>(m_container.get());
}

qsizetype Value::size() const noexcept
{
    switch (m_type) {
    case Type::Array:
        return array().size();
    case Type::Map:
        return map().size();
    case Type::String:
    case Type::Binary:
    case Type::Extension:
        return m_bytes.size();
    default:
        return 0;
    }
}

const Value &Value::null() noexcept
{
    static const Value n;
    return n;
}

const Value &Value::operator[](QByteArrayView key) const noexcept
{
    const Value *v = find(key);
    return v ? *v : null();
}

const Value &Value::operator[](qsizetype index) const noexcept
{
    const ValueList &l = array();
    return index >= 0 && index < l.size() ? l[index] : null();
}

const Value *Value::find(QByteArrayView key, Qt::CaseSensitivity cs) const noexcept
{
    if (m_type != Type::Map)
        return nullptr;
    for (const MapEntry &e : map()) {
        if (!e.key.isString())
            continue;
        if (cs == Qt::CaseSensitive ? e.key.utf8() == key
                                    : e.key.utf8().compare(key, Qt::CaseInsensitive) == 0)
            return &e.value;
    }
    return nullptr;
}

void Value::insert(Value key, Value value)
{
    ValueMap &m = asMap();
    for (MapEntry &e : m) {
        if (e.key == key) {
            e.value = std::move(value);
            return;
        }
    }
    m.append({std::move(key), std::move(value)});
}

bool operator==(const Value &a, const Value &b) noexcept
{
    if (a.m_type != b.m_type)
        return false;
    switch (a.m_type) {
    case Value::Type::Null:
        return true;
    case Value::Type::Bool:
        return a.m_scalar.b == b.m_scalar.b;
    case Value::Type::Integer:
    case Value::Type::UnsignedInteger:
        return a.m_scalar.i == b.m_scalar.i;
    case Value::Type::Double:
        // Bitwise equality for NaN, value equality otherwise.
        return a.m_scalar.d == b.m_scalar.d
            || (std::isnan(a.m_scalar.d) && std::isnan(b.m_scalar.d));
    case Value::Type::String:
    case Value::Type::Binary:
        return a.m_bytes == b.m_bytes;
    case Value::Type::Extension:
        return a.m_scalar.i == b.m_scalar.i && a.m_bytes == b.m_bytes;
    case Value::Type::Timestamp:
        return a.m_scalar.i == b.m_scalar.i && a.m_nanos == b.m_nanos;
    case Value::Type::Array:
        return a.m_container == b.m_container || a.array() == b.array();
    case Value::Type::Map:
        return a.m_container == b.m_container || a.map() == b.map();
    }
    return false;
}

// --- QVariant / QJsonValue ------------------------------------------------------------------

Value Value::fromVariant(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        return {};
    case QMetaType::Bool:
        return Value(v.toBool());
    case QMetaType::Int:
    case QMetaType::Short:
    case QMetaType::Char:
    case QMetaType::SChar:
    case QMetaType::Long:
    case QMetaType::LongLong:
        return Value(v.toLongLong());
    case QMetaType::UInt:
    case QMetaType::UShort:
    case QMetaType::UChar:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
        return Value(v.toULongLong());
    case QMetaType::Float:
        return fromFloat(v.toFloat());
    case QMetaType::Double:
        return Value(v.toDouble());
    case QMetaType::QString:
        return Value(v.toString());
    case QMetaType::QByteArray:
        return fromBinary(v.toByteArray());
    case QMetaType::QDateTime:
        return Value(v.toDateTime());
    case QMetaType::QVariantList:
    case QMetaType::QStringList: {
        ValueList l;
        const QVariantList src = v.toList();
        l.reserve(src.size());
        for (const QVariant &e : src)
            l.append(fromVariant(e));
        return Value(std::move(l));
    }
    case QMetaType::QVariantMap: {
        ValueMap m;
        const QVariantMap src = v.toMap();
        for (auto it = src.cbegin(); it != src.cend(); ++it)
            m.append({Value(it.key()), fromVariant(it.value())});
        return Value(std::move(m));
    }
    case QMetaType::QVariantHash: {
        ValueMap m;
        const QVariantHash src = v.toHash();
        for (auto it = src.cbegin(); it != src.cend(); ++it)
            m.append({Value(it.key()), fromVariant(it.value())});
        return Value(std::move(m));
    }
    case QMetaType::QJsonValue:
        return fromJsonValue(v.toJsonValue());
    case QMetaType::QJsonObject:
        return fromJsonValue(QJsonValue(v.toJsonObject()));
    case QMetaType::QJsonArray:
        return fromJsonValue(QJsonValue(v.toJsonArray()));
    default:
        if (v.canConvert<QString>())
            return Value(v.toString());
        return {};
    }
}

QVariant Value::toVariant() const
{
    switch (m_type) {
    case Type::Null:
        return QVariant::fromValue(nullptr);
    case Type::Bool:
        return m_scalar.b;
    case Type::Integer:
        return m_scalar.i;
    case Type::UnsignedInteger:
        return m_scalar.u;
    case Type::Double:
        return m_single ? QVariant(float(m_scalar.d)) : QVariant(m_scalar.d);
    case Type::String:
        return QString::fromUtf8(m_bytes);
    case Type::Binary:
    case Type::Extension:
        return m_bytes;
    case Type::Timestamp:
        return toDateTime();
    case Type::Array: {
        QVariantList l;
        l.reserve(array().size());
        for (const Value &e : array())
            l.append(e.toVariant());
        return l;
    }
    case Type::Map: {
        QVariantMap m;
        for (const MapEntry &e : map()) {
            QString key
                = e.key.isString() ? e.key.toString() : QString::fromUtf8(Json::toJson(e.key));
            m.insert(key, e.value.toVariant());
        }
        return m;
    }
    }
    return {};
}

Value Value::fromJsonValue(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return {};
    case QJsonValue::Bool:
        return Value(v.toBool());
    case QJsonValue::Double: {
        // Qt keeps integers that fit in 64 bits exactly: keep them integers.
        const QVariant var = v.toVariant();
        if (var.typeId() == QMetaType::LongLong)
            return Value(var.toLongLong());
        return Value(v.toDouble());
    }
    case QJsonValue::String:
        return Value(v.toString());
    case QJsonValue::Array: {
        ValueList l;
        const QJsonArray a = v.toArray();
        l.reserve(a.size());
        for (const auto &e : a)
            l.append(fromJsonValue(e));
        return Value(std::move(l));
    }
    case QJsonValue::Object: {
        ValueMap m;
        const QJsonObject o = v.toObject();
        for (auto it = o.constBegin(); it != o.constEnd(); ++it)
            m.append({Value(it.key()), fromJsonValue(it.value())});
        return Value(std::move(m));
    }
    }
    return {};
}

QJsonValue Value::toJsonValue() const
{
    switch (m_type) {
    case Type::Null:
        return QJsonValue(QJsonValue::Null);
    case Type::Bool:
        return m_scalar.b;
    case Type::Integer:
        return m_scalar.i;
    case Type::UnsignedInteger:
        return double(m_scalar.u);
    case Type::Double:
        return m_scalar.d;
    case Type::String:
        return QString::fromUtf8(m_bytes);
    case Type::Binary:
    case Type::Extension:
        return QString::fromLatin1(m_bytes.toBase64());
    case Type::Timestamp: {
        QByteArray iso;
        Text::appendIso8601(iso, m_scalar.i, m_nanos);
        return QString::fromLatin1(iso);
    }
    case Type::Array: {
        QJsonArray a;
        for (const Value &e : array())
            a.append(e.toJsonValue());
        return a;
    }
    case Type::Map: {
        QJsonObject o;
        for (const MapEntry &e : map()) {
            QString key
                = e.key.isString() ? e.key.toString() : QString::fromUtf8(Json::toJson(e.key));
            o.insert(key, e.value.toJsonValue());
        }
        return o;
    }
    }
    return {};
}

const char *typeName(Value::Type t) noexcept
{
    switch (t) {
    case Value::Type::Null:
        return "Null";
    case Value::Type::Bool:
        return "Bool";
    case Value::Type::Integer:
        return "Integer";
    case Value::Type::UnsignedInteger:
        return "UnsignedInteger";
    case Value::Type::Double:
        return "Double";
    case Value::Type::String:
        return "String";
    case Value::Type::Binary:
        return "Binary";
    case Value::Type::Array:
        return "Array";
    case Value::Type::Map:
        return "Map";
    case Value::Type::Timestamp:
        return "Timestamp";
    case Value::Type::Extension:
        return "Extension";
    }
    return "?";
}

QDebug operator<<(QDebug dbg, const Value &v)
{
    QDebugStateSaver saver(dbg);
    dbg.nospace().noquote() << "Value(" << typeName(v.type()) << ", "
                            << QString::fromUtf8(Json::toJson(v)) << ')';
    return dbg;
}

// --- convert.h support ----------------------------------------------------------------------

} // namespace Protocol
} // namespace Heliograph

namespace Heliograph::Detail {

QString typeMismatch(const char *expected, const Value &got)
{
    return u"expected %1, got %2"_s.arg(QLatin1StringView(expected),
                                        QLatin1StringView(typeName(got.type())));
}

QString outOfRange(const Value &got, size_t bytes, bool isSigned)
{
    return u"value %1 is out of range for %2 %3-bit integer"_s.arg(
        QString::fromUtf8(Json::toJson(got)), isSigned ? u"a signed"_s : u"an unsigned"_s,
        QString::number(bytes * 8));
}

QByteArray camelCase(const char *name)
{
    QByteArray key(name);
    if (!key.isEmpty() && key[0] >= 'A' && key[0] <= 'Z')
        key[0] = char(key[0] - 'A' + 'a');
    return key;
}

bool readBinary(const Value &v, QByteArray &out, QString &error)
{
    if (v.isBinary()) {
        out = v.bytes();
        return true;
    }
    if (v.isString()) { // JSON carries binary as base64
        auto r = QByteArray::fromBase64Encoding(v.bytes(), QByteArray::AbortOnBase64DecodingErrors);
        if (r) {
            out = std::move(*r);
            return true;
        }
        error = u"expected Binary, got a String that is not base64"_s;
        return false;
    }
    error = typeMismatch("Binary", v);
    return false;
}

bool readDateTime(const Value &v, QDateTime &out, QString &error)
{
    if (v.isNull()) {
        out = QDateTime();
        return true;
    }
    if (v.isTimestamp() || v.isString()) {
        out = v.toDateTime();
        if (out.isValid())
            return true;
        error = u"expected Timestamp, got a String that is not an ISO 8601 date-time"_s;
        return false;
    }
    error = typeMismatch("Timestamp", v);
    return false;
}

bool readString(const Value &v, QString &out, QString &error)
{
    if (v.isString()) {
        out = v.toString();
        return true;
    }
    if (v.isNull()) { // .NET binds null to a string reference
        out = QString();
        return true;
    }
    error = typeMismatch("String", v);
    return false;
}

// Errors read "path: message"; leaf messages never contain ": ", so its presence marks a path.
void prefixPath(QString &error, QByteArrayView key)
{
    const QString k = QString::fromUtf8(key);
    if (!error.contains(u": "_s))
        error = k + u": "_s + error;
    else if (error.startsWith(u'['))
        error = k + error;
    else
        error = k + u'.' + error;
}

void prefixIndex(QString &error, qsizetype index)
{
    const QString idx = u"[%1]"_s.arg(index);
    if (!error.contains(u": "_s))
        error = idx + u": "_s + error;
    else if (error.startsWith(u'['))
        error = idx + error;
    else
        error = idx + u'.' + error;
}

} // namespace Heliograph::Detail

namespace Heliograph {
inline namespace Protocol {

Value ValueTraits<QVariant>::toValue(const QVariant &v)
{
    return Value::fromVariant(v);
}
bool ValueTraits<QVariant>::fromValue(const Value &v, QVariant &out, QString &)
{
    out = v.toVariant();
    return true;
}
Value ValueTraits<QJsonValue>::toValue(const QJsonValue &v)
{
    return Value::fromJsonValue(v);
}
bool ValueTraits<QJsonValue>::fromValue(const Value &v, QJsonValue &out, QString &)
{
    out = v.toJsonValue();
    return true;
}

} // namespace Protocol
} // namespace Heliograph
