// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Converting C++ types to and from Value with little code per type.
///
/// \code
///   struct Notification { QString id; QString title; QString body; QString type;
///                         QDateTime createdAt; qint64 sequence = 0; };
///   HELIOGRAPH_DESCRIBE(Notification, id, title, body, type, createdAt, sequence)
///
///   Value v = Heliograph::toValue(n);                   // map with camelCase keys
///   Expected<Notification> n2 = Heliograph::fromValue<Notification>(v);
/// \endcode
///
/// Keys are the member names with the first letter lower-cased; reading matches keys
/// case-insensitively (as ASP.NET Core's JSON binder does) and leaves missing members at their
/// defaults. The Map is marked as a struct's (Value::isStructMap()), so a MessagePack protocol
/// with StructKeyCase::PascalCase writes its keys capitalised, as .NET names members. Supported out
/// of the box: bool, integers (range-checked), floating point, QString, std::string, QByteArray
/// (binary; base64 strings from JSON), QDateTime (timestamps or ISO 8601 strings), Value, QVariant,
/// QJsonValue, `std::optional`, QList, `std::vector`, QMap, QHash and `std::map` with string keys,
/// enums (as integers) and described structs. Specialise ValueTraits<T> for anything else.

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QString>

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

QT_BEGIN_NAMESPACE
class QJsonValue;
class QVariant;
QT_END_NAMESPACE

namespace Heliograph {
inline namespace Protocol {

/// How a C++ type converts to and from Value. A specialisation has two static functions:
/// `Value toValue(const T &)`, and `bool fromValue(const Value &, T &out, QString &error)`,
/// which returns false with a message in `error` when the Value does not fit. `Enable` is for
/// enable_if-constrained partial specialisations.
template<typename T, typename Enable = void> struct ValueTraits;

} // namespace Protocol
} // namespace Heliograph

namespace Heliograph::Detail {
HELIOGRAPH_PROTOCOL_EXPORT QString typeMismatch(const char *expected, const Value &got);
/// "value 300 is out of range for an unsigned 8-bit integer"
HELIOGRAPH_PROTOCOL_EXPORT QString outOfRange(const Value &got, size_t bytes, bool isSigned);
HELIOGRAPH_PROTOCOL_EXPORT QByteArray camelCase(const char *name);
HELIOGRAPH_PROTOCOL_EXPORT bool readBinary(const Value &v, QByteArray &out, QString &error);
HELIOGRAPH_PROTOCOL_EXPORT bool readDateTime(const Value &v, QDateTime &out, QString &error);
HELIOGRAPH_PROTOCOL_EXPORT bool readString(const Value &v, QString &out, QString &error);
HELIOGRAPH_PROTOCOL_EXPORT void prefixPath(QString &error, QByteArrayView key);
HELIOGRAPH_PROTOCOL_EXPORT void prefixIndex(QString &error, qsizetype index);

template<typename C, typename M> struct Field {
    QByteArray key;
    M C::*member;
};
template<typename C, typename M> Field<C, M> field(const char *name, M C::*member)
{
    return Field<C, M> {camelCase(name), member};
}
} // namespace Heliograph::Detail

namespace Heliograph {
inline namespace Protocol {

/// A struct described with HELIOGRAPH_DESCRIBE.
template<typename T>
concept Described = requires(const T *p)
{
    heliographFields(p);
};

/// A type with a usable ValueTraits specialisation.
template<typename T>
concept Convertible = requires(const T &t, const Value &v, T &out, QString &e)
{
    {
        ValueTraits<T>::toValue(t)
        } -> std::convertible_to<Value>;
    {
        ValueTraits<T>::fromValue(v, out, e)
        } -> std::same_as<bool>;
};

/// Converts through ValueTraits<T>.
template<typename T> Value toValue(const T &t)
{
    return ValueTraits<T>::toValue(t);
}

/// Converts with a message naming the path of the first mismatch (e.g. "items[2].title: ...").
template<typename T> Expected<T> fromValue(const Value &v)
{
    T out {};
    QString error;
    if (!ValueTraits<T>::fromValue(v, out, error))
        return ProtocolError {ProtocolErrorCode::ConversionFailed, error};
    return out;
}

/// Value itself: copied as is.
template<> struct ValueTraits<Value> {
    /// A copy of `v`.
    static Value toValue(const Value &v) { return v; }
    /// Copies `v` into `out`; never fails.
    static bool fromValue(const Value &v, Value &out, QString &) { return out = v, true; }
};

/// bool: a Bool.
template<> struct ValueTraits<bool> {
    /// A Bool.
    static Value toValue(bool b) { return Value(b); }
    /// Reads a Bool; any other type fails.
    static bool fromValue(const Value &v, bool &out, QString &error)
    {
        if (!v.isBool())
            return error = Detail::typeMismatch("Bool", v), false;
        out = v.toBool();
        return true;
    }
};

/// Integer types: an Integer (UnsignedInteger above INT64_MAX).
template<typename T>
struct ValueTraits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    /// An Integer or UnsignedInteger.
    static Value toValue(T t) { return Value(t); }
    /// Reads an integer, or an integral Double; a value outside T's range fails.
    static bool fromValue(const Value &v, T &out, QString &error)
    {
        bool ok = false;
        if constexpr (std::is_signed_v<T>) {
            const qint64 i = v.toInteger(&ok);
            if ((ok && (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max()))
                || v.type() == Value::Type::UnsignedInteger) { // above INT64_MAX
                error = Detail::outOfRange(v, sizeof(T), true);
                return false;
            }
            out = static_cast<T>(i);
        } else {
            const quint64 u = v.toUnsignedInteger(&ok);
            if (ok && u > std::numeric_limits<T>::max()) {
                error = Detail::outOfRange(v, sizeof(T), false);
                return false;
            }
            if (!ok && v.isInteger()) { // a negative number
                error = Detail::outOfRange(v, sizeof(T), false);
                return false;
            }
            out = static_cast<T>(u);
        }
        if (!ok)
            error = Detail::typeMismatch(std::is_signed_v<T> ? "Integer" : "UnsignedInteger", v);
        return ok;
    }
};

/// Floating-point types: a Double (float stays single precision: MessagePack float32).
template<typename T> struct ValueTraits<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    /// A Double.
    static Value toValue(T t)
    {
        if constexpr (std::is_same_v<T, float>)
            return Value::fromFloat(t);
        else
            return Value(static_cast<double>(t));
    }
    /// Reads any number (see Value::toDouble()).
    static bool fromValue(const Value &v, T &out, QString &error)
    {
        bool ok = false;
        out = static_cast<T>(v.toDouble(&ok));
        if (!ok)
            error = Detail::typeMismatch("Double", v);
        return ok;
    }
};

/// Enumerations: their underlying integer (as ASP.NET Core sends enums by default).
template<typename T> struct ValueTraits<T, std::enable_if_t<std::is_enum_v<T>>> {
    using U = std::underlying_type_t<T>; ///< the underlying integer type
    /// The underlying integer.
    static Value toValue(T t) { return Value(static_cast<U>(t)); }
    /// Reads an integer in the underlying type's range (not checked against the enumerators).
    static bool fromValue(const Value &v, T &out, QString &error)
    {
        U u {};
        if (!ValueTraits<U>::fromValue(v, u, error))
            return false;
        out = static_cast<T>(u);
        return true;
    }
};

/// QString: a String.
template<> struct ValueTraits<QString> {
    /// A String.
    static Value toValue(const QString &s) { return Value(s); }
    /// Reads a String (a Null gives a null QString).
    static bool fromValue(const Value &v, QString &out, QString &error)
    {
        return Detail::readString(v, out, error);
    }
};

/// std::string: a String; the bytes are taken as UTF-8.
template<> struct ValueTraits<std::string> {
    /// A String of the bytes.
    static Value toValue(const std::string &s)
    {
        return Value::fromUtf8(QByteArray(s.data(), qsizetype(s.size())));
    }
    /// Reads a String's UTF-8 bytes.
    static bool fromValue(const Value &v, std::string &out, QString &error)
    {
        if (!v.isString())
            return error = Detail::typeMismatch("String", v), false;
        out.assign(v.bytes().constData(), size_t(v.bytes().size()));
        return true;
    }
};

/// QByteArray is binary (MessagePack bin, base64 in JSON). Use QString for text.
template<> struct ValueTraits<QByteArray> {
    /// A Binary.
    static Value toValue(const QByteArray &b) { return Value::fromBinary(b); }
    /// Reads a Binary, or a base64 String (how JSON carries binary).
    static bool fromValue(const Value &v, QByteArray &out, QString &error)
    {
        return Detail::readBinary(v, out, error);
    }
};

/// QDateTime: a Timestamp (an invalid QDateTime is a Null).
template<> struct ValueTraits<QDateTime> {
    /// A Timestamp, or a Null for an invalid date-time.
    static Value toValue(const QDateTime &d) { return Value(d); }
    /// Reads a Timestamp or an ISO 8601 String (how JSON carries them).
    static bool fromValue(const Value &v, QDateTime &out, QString &error)
    {
        return Detail::readDateTime(v, out, error);
    }
};

/// QVariant: see Value::fromVariant() and Value::toVariant().
template<> struct HELIOGRAPH_PROTOCOL_EXPORT ValueTraits<QVariant> {
    /// Value::fromVariant().
    static Value toValue(const QVariant &v);
    /// Value::toVariant(); never fails.
    static bool fromValue(const Value &v, QVariant &out, QString &error);
};

/// QJsonValue: see Value::fromJsonValue() and Value::toJsonValue().
template<> struct HELIOGRAPH_PROTOCOL_EXPORT ValueTraits<QJsonValue> {
    /// Value::fromJsonValue().
    static Value toValue(const QJsonValue &v);
    /// Value::toJsonValue(); never fails.
    static bool fromValue(const Value &v, QJsonValue &out, QString &error);
};

/// std::optional: std::nullopt is a Null.
template<typename T> struct ValueTraits<std::optional<T>> {
    /// The contained value's conversion, or a Null.
    static Value toValue(const std::optional<T> &o)
    {
        return o ? ValueTraits<T>::toValue(*o) : Value();
    }
    /// A Null gives std::nullopt; anything else converts as T.
    static bool fromValue(const Value &v, std::optional<T> &out, QString &error)
    {
        if (v.isNull())
            return out.reset(), true;
        T t {};
        if (!ValueTraits<T>::fromValue(v, t, error))
            return false;
        out = std::move(t);
        return true;
    }
};

} // namespace Protocol
} // namespace Heliograph

namespace Heliograph::Detail {
template<typename Seq> struct SequenceTraits {
    using T = typename Seq::value_type;
    static Value toValue(const Seq &s)
    {
        ValueList list;
        list.reserve(qsizetype(s.size()));
        for (const auto &e : s)
            list.append(ValueTraits<T>::toValue(e));
        return Value(std::move(list));
    }
    static bool fromValue(const Value &v, Seq &out, QString &error)
    {
        if (!v.isArray())
            return error = typeMismatch("Array", v), false;
        out.clear();
        out.reserve(typename Seq::size_type(v.array().size()));
        qsizetype i = 0;
        for (const Value &e : v.array()) {
            T t {};
            if (!ValueTraits<T>::fromValue(e, t, error))
                return prefixIndex(error, i), false;
            out.push_back(std::move(t));
            ++i;
        }
        return true;
    }
};

template<typename M, typename K> QByteArray keyBytes(const K &k)
{
    if constexpr (std::is_same_v<K, QString>)
        return k.toUtf8();
    else if constexpr (std::is_same_v<K, std::string>)
        return QByteArray(k.data(), qsizetype(k.size()));
    else
        return QByteArray(k);
}

template<typename M> struct StringMapTraits {
    using K = typename M::key_type;
    using T = typename M::mapped_type;
    static Value toValue(const M &m)
    {
        ValueMap map;
        map.reserve(qsizetype(m.size()));
        if constexpr (requires { m.asKeyValueRange(); }) {
            for (const auto &[k, e] : m.asKeyValueRange())
                map.append({Value::fromUtf8(keyBytes<M>(k)), ValueTraits<T>::toValue(e)});
        } else {
            for (const auto &[k, e] : m)
                map.append({Value::fromUtf8(keyBytes<M>(k)), ValueTraits<T>::toValue(e)});
        }
        return Value(std::move(map));
    }
    static bool fromValue(const Value &v, M &out, QString &error)
    {
        if (!v.isMap())
            return error = typeMismatch("Map", v), false;
        out.clear();
        for (const MapEntry &e : v.map()) {
            if (!e.key.isString())
                return error = typeMismatch("String key", e.key), false;
            T t {};
            if (!ValueTraits<T>::fromValue(e.value, t, error))
                return prefixPath(error, e.key.utf8()), false;
            if constexpr (std::is_same_v<K, QString>)
                out.insert(QString::fromUtf8(e.key.bytes()), std::move(t));
            else
                out.insert_or_assign(K(e.key.bytes().constData(), size_t(e.key.bytes().size())),
                                     std::move(t));
        }
        return true;
    }
};
} // namespace Heliograph::Detail

namespace Heliograph {
inline namespace Protocol {

/// QList: an Array; errors name the index of the first element that does not convert.
template<typename T> struct ValueTraits<QList<T>> : Detail::SequenceTraits<QList<T>> { };
/// `std::vector`: an Array, as QList.
template<typename T>
struct ValueTraits<std::vector<T>> : Detail::SequenceTraits<std::vector<T>> { };
/// QMap with QString keys: a Map with String keys, in key order.
template<typename T>
struct ValueTraits<QMap<QString, T>> : Detail::StringMapTraits<QMap<QString, T>> { };
/// QHash with QString keys: a Map with String keys, in the hash's order.
template<typename T>
struct ValueTraits<QHash<QString, T>> : Detail::StringMapTraits<QHash<QString, T>> { };
/// `std::map` with `std::string` keys: a Map with String keys, in key order.
template<typename T>
struct ValueTraits<std::map<std::string, T>> : Detail::StringMapTraits<std::map<std::string, T>> {
};

/// Structs described with HELIOGRAPH_DESCRIBE: maps keyed by camelCase member names.
template<Described S> struct ValueTraits<S> {
    /// A struct Map (Value::fromStructMap()) with the members in their described order, keyed
    /// by camelCase names.
    static Value toValue(const S &s)
    {
        const auto &fields = heliographFields(static_cast<const S *>(nullptr));
        ValueMap map;
        map.reserve(qsizetype(std::tuple_size_v<std::decay_t<decltype(fields)>>));
        std::apply(
            [&](const auto &...f) {
                (map.append({Value::fromUtf8(f.key), Heliograph::toValue(s.*(f.member))}), ...);
            },
            fields);
        return Value::fromStructMap(std::move(map));
    }
    /// Reads a Map: keys match member names ignoring case, missing keys leave the member as
    /// it is, unknown keys are ignored; the error names the path of the first mismatch.
    static bool fromValue(const Value &v, S &out, QString &error)
    {
        if (!v.isMap())
            return error = Detail::typeMismatch("Map", v), false;
        const auto &fields = heliographFields(static_cast<const S *>(nullptr));
        bool ok = true;
        auto one = [&](const auto &f) {
            if (!ok)
                return;
            const Value *e = v.find(f.key, Qt::CaseInsensitive);
            if (!e)
                return;
            using M = std::remove_cvref_t<decltype(out.*(f.member))>;
            if (!ValueTraits<M>::fromValue(*e, out.*(f.member), error)) {
                Detail::prefixPath(error, f.key);
                ok = false;
            }
        };
        std::apply([&](const auto &...f) { (one(f), ...); }, fields);
        return ok;
    }
};

} // namespace Protocol
} // namespace Heliograph

// --- HELIOGRAPH_DESCRIBE -------------------------------------------------------------------
#define HELIOGRAPH_DETAIL_PARENS ()
#define HELIOGRAPH_DETAIL_EXPAND(...)                                                              \
    HELIOGRAPH_DETAIL_EXPAND3(HELIOGRAPH_DETAIL_EXPAND3(HELIOGRAPH_DETAIL_EXPAND3(__VA_ARGS__)))
#define HELIOGRAPH_DETAIL_EXPAND3(...)                                                             \
    HELIOGRAPH_DETAIL_EXPAND2(HELIOGRAPH_DETAIL_EXPAND2(HELIOGRAPH_DETAIL_EXPAND2(__VA_ARGS__)))
#define HELIOGRAPH_DETAIL_EXPAND2(...)                                                             \
    HELIOGRAPH_DETAIL_EXPAND1(HELIOGRAPH_DETAIL_EXPAND1(HELIOGRAPH_DETAIL_EXPAND1(__VA_ARGS__)))
#define HELIOGRAPH_DETAIL_EXPAND1(...) __VA_ARGS__
#define HELIOGRAPH_DETAIL_FIELDS(...)                                                              \
    __VA_OPT__(HELIOGRAPH_DETAIL_EXPAND(HELIOGRAPH_DETAIL_FIELDS_STEP(__VA_ARGS__)))
#define HELIOGRAPH_DETAIL_FIELDS_STEP(member, ...)                                                 \
    ::Heliograph::Detail::field(#member, &HeliographSelf::member)                                  \
        __VA_OPT__(, HELIOGRAPH_DETAIL_FIELDS_AGAIN HELIOGRAPH_DETAIL_PARENS(__VA_ARGS__))
#define HELIOGRAPH_DETAIL_FIELDS_AGAIN() HELIOGRAPH_DETAIL_FIELDS_STEP

/// Describes a struct's members for toValue()/fromValue(). Use at namespace scope, in the
/// struct's own namespace. Up to 27 members.
#define HELIOGRAPH_DESCRIBE(Type, ...)                                                             \
    [[maybe_unused]] inline const auto &heliographFields(const Type *)                             \
    {                                                                                              \
        using HeliographSelf = Type;                                                               \
        static const auto fields = std::make_tuple(HELIOGRAPH_DETAIL_FIELDS(__VA_ARGS__));         \
        return fields;                                                                             \
    }
