// SPDX-License-Identifier: MIT
// Heliograph::Value <-> JavaScript values, for the QML module.
//
//   Value                         JavaScript
//   Null                          null (undefined and functions become Null)
//   Bool                          boolean
//   Integer, UnsignedInteger      number (exact up to 2^53, as in every JavaScript client)
//   Double                        number
//   String                        string
//   Binary, Extension             ArrayBuffer (typed arrays and DataView are read as binary)
//   Timestamp                     Date (millisecond precision)
//   Array                         Array
//   Map                           Object (non-string keys as their JSON text)
//
// A JavaScript number that is integral and within +-2^53 becomes an Integer, any other a
// Double, so hub methods with integer parameters bind them on both protocols.
#pragma once

#include <heliograph/protocol/value.h>

#include <QtQml/QJSValue>

QT_BEGIN_NAMESPACE
class QJSEngine;
QT_END_NAMESPACE

namespace Heliograph::Qml {

/// `engine` must not be null.
QJSValue toScriptValue(QJSEngine *engine, const Value &value);
QJSValueList toScriptValues(QJSEngine *engine, const ValueList &values);
/// Nesting deeper than 64 levels (a cycle) is cut off as Null.
Value fromScriptValue(const QJSValue &value);

} // namespace Heliograph::Qml
