// SPDX-License-Identifier: MIT
#include "jsvalue_p.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDateTime>
#include <QtCore/QVariant>
#include <QtQml/QJSEngine>
#include <QtQml/QJSValueIterator>

#include <cmath>

namespace Heliograph::Qml {
namespace {

constexpr int MaxDepth = 64;
constexpr double MaxSafeInteger = 9007199254740992.0; // 2^53

/// The bytes of an ArrayBuffer, or of the range a typed array or DataView covers.
std::optional<QByteArray> binaryOf(const QJSValue &v)
{
    const QVariant direct = v.toVariant(QJSValue::RetainJSObjects);
    if (direct.typeId() == QMetaType::QByteArray)
        return direct.toByteArray();
    const QJSValue buffer = v.property(QStringLiteral("buffer"));
    if (!buffer.isObject())
        return std::nullopt;
    const QJSValue offset = v.property(QStringLiteral("byteOffset"));
    const QJSValue length = v.property(QStringLiteral("byteLength"));
    if (!offset.isNumber() || !length.isNumber())
        return std::nullopt;
    const QVariant bytes = buffer.toVariant(QJSValue::RetainJSObjects);
    if (bytes.typeId() != QMetaType::QByteArray)
        return std::nullopt;
    const QByteArray all = bytes.toByteArray();
    const qsizetype from = qsizetype(offset.toNumber());
    const qsizetype size = qsizetype(length.toNumber());
    if (from < 0 || size < 0 || from + size > all.size())
        return std::nullopt;
    return all.mid(from, size);
}

Value fromScript(const QJSValue &v, int depth)
{
    if (depth > MaxDepth || v.isUndefined() || v.isNull() || v.isCallable())
        return {};
    if (v.isBool())
        return Value(v.toBool());
    if (v.isNumber()) {
        const double d = v.toNumber();
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= MaxSafeInteger)
            return Value(static_cast<qint64>(d));
        return Value(d);
    }
    if (v.isString() || v.isUrl() || v.isRegExp())
        return Value(v.toString());
    if (v.isDate())
        return Value(v.toDateTime());
    if (v.isVariant())
        return Value::fromVariant(v.toVariant());
    if (v.isQObject() || v.isError())
        return Value(v.toString());
    if (v.isArray()) {
        const int length = v.property(QStringLiteral("length")).toInt();
        ValueList list;
        list.reserve(length);
        for (int i = 0; i < length; ++i)
            list.append(fromScript(v.property(quint32(i)), depth + 1));
        return Value(std::move(list));
    }
    if (!v.isObject())
        return {};
    if (auto bytes = binaryOf(v))
        return Value::fromBinary(std::move(*bytes));
    ValueMap map;
    QJSValueIterator it(v);
    while (it.hasNext()) {
        it.next();
        const QJSValue member = it.value();
        if (member.isCallable() || member.isUndefined())
            continue; // as JSON.stringify does
        map.append({Value(it.name()), fromScript(member, depth + 1)});
    }
    return Value(std::move(map));
}

} // namespace

QJSValue toScriptValue(QJSEngine *engine, const Value &value)
{
    switch (value.type()) {
    case Value::Type::Null:
        return QJSValue(QJSValue::NullValue);
    case Value::Type::Bool:
        return QJSValue(value.toBool());
    case Value::Type::Integer:
    case Value::Type::UnsignedInteger:
    case Value::Type::Double:
        return QJSValue(value.toDouble());
    case Value::Type::String:
        return QJSValue(value.toString());
    case Value::Type::Binary:
    case Value::Type::Extension:
        return engine->toScriptValue(value.bytes());
    case Value::Type::Timestamp:
        return engine->toScriptValue(value.toDateTime());
    case Value::Type::Array: {
        const ValueList &items = value.array();
        QJSValue array = engine->newArray(quint32(items.size()));
        for (qsizetype i = 0; i < items.size(); ++i)
            array.setProperty(quint32(i), toScriptValue(engine, items.at(i)));
        return array;
    }
    case Value::Type::Map: {
        QJSValue object = engine->newObject();
        for (const MapEntry &e : value.map()) {
            const QString key
                = e.key.isString() ? e.key.toString() : QString::fromUtf8(Json::serialize(e.key));
            object.setProperty(key, toScriptValue(engine, e.value));
        }
        return object;
    }
    }
    return QJSValue(QJSValue::NullValue);
}

QJSValueList toScriptValues(QJSEngine *engine, const ValueList &values)
{
    QJSValueList out;
    out.reserve(values.size());
    for (const Value &v : values)
        out.append(toScriptValue(engine, v));
    return out;
}

Value fromScriptValue(const QJSValue &value)
{
    return fromScript(value, 0);
}

} // namespace Heliograph::Qml
