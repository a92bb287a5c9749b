// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// JSON text to and from Value, with the strict reader the JSON hub protocol uses.

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

/// JSON text to and from Value (RFC 8259; integers exact, strings kept as UTF-8).
namespace Heliograph {
inline namespace Protocol {
namespace Json {

/// Parses one JSON document (RFC 8259, UTF-8) into a Value: integers stay int64 (uint64 above
/// INT64_MAX), strings stay UTF-8, invalid UTF-8 and nesting deeper than `maxDepth` are errors.
HELIOGRAPH_PROTOCOL_EXPORT Expected<Value> parse(QByteArrayView json, int maxDepth = 64);

/// Compact JSON text of a Value (binary as base64, timestamps as ISO 8601 strings).
HELIOGRAPH_PROTOCOL_EXPORT QByteArray serialize(const Value &value);

} // namespace Json
} // namespace Protocol
} // namespace Heliograph
