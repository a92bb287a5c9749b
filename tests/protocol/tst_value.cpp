// SPDX-License-Identifier: MIT
// Value semantics, QVariant/QJsonValue conversion, and DTO conversion with convert.h (alone and
// through both hub protocols).
#include "testutil.h"

#include <heliograph/protocol/convert.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QTimeZone>
#include <QtCore/QUrl>
#include <QtCore/QVariant>
#include <QtTest/QTest>

#include <cmath>
#include <limits>

using namespace Heliograph;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Heliograph::Value::Type)

namespace {

struct Notification {
    QString id;
    QString title;
    QString body;
    QString type;
    QDateTime createdAt;
    qint64 sequence = 0;
    friend bool operator==(const Notification &, const Notification &) = default;
};
HELIOGRAPH_DESCRIBE(Notification, id, title, body, type, createdAt, sequence)

struct Feed {
    QString name;
    QList<Notification> items;
};
HELIOGRAPH_DESCRIBE(Feed, name, items)

enum class Priority : qint16 { Low = -1, Normal = 0, High = 7 };

struct Everything {
    Notification main;
    std::optional<Notification> extra;
    std::optional<QString> note;
    std::vector<qint64> ids;
    QList<QList<int>> matrix;
    QMap<QString, Notification> byId;
    QByteArray blob;
    quint8 small = 0;
    double ratio = 0;
    float single = 0;
    bool flag = false;
    Priority priority = Priority::Normal;
    std::string utf8;
    Value raw;
    friend bool operator==(const Everything &, const Everything &) = default;
};
HELIOGRAPH_DESCRIBE(Everything, main, extra, note, ids, matrix, byId, blob, small, ratio, single,
                    flag, priority, utf8, raw)

Notification sample(int i = 1)
{
    return {u"n-%1"_s.arg(i),
            u"Title %1 – ünïcødé"_s.arg(i),
            u"Body with \"quotes\" and\nnewline"_s,
            u"info"_s,
            QDateTime(QDate(2024, 1, 1), QTime(12, 34, 56, 789), QTimeZone::utc()).addDays(i),
            1000 + i};
}

Everything sampleEverything()
{
    Everything e;
    e.main = sample(1);
    e.extra = sample(2);
    e.ids = {std::numeric_limits<qint64>::min(), 0, std::numeric_limits<qint64>::max()};
    e.matrix = {{1, 2}, {}, {-3}};
    e.byId = {{u"a"_s, sample(3)}, {u"b"_s, sample(4)}};
    e.blob = QByteArray("\x00\x01\xfe\xff binary", 11);
    e.small = 255;
    e.ratio = 0.1;
    e.single = 0.5f;
    e.flag = true;
    e.priority = Priority::High;
    e.utf8 = "std \xe2\x82\xac";
    e.raw = Value(ValueList {1, "two", Value()});
    return e;
}

/// Sends a value as the single argument of an invocation and returns what the peer reads.
Value throughProtocol(const HubProtocol &p, const Value &v)
{
    const QByteArray bytes = p.serialize(invocation("1", "Send", {v}));
    auto decoded = parseOne(p, bytes);
    if (!decoded)
        return Value(u"decode error: "_s + decoded.error().message);
    return std::get<InvocationMessage>(*decoded).arguments.value(0);
}

template<typename T> QString conversionError(const Value &v)
{
    auto r = fromValue<T>(v);
    if (r)
        return QString();
    if (r.error().code != ProtocolErrorCode::ConversionFailed)
        return u"wrong code"_s;
    return r.error().message;
}

} // namespace

class tst_Value : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // Value
    void types_data();
    void types();
    void equality_data();
    void equality();
    void copyOnWrite();
    void integers_data();
    void integers();
    void doubles();
    void mapAccess();
    void iso8601_data();
    void iso8601();
    void dateTimes_data();
    void dateTimes();
    void fromVariant_data();
    void fromVariant();
    void toVariant_data();
    void toVariant();
    void jsonValue_data();
    void jsonValue();

    // convert.h
    void dtoToValue();
    void dtoRoundTrip_data();
    void dtoRoundTrip();
    void dtoCaseInsensitive();
    void dtoMissingAndNull();
    void dtoErrors_data();
    void dtoErrors();
    void integerRanges_data();
    void integerRanges();
    void binaryFromJson();
    void containers();
};

// --- Value ----------------------------------------------------------------------------------

void tst_Value::types_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<Value::Type>("type");
    QTest::addColumn<qsizetype>("size");

    QTest::newRow("default") << Value() << Value::Type::Null << qsizetype(0);
    QTest::newRow("nullptr") << Value(nullptr) << Value::Type::Null << qsizetype(0);
    QTest::newRow("bool") << Value(false) << Value::Type::Bool << qsizetype(0);
    QTest::newRow("int") << Value(42) << Value::Type::Integer << qsizetype(0);
    QTest::newRow("short") << Value(short(-5)) << Value::Type::Integer << qsizetype(0);
    QTest::newRow("uint") << Value(42u) << Value::Type::Integer << qsizetype(0);
    QTest::newRow("uint64 small") << Value(quint64(42)) << Value::Type::Integer << qsizetype(0);
    QTest::newRow("uint64 INT64_MAX") << Value(quint64(std::numeric_limits<qint64>::max()))
                                      << Value::Type::Integer << qsizetype(0);
    QTest::newRow("uint64 above INT64_MAX")
        << Value(quint64(std::numeric_limits<qint64>::max()) + 1) << Value::Type::UnsignedInteger
        << qsizetype(0);
    QTest::newRow("double") << Value(1.5) << Value::Type::Double << qsizetype(0);
    QTest::newRow("float") << Value::fromFloat(1.5f) << Value::Type::Double << qsizetype(0);
    QTest::newRow("const char*") << Value("héllo") << Value::Type::String << qsizetype(6);
    QTest::newRow("QString") << Value(u"héllo"_s) << Value::Type::String << qsizetype(6);
    QTest::newRow("QStringView") << Value(QStringView(u"ab")) << Value::Type::String
                                 << qsizetype(2);
    QTest::newRow("QLatin1StringView") << Value("h\xe9"_L1) << Value::Type::String << qsizetype(3);
    QTest::newRow("fromUtf8") << Value::fromUtf8(QByteArray("x")) << Value::Type::String
                              << qsizetype(1);
    QTest::newRow("binary") << Value::fromBinary(QByteArray(3, '\0')) << Value::Type::Binary
                            << qsizetype(3);
    QTest::newRow("array") << Value(ValueList {1, 2}) << Value::Type::Array << qsizetype(2);
    QTest::newRow("map") << Value(ValueMap {{"a", 1}}) << Value::Type::Map << qsizetype(1);
    QTest::newRow("timestamp") << Value::fromTimestamp(1) << Value::Type::Timestamp << qsizetype(0);
    QTest::newRow("QDateTime") << Value(QDateTime::fromSecsSinceEpoch(0, QTimeZone::utc()))
                               << Value::Type::Timestamp << qsizetype(0);
    QTest::newRow("invalid QDateTime") << Value(QDateTime()) << Value::Type::Null << qsizetype(0);
    QTest::newRow("extension") << Value::fromExtension(3, "ab") << Value::Type::Extension
                               << qsizetype(2);
}

void tst_Value::types()
{
    QFETCH(Value, value);
    QFETCH(Value::Type, type);
    QFETCH(qsizetype, size);

    QCOMPARE(value.type(), type);
    QCOMPARE(value.size(), size);
    QCOMPARE(value.isNull(), type == Value::Type::Null);
    QCOMPARE(value.isBool(), type == Value::Type::Bool);
    QCOMPARE(value.isInteger(),
             type == Value::Type::Integer || type == Value::Type::UnsignedInteger);
    QCOMPARE(value.isDouble(), type == Value::Type::Double);
    QCOMPARE(value.isNumber(), value.isInteger() || value.isDouble());
    QCOMPARE(value.isString(), type == Value::Type::String);
    QCOMPARE(value.isBinary(), type == Value::Type::Binary);
    QCOMPARE(value.isArray(), type == Value::Type::Array);
    QCOMPARE(value.isMap(), type == Value::Type::Map);
    QCOMPARE(value.isTimestamp(), type == Value::Type::Timestamp);
    QCOMPARE(value.isSinglePrecision(), QByteArrayView(QTest::currentDataTag()) == "float");
    // Accessors of other types give neutral results rather than garbage.
    if (!value.isArray())
        QVERIFY(value.array().isEmpty());
    if (!value.isMap())
        QVERIFY(value.map().isEmpty());
    if (!value.isString())
        QVERIFY(value.toString().isNull());
    QVERIFY(value[0].isNull() || value.isArray());
    QVERIFY(value["a"].isNull() || value.isMap());
    if (!value.isBool())
        QCOMPARE(value.toBool(true), true);
    if (value.type() == Value::Type::Extension)
        QCOMPARE(value.extensionType(), qint8(3));
}

void tst_Value::equality_data()
{
    QTest::addColumn<Value>("a");
    QTest::addColumn<Value>("b");
    QTest::addColumn<bool>("equal");

    const double nan = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("null") << Value() << Value(nullptr) << true;
    QTest::newRow("null vs false") << Value() << Value(false) << false;
    QTest::newRow("0 vs false") << Value(0) << Value(false) << false;
    QTest::newRow("1 vs 1.0") << Value(1) << Value(1.0) << false;
    QTest::newRow("int widths") << Value(qint8(5)) << Value(quint64(5)) << true;
    QTest::newRow("int64 min vs uint64 2^63")
        << Value(std::numeric_limits<qint64>::min()) << Value(quint64(1) << 63) << false;
    QTest::newRow("uint64") << Value(std::numeric_limits<quint64>::max())
                            << Value(std::numeric_limits<quint64>::max()) << true;
    QTest::newRow("NaN") << Value(nan) << Value(nan) << true;
    QTest::newRow("NaN vs 0") << Value(nan) << Value(0.0) << false;
    QTest::newRow("+0 vs -0") << Value(0.0) << Value(-0.0) << true;
    QTest::newRow("float vs double same value") << Value::fromFloat(0.5f) << Value(0.5) << true;
    QTest::newRow("string vs binary") << Value("ab") << Value::fromBinary("ab") << false;
    QTest::newRow("string") << Value(u"ä"_s) << Value::fromUtf8(QByteArray("\xc3\xa4")) << true;
    QTest::newRow("string vs ISO timestamp")
        << Value("1970-01-01T00:00:00Z") << Value::fromTimestamp(0) << false;
    QTest::newRow("timestamp nanos")
        << Value::fromTimestamp(1, 1) << Value::fromTimestamp(1, 2) << false;
    QTest::newRow("timestamp normalized")
        << Value::fromTimestamp(1, 1500000000) << Value::fromTimestamp(2, 500000000) << true;
    QTest::newRow("extension type")
        << Value::fromExtension(1, "a") << Value::fromExtension(2, "a") << false;
    QTest::newRow("arrays") << Value(ValueList {1, "a", ValueList {Value()}})
                            << Value(ValueList {1, "a", ValueList {Value()}}) << true;
    QTest::newRow("array order") << Value(ValueList {1, 2}) << Value(ValueList {2, 1}) << false;
    QTest::newRow("empty array vs null") << Value(ValueList {}) << Value() << false;
    QTest::newRow("empty array vs empty map") << Value(ValueList {}) << Value(ValueMap {}) << false;
    QTest::newRow("maps keep order")
        << Value(ValueMap {{"a", 1}, {"b", 2}}) << Value(ValueMap {{"b", 2}, {"a", 1}}) << false;
    QTest::newRow("map key types")
        << Value(ValueMap {{1, 1}}) << Value(ValueMap {{"1", 1}}) << false;
}

void tst_Value::equality()
{
    QFETCH(Value, a);
    QFETCH(Value, b);
    QFETCH(bool, equal);

    QCOMPARE(a == b, equal);
    QCOMPARE(b == a, equal);
    QCOMPARE(a != b, !equal);
    QVERIFY(a == a);
    const Value copy = a;
    QVERIFY(copy == a);
}

void tst_Value::copyOnWrite()
{
    // Arrays
    Value a(ValueList {1, 2});
    Value b = a;
    QCOMPARE(&a.array(), &b.array()); // shared
    b.asArray().append(3);
    QCOMPARE(a.size(), 2);
    QCOMPARE(b.size(), 3);
    QCOMPARE(a, Value(ValueList {1, 2}));
    QCOMPARE(b, Value(ValueList {1, 2, 3}));
    // Unshared storage is modified in place.
    const ValueList *storage = &b.array();
    b.asArray()[0] = Value("x");
    QCOMPARE(&b.array(), storage);
    QCOMPARE(b[0], Value("x"));

    // Nested: detaching the outer level leaves the inner shared value intact.
    Value outer(ValueList {a});
    Value outerCopy = outer;
    outerCopy.asArray()[0].asArray().append(99);
    QCOMPARE(outer[0], Value(ValueList {1, 2}));
    QCOMPARE(outerCopy[0], Value(ValueList {1, 2, 99}));
    QCOMPARE(a, Value(ValueList {1, 2}));

    // Maps
    Value m(ValueMap {{"k", 1}});
    Value n = m;
    n.insert("k", 2);
    n.insert("l", 3);
    QCOMPARE(m["k"], Value(1));
    QCOMPARE(m.size(), 1);
    QCOMPARE(n["k"], Value(2));
    QCOMPARE(n.size(), 2);

    // Strings share bytes.
    const Value s = Value::fromUtf8(QByteArray(1000, 's'));
    const Value t = s;
    QVERIFY(s.bytes().isSharedWith(t.bytes()));

    // asArray()/asMap() turn other types into empty containers.
    Value v;
    v.asArray().append(1);
    QCOMPARE(v, Value(ValueList {1}));
    Value w = 5;
    w.asMap().append({"a", 1});
    QCOMPARE(w, Value(ValueMap {{"a", 1}}));
}

void tst_Value::integers_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<bool>("signedOk");
    QTest::addColumn<qint64>("signedValue");
    QTest::addColumn<bool>("unsignedOk");
    QTest::addColumn<quint64>("unsignedValue");

    constexpr qint64 min = std::numeric_limits<qint64>::min();
    constexpr qint64 max = std::numeric_limits<qint64>::max();
    constexpr quint64 umax = std::numeric_limits<quint64>::max();
    QTest::newRow("0") << Value(0) << true << qint64(0) << true << quint64(0);
    QTest::newRow("-1") << Value(-1) << true << qint64(-1) << false << quint64(0);
    QTest::newRow("int64 min") << Value(min) << true << min << false << quint64(0);
    QTest::newRow("int64 max") << Value(max) << true << max << true << quint64(max);
    QTest::newRow("2^63") << Value(quint64(max) + 1) << false << qint64(0) << true
                          << quint64(max) + 1;
    QTest::newRow("uint64 max") << Value(umax) << false << qint64(0) << true << umax;
    QTest::newRow("42.0") << Value(42.0) << true << qint64(42) << true << quint64(42);
    QTest::newRow("-42.0") << Value(-42.0) << true << qint64(-42) << false << quint64(0);
    QTest::newRow("42.5") << Value(42.5) << false << qint64(0) << false << quint64(0);
    QTest::newRow("-2^63 as double")
        << Value(-9223372036854775808.0) << true << min << false << quint64(0);
    QTest::newRow("2^63 as double")
        << Value(9223372036854775808.0) << false << qint64(0) << true << (quint64(1) << 63);
    QTest::newRow("2^64 as double")
        << Value(18446744073709551616.0) << false << qint64(0) << false << quint64(0);
    QTest::newRow("1e300") << Value(1e300) << false << qint64(0) << false << quint64(0);
    QTest::newRow("NaN") << Value(std::nan("")) << false << qint64(0) << false << quint64(0);
    QTest::newRow("inf") << Value(std::numeric_limits<double>::infinity()) << false << qint64(0)
                         << false << quint64(0);
    QTest::newRow("float 3.0f") << Value::fromFloat(3.0f) << true << qint64(3) << true
                                << quint64(3);
    QTest::newRow("string \"5\"") << Value("5") << false << qint64(0) << false << quint64(0);
    QTest::newRow("bool") << Value(true) << false << qint64(0) << false << quint64(0);
    QTest::newRow("null") << Value() << false << qint64(0) << false << quint64(0);
}

void tst_Value::integers()
{
    QFETCH(Value, value);
    QFETCH(bool, signedOk);
    QFETCH(qint64, signedValue);
    QFETCH(bool, unsignedOk);
    QFETCH(quint64, unsignedValue);

    bool ok = !signedOk;
    const qint64 i = value.toInteger(&ok);
    QCOMPARE(ok, signedOk);
    if (ok)
        QCOMPARE(i, signedValue);
    ok = !unsignedOk;
    const quint64 u = value.toUnsignedInteger(&ok);
    QCOMPARE(ok, unsignedOk);
    if (ok)
        QCOMPARE(u, unsignedValue);
    QCOMPARE(value.toInteger(), signedOk ? signedValue : 0); // no ok pointer needed
}

void tst_Value::doubles()
{
    bool ok = false;
    QCOMPARE(Value(2.5).toDouble(&ok), 2.5);
    QVERIFY(ok);
    QCOMPARE(Value(-7).toDouble(&ok), -7.0);
    QVERIFY(ok);
    QCOMPARE(Value(std::numeric_limits<quint64>::max()).toDouble(&ok), 18446744073709551616.0);
    QVERIFY(ok);
    QCOMPARE(Value::fromFloat(0.1f).toDouble(), double(0.1f));
    // JSON carries non-finite doubles as strings; they convert back.
    QVERIFY(std::isnan(Value("NaN").toDouble(&ok)));
    QVERIFY(ok);
    QCOMPARE(Value("Infinity").toDouble(&ok), std::numeric_limits<double>::infinity());
    QVERIFY(ok);
    QCOMPARE(Value("-Infinity").toDouble(&ok), -std::numeric_limits<double>::infinity());
    QVERIFY(ok);
    Value("1.5").toDouble(&ok);
    QVERIFY(!ok);
    Value(true).toDouble(&ok);
    QVERIFY(!ok);
    Value().toDouble(&ok);
    QVERIFY(!ok);
}

void tst_Value::mapAccess()
{
    Value m(ValueMap {{"Name", "a"}, {1, "int key"}, {"name", "b"}, {"x", Value()}});
    QCOMPARE(m["Name"], Value("a"));
    QCOMPARE(m["name"], Value("b"));
    QVERIFY(m["NAME"].isNull());
    QVERIFY(m["missing"].isNull());
    QVERIFY(m.find("missing") == nullptr);
    QVERIFY(m.find("x") != nullptr); // present with a null value
    QVERIFY(m.find("x")->isNull());
    QCOMPARE(*m.find("NAME", Qt::CaseInsensitive), Value("a")); // first match
    QVERIFY(m.find("1") == nullptr); // non-string keys are not found by string
    QCOMPARE(&m["missing"], &Value::null());

    m.insert(1, "replaced");
    QCOMPARE(m.size(), 4);
    QCOMPARE(m.map()[1].value, Value("replaced"));
    m.insert("new", 5);
    QCOMPARE(m.map().last().key, Value("new"));

    const Value list(ValueList {10, 20});
    QCOMPARE(list[1], Value(20));
    QVERIFY(list[2].isNull());
    QVERIFY(list[-1].isNull());
    QVERIFY(list.find("a") == nullptr);
}

void tst_Value::iso8601_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QDateTime>("utc");
    QTest::addColumn<quint32>("nanos");

    auto utc = [](int y, int mo, int d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
        return QDateTime(QDate(y, mo, d), QTime(h, mi, s, ms), QTimeZone::utc());
    };
    QTest::newRow("Z") << QByteArray("2024-01-01T00:00:00Z") << true << utc(2024, 1, 1) << 0u;
    QTest::newRow("lowercase z and t")
        << QByteArray("2024-01-01t10:20:30z") << true << utc(2024, 1, 1, 10, 20, 30) << 0u;
    QTest::newRow("space separator")
        << QByteArray("2024-01-01 10:20:30Z") << true << utc(2024, 1, 1, 10, 20, 30) << 0u;
    QTest::newRow("no offset = UTC")
        << QByteArray("2024-06-30T23:59:59") << true << utc(2024, 6, 30, 23, 59, 59) << 0u;
    QTest::newRow("date only") << QByteArray("2024-02-29") << true << utc(2024, 2, 29) << 0u;
    QTest::newRow("no seconds") << QByteArray("2024-01-01T10:20Z") << true
                                << utc(2024, 1, 1, 10, 20) << 0u;
    QTest::newRow(".NET DateTimeOffset +12:34")
        << QByteArray("2016-05-10T13:51:20+12:34") << true << utc(2016, 5, 10, 1, 17, 20) << 0u;
    QTest::newRow("negative offset crossing midnight")
        << QByteArray("2023-12-31T22:00:00-05:00") << true << utc(2024, 1, 1, 3) << 0u;
    QTest::newRow("offset without colon")
        << QByteArray("2024-01-01T05:30:00+0530") << true << utc(2024, 1, 1) << 0u;
    QTest::newRow("offset hours only")
        << QByteArray("2024-01-01T02:00:00+02") << true << utc(2024, 1, 1) << 0u;
    QTest::newRow("millis") << QByteArray("2024-01-01T00:00:00.123Z") << true
                            << utc(2024, 1, 1, 0, 0, 0, 123) << 123000000u;
    QTest::newRow(".NET 7 digits") << QByteArray("2024-01-01T00:00:00.1234567Z") << true
                                   << utc(2024, 1, 1, 0, 0, 0, 123) << 123456700u;
    QTest::newRow("nanos") << QByteArray("2024-01-01T00:00:00.000000001Z") << true
                           << utc(2024, 1, 1) << 1u;
    QTest::newRow("more than 9 digits truncated")
        << QByteArray("2024-01-01T00:00:00.9999999999Z") << true << utc(2024, 1, 1, 0, 0, 0, 999)
        << 999999999u;
    QTest::newRow("fraction with offset") << QByteArray("2024-01-01T01:00:00.5+01:00") << true
                                          << utc(2024, 1, 1, 0, 0, 0, 500) << 500000000u;
    QTest::newRow("comma fraction") << QByteArray("2024-01-01T00:00:00,25Z") << true
                                    << utc(2024, 1, 1, 0, 0, 0, 250) << 250000000u;
    QTest::newRow("before epoch") << QByteArray("1969-12-31T23:59:59.5Z") << true
                                  << utc(1969, 12, 31, 23, 59, 59, 500) << 500000000u;
    QTest::newRow("year 1") << QByteArray("0001-01-01T00:00:00Z") << true << utc(1, 1, 1) << 0u;
    QTest::newRow("year 9999") << QByteArray("9999-12-31T23:59:59Z") << true
                               << utc(9999, 12, 31, 23, 59, 59) << 0u;

    const QDateTime invalid;
    for (const char *bad : {"",
                            "2024",
                            "2024-01",
                            "2024-1-01",
                            "2024-01-01T",
                            "2024-01-01T10",
                            "2024-01-01T10:",
                            "2024-13-01",
                            "2024-00-10",
                            "2024-01-32",
                            "2023-02-29",
                            "2024-04-31",
                            "2024-01-01T24:00:00Z",
                            "2024-01-01T10:60:00Z",
                            "2024-01-01T10:00:00.Z",
                            "2024-01-01T10:00:00+25:00",
                            "2024-01-01T10:00:00+01:60",
                            "2024-01-01T10:00:00Zjunk",
                            "2024-01-01T10:00:00 Z",
                            "x2024-01-01",
                            "2024/01/01",
                            "not a date"})
        QTest::newRow(bad[0] ? bad : "empty") << QByteArray(bad) << false << invalid << 0u;
}

void tst_Value::iso8601()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, ok);
    QFETCH(QDateTime, utc);
    QFETCH(quint32, nanos);

    const Value v = Value::fromUtf8(text);
    qint64 s = -1;
    quint32 ns = 1;
    QCOMPARE(v.toTimestamp(&s, &ns), ok);
    QCOMPARE(v.toDateTime(), utc);
    if (!ok)
        return;
    QCOMPARE(ns, nanos);
    const qint64 ms = utc.toMSecsSinceEpoch();
    QCOMPARE(s, ms / 1000 - (ms % 1000 < 0 ? 1 : 0)); // floor: the nanoseconds are positive
    QCOMPARE(v.toDateTime().timeSpec(), Qt::UTC);
    QCOMPARE(Value::fromTimestamp(s, ns).toDateTime(), utc);
}

void tst_Value::dateTimes_data()
{
    QTest::addColumn<QDateTime>("dateTime");
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<quint32>("nanos");

    QTest::newRow("epoch") << QDateTime::fromSecsSinceEpoch(0, QTimeZone::utc()) << qint64(0) << 0u;
    QTest::newRow("ms") << QDateTime::fromMSecsSinceEpoch(1704067200500, QTimeZone::utc())
                        << qint64(1704067200) << 500000000u;
    QTest::newRow("before epoch with ms")
        << QDateTime::fromMSecsSinceEpoch(-1, QTimeZone::utc()) << qint64(-1) << 999000000u;
    QTest::newRow("offset +02:00")
        << QDateTime(QDate(2024, 1, 1), QTime(2, 0), QTimeZone(7200)) << qint64(1704067200) << 0u;
    QTest::newRow("local time")
        << QDateTime::fromSecsSinceEpoch(1704067200, QTimeZone::utc()).toLocalTime()
        << qint64(1704067200) << 0u;
    QTest::newRow("year 1") << QDateTime(QDate(1, 1, 1), QTime(0, 0), QTimeZone::utc())
                            << qint64(-62135596800) << 0u;
}

void tst_Value::dateTimes()
{
    QFETCH(QDateTime, dateTime);
    QFETCH(qint64, seconds);
    QFETCH(quint32, nanos);

    const Value v(dateTime);
    QVERIFY(v.isTimestamp());
    qint64 s;
    quint32 ns;
    QVERIFY(v.toTimestamp(&s, &ns));
    QCOMPARE(s, seconds);
    QCOMPARE(ns, nanos);
    QCOMPARE(v, Value::fromTimestamp(seconds, nanos));
    QCOMPARE(v.toDateTime(), dateTime);
    QCOMPARE(v.toDateTime().timeSpec(), Qt::UTC);
    // Sub-millisecond precision is kept in the Value, dropped by QDateTime.
    QCOMPARE(Value::fromTimestamp(seconds, nanos + 999).toDateTime(), dateTime);
}

void tst_Value::fromVariant_data()
{
    QTest::addColumn<QVariant>("variant");
    QTest::addColumn<Value>("value");

    const QDateTime dt = QDateTime::fromMSecsSinceEpoch(1704067200123, QTimeZone::utc());
    QTest::newRow("invalid") << QVariant() << Value();
    QTest::newRow("nullptr") << QVariant::fromValue(nullptr) << Value();
    QTest::newRow("bool") << QVariant(true) << Value(true);
    QTest::newRow("int") << QVariant(-5) << Value(-5);
    QTest::newRow("uint") << QVariant(5u) << Value(5);
    QTest::newRow("qlonglong min") << QVariant(std::numeric_limits<qlonglong>::min())
                                   << Value(std::numeric_limits<qint64>::min());
    QTest::newRow("qulonglong max") << QVariant(std::numeric_limits<qulonglong>::max())
                                    << Value(std::numeric_limits<quint64>::max());
    QTest::newRow("double") << QVariant(2.5) << Value(2.5);
    QTest::newRow("float") << QVariant(2.5f) << Value::fromFloat(2.5f);
    QTest::newRow("QString") << QVariant(u"€"_s) << Value(u"€"_s);
    QTest::newRow("QByteArray") << QVariant(QByteArray("\x01\x02"))
                                << Value::fromBinary("\x01\x02");
    QTest::newRow("QDateTime") << QVariant(dt) << Value(dt);
    QTest::newRow("QVariantList") << QVariant(QVariantList {1, u"a"_s, QVariant()})
                                  << Value(ValueList {1, "a", Value()});
    QTest::newRow("QStringList") << QVariant(QStringList {u"a"_s, u"b"_s})
                                 << Value(ValueList {"a", "b"});
    QTest::newRow("QVariantMap") << QVariant(QVariantMap {{u"b"_s, 2}, {u"a"_s, 1}})
                                 << Value(ValueMap {{"a", 1}, {"b", 2}}); // sorted
    QTest::newRow("QVariantHash") << QVariant(QVariantHash {{u"k"_s, true}})
                                  << Value(ValueMap {{"k", true}});
    QTest::newRow("QJsonObject") << QVariant(QJsonObject {{u"n"_s, 1}})
                                 << Value(ValueMap {{"n", 1}});
    QTest::newRow("QUrl (via QString)") << QVariant(QUrl(u"https://x/y"_s)) << Value("https://x/y");
}

void tst_Value::fromVariant()
{
    QFETCH(QVariant, variant);
    QFETCH(Value, value);

    const Value v = Value::fromVariant(variant);
    QCOMPARE(v, value);
    QCOMPARE(v.isSinglePrecision(), value.isSinglePrecision());
    QCOMPARE(toValue(variant), value); // ValueTraits<QVariant>
}

void tst_Value::toVariant_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QVariant>("variant");

    const QDateTime dt = QDateTime::fromMSecsSinceEpoch(-1500, QTimeZone::utc());
    QTest::newRow("null") << Value() << QVariant::fromValue(nullptr);
    QTest::newRow("bool") << Value(false) << QVariant(false);
    QTest::newRow("int64") << Value(std::numeric_limits<qint64>::min())
                           << QVariant(std::numeric_limits<qlonglong>::min());
    QTest::newRow("uint64") << Value(std::numeric_limits<quint64>::max())
                            << QVariant(std::numeric_limits<qulonglong>::max());
    QTest::newRow("double") << Value(0.25) << QVariant(0.25);
    QTest::newRow("float") << Value::fromFloat(0.25f) << QVariant(0.25f);
    QTest::newRow("string") << Value("ü") << QVariant(u"ü"_s);
    QTest::newRow("binary") << Value::fromBinary("\xff") << QVariant(QByteArray("\xff"));
    QTest::newRow("timestamp") << Value(dt) << QVariant(dt);
    QTest::newRow("array") << Value(ValueList {1, ValueList {"x"}})
                           << QVariant(QVariantList {qint64(1), QVariantList {u"x"_s}});
    QTest::newRow("map with non-string key")
        << Value(ValueMap {{"s", 1}, {7, 2}, {true, 3}})
        << QVariant(QVariantMap {{u"s"_s, qint64(1)}, {u"7"_s, qint64(2)}, {u"true"_s, qint64(3)}});
}

void tst_Value::toVariant()
{
    QFETCH(Value, value);
    QFETCH(QVariant, variant);

    const QVariant v = value.toVariant();
    QCOMPARE(v.typeId(), variant.typeId());
    QCOMPARE(v, variant);
    QVariant viaTraits;
    QString error;
    QVERIFY(ValueTraits<QVariant>::fromValue(value, viaTraits, error));
    QCOMPARE(viaTraits, variant);
    // And back, for everything QVariant can carry without loss.
    if (QByteArrayView(QTest::currentDataTag()) != "map with non-string key")
        QCOMPARE(Value::fromVariant(v), value);
}

void tst_Value::jsonValue_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QJsonValue>("json");
    QTest::addColumn<bool>("roundTrips"); // fromJsonValue(json) == value

    QTest::newRow("null") << Value() << QJsonValue(QJsonValue::Null) << true;
    QTest::newRow("bool") << Value(true) << QJsonValue(true) << true;
    QTest::newRow("int64 2^60") << Value(qint64(1) << 60) << QJsonValue(qint64(1) << 60) << true;
    QTest::newRow("int64 min") << Value(std::numeric_limits<qint64>::min())
                               << QJsonValue(std::numeric_limits<qint64>::min()) << true;
    QTest::newRow("double") << Value(1.25) << QJsonValue(1.25) << true;
    QTest::newRow("uint64 -> double")
        << Value(quint64(1) << 63) << QJsonValue(9223372036854775808.0) << false;
    QTest::newRow("string") << Value("ä\"") << QJsonValue(u"ä\""_s) << true;
    QTest::newRow("binary -> base64")
        << Value::fromBinary("\x00\xff"_ba) << QJsonValue(u"AP8="_s) << false;
    QTest::newRow("timestamp -> ISO")
        << Value::fromTimestamp(-1, 500000000) << QJsonValue(u"1969-12-31T23:59:59.5Z"_s) << false;
    QTest::newRow("array") << Value(ValueList {1, "a", ValueList {}})
                           << QJsonValue(QJsonArray {1, u"a"_s, QJsonArray {}}) << true;
    QTest::newRow("object") << Value(ValueMap {{"a", 1}, {"b", ValueMap {{"c", Value()}}}})
                            << QJsonValue(QJsonObject {
                                   {u"a"_s, 1}, {u"b"_s, QJsonObject {{u"c"_s, QJsonValue::Null}}}})
                            << true;
    QTest::newRow("object with int key")
        << Value(ValueMap {{5, "x"}}) << QJsonValue(QJsonObject {{u"5"_s, u"x"_s}}) << false;
}

void tst_Value::jsonValue()
{
    QFETCH(Value, value);
    QFETCH(QJsonValue, json);
    QFETCH(bool, roundTrips);

    QCOMPARE(value.toJsonValue(), json);
    if (roundTrips) {
        QCOMPARE(Value::fromJsonValue(json), value);
        QCOMPARE(toValue(json), value);
    }
    QJsonValue viaTraits;
    QString error;
    QVERIFY(ValueTraits<QJsonValue>::fromValue(value, viaTraits, error));
    QCOMPARE(viaTraits, json);
    // Value's JSON and QJsonDocument agree on the document.
    if (json.isObject() || json.isArray()) {
        const QByteArray ours = HubProtocol::json().serialize(streamItem("1", value));
        auto parsed = QJsonDocument::fromJson(ours.chopped(1));
        QCOMPARE(parsed.object().value(u"item"_s), json);
    }
}

// --- convert.h ------------------------------------------------------------------------------

void tst_Value::dtoToValue()
{
    const Notification n = sample();
    const Value v = toValue(n);
    QVERIFY(v.isMap());
    QList<QByteArray> keys;
    for (const MapEntry &e : v.map())
        keys.append(e.key.bytes());
    QCOMPARE(keys, (QList<QByteArray> {"id", "title", "body", "type", "createdAt", "sequence"}));
    QCOMPARE(v["id"], Value(n.id));
    QCOMPARE(v["title"], Value(n.title));
    QVERIFY(v["createdAt"].isTimestamp());
    QCOMPARE(v["createdAt"].toDateTime(), n.createdAt);
    QCOMPARE(v["sequence"], Value(n.sequence));

    // Through JSON the timestamp is an ISO 8601 string with camelCase keys.
    const QByteArray json = HubProtocol::json().serialize(invocation({}, "Notify", {v}));
    QVERIFY2(json.contains(R"("createdAt":"2024-01-02T12:34:56.789Z")"), json.constData());
    QVERIFY2(json.contains(R"({"id":"n-1","title":"Title 1 – ünïcødé",)"), json.constData());
    QVERIFY2(json.contains(R"("sequence":1001})"), json.constData());
}

void tst_Value::dtoRoundTrip_data()
{
    QTest::addColumn<int>("via"); // 0: Value only, 1: JSON, 2: MessagePack

    QTest::newRow("Value") << 0;
    QTest::newRow("JSON") << 1;
    QTest::newRow("MessagePack") << 2;
}

void tst_Value::dtoRoundTrip()
{
    QFETCH(int, via);

    auto transport = [via](const Value &v) {
        if (via == 1)
            return throughProtocol(HubProtocol::json(), v);
        if (via == 2)
            return throughProtocol(HubProtocol::messagePack(), v);
        return v;
    };

    const Notification n = sample();
    const Value nv = transport(toValue(n));
    if (via == 1)
        QVERIFY(nv["createdAt"].isString());
    if (via == 2)
        QVERIFY(nv["createdAt"].isTimestamp());
    auto back = fromValue<Notification>(nv);
    VERIFY_OK(back);
    QCOMPARE(back->createdAt, n.createdAt);
    QVERIFY(*back == n);

    const Everything e = sampleEverything();
    const Value ev = transport(toValue(e));
    auto eback = fromValue<Everything>(ev);
    VERIFY_OK(eback);
    QCOMPARE(eback->blob, e.blob);
    QCOMPARE(eback->byId.keys(), e.byId.keys());
    QCOMPARE(eback->ids, e.ids);
    QCOMPARE(eback->single, e.single);
    QCOMPARE(eback->priority, Priority::High);
    QVERIFY(*eback == e);

    // A list of DTOs.
    const QList<Notification> list {sample(1), sample(2), sample(3)};
    auto lback = fromValue<QList<Notification>>(transport(toValue(list)));
    VERIFY_OK(lback);
    QCOMPARE(lback->size(), 3);
    QVERIFY(*lback == list);
}

void tst_Value::dtoCaseInsensitive()
{
    // .NET (and JS) peers may send PascalCase; binding ignores case.
    const QByteArray json
        = rs(R"({"type":1,"target":"Notify","arguments":[{"ID":"x","Title":"t","BODY":"b",)"
             R"("Type":"warn","CreatedAt":"2016-05-10T13:51:20+12:34","SEQUENCE":9,"Extra":1}]})");
    auto m = parseOne(HubProtocol::json(), json);
    VERIFY_OK(m);
    auto n = fromValue<Notification>(std::get<InvocationMessage>(*m).arguments.first());
    VERIFY_OK(n);
    QCOMPARE(n->id, u"x"_s);
    QCOMPARE(n->title, u"t"_s);
    QCOMPARE(n->body, u"b"_s);
    QCOMPARE(n->type, u"warn"_s);
    QCOMPARE(n->createdAt, QDateTime(QDate(2016, 5, 10), QTime(1, 17, 20), QTimeZone::utc()));
    QCOMPARE(n->sequence, 9);
}

void tst_Value::dtoMissingAndNull()
{
    // Missing members keep their defaults; null binds to empty/absent.
    auto n = fromValue<Notification>(Value(ValueMap {{"title", "only"}}));
    VERIFY_OK(n);
    QCOMPARE(n->title, u"only"_s);
    QVERIFY(n->id.isNull());
    QVERIFY(!n->createdAt.isValid());
    QCOMPARE(n->sequence, 0);

    auto e = fromValue<Everything>(
        Value(ValueMap {{"extra", Value()}, {"note", Value()}, {"createdAt", Value()}}));
    VERIFY_OK(e);
    QVERIFY(!e->extra);
    QVERIFY(!e->note);

    auto withNote = fromValue<Everything>(Value(ValueMap {{"note", "hi"}}));
    VERIFY_OK(withNote);
    QCOMPARE(withNote->note, std::optional<QString>(u"hi"_s));
    QCOMPARE(toValue(std::optional<QString>()), Value());
}

void tst_Value::dtoErrors_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("error");

    auto items = [](Value third) {
        ValueList l {toValue(sample(1)), toValue(sample(2)), std::move(third)};
        return Value(ValueMap {{"name", "feed"}, {"items", Value(std::move(l))}});
    };
    Value badTitle = toValue(sample(3));
    badTitle.insert("title", 42);
    QTest::newRow("items[2].title")
        << items(badTitle) << u"items[2].title: expected String, got Integer"_s;
    Value badDate = toValue(sample(3));
    badDate.insert("createdAt", "yesterday");
    QTest::newRow("items[2].createdAt not ISO")
        << items(badDate)
        << u"items[2].createdAt: expected Timestamp, got a String that is not an ISO 8601 "
           "date-time"_s;
    Value badSeq = toValue(sample(3));
    badSeq.insert("sequence", 1.5);
    QTest::newRow("items[2].sequence fractional")
        << items(badSeq) << u"items[2].sequence: expected Integer, got Double"_s;
    QTest::newRow("items[2] not a map")
        << items(Value(true)) << u"items[2]: expected Map, got Bool"_s;
    QTest::newRow("items not an array")
        << Value(ValueMap {{"items", "x"}}) << u"items: expected Array, got String"_s;
    QTest::newRow("top level") << Value(ValueList {}) << u"expected Map, got Array"_s;
    QTest::newRow("name") << Value(ValueMap {{"NAME", ValueList {}}})
                          << u"name: expected String, got Array"_s;
}

void tst_Value::dtoErrors()
{
    QFETCH(Value, value);
    QFETCH(QString, error);

    QCOMPARE(conversionError<Feed>(value), error);
    // The same through JSON (with the timestamps as strings) gives the same path.
    QCOMPARE(conversionError<Feed>(throughProtocol(HubProtocol::json(), value)), error);
}

void tst_Value::integerRanges_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("ok");

    auto row = [](const char *name, Value v, const char16_t *type, bool ok) {
        QTest::newRow(name) << std::move(v) << QString::fromUtf16(type) << ok;
    };
    row("300 -> quint8", 300, u"quint8", false);
    row("255 -> quint8", 255, u"quint8", true);
    row("-1 -> quint8", -1, u"quint8", false);
    row("128 -> qint8", 128, u"qint8", false);
    row("-128 -> qint8", -128, u"qint8", true);
    row("-129 -> qint8", -129, u"qint8", false);
    row("65536 -> quint16", 65536, u"quint16", false);
    row("2^31 -> qint32", qint64(1) << 31, u"qint32", false);
    row("-2^31 -> qint32", -(qint64(1) << 31), u"qint32", true);
    row("2^32 -> quint32", qint64(1) << 32, u"quint32", false);
    row("-1 -> quint32", -1, u"quint32", false);
    row("uint64 max -> quint64", std::numeric_limits<quint64>::max(), u"quint64", true);
    row("uint64 max -> qint64", std::numeric_limits<quint64>::max(), u"qint64", false);
    row("int64 min -> qint64", std::numeric_limits<qint64>::min(), u"qint64", true);
    row("42.0 -> qint32", 42.0, u"qint32", true);
    row("42.5 -> qint32", 42.5, u"qint32", false);
    row("\"5\" -> qint32", "5", u"qint32", false);
    row("true -> qint32", true, u"qint32", false);
    row("null -> qint32", Value(), u"qint32", false);
    row("7 -> Priority", 7, u"Priority", true);
    row("70000 -> Priority (qint16)", 70000, u"Priority", false);
    row("1 -> bool", 1, u"bool", false);
    row("5 -> double", 5, u"double", true);
    row("\"NaN\" -> double", "NaN", u"double", true);
    row("\"x\" -> double", "x", u"double", false);
}

void tst_Value::integerRanges()
{
    QFETCH(Value, value);
    QFETCH(QString, type);
    QFETCH(bool, ok);

    QString error;
    if (type == u"quint8") {
        error = conversionError<quint8>(value);
        if (ok)
            QCOMPARE(*fromValue<quint8>(value), quint8(value.toInteger()));
    } else if (type == u"qint8") {
        error = conversionError<qint8>(value);
        if (ok)
            QCOMPARE(*fromValue<qint8>(value), qint8(value.toInteger()));
    } else if (type == u"quint16") {
        error = conversionError<quint16>(value);
    } else if (type == u"qint32") {
        error = conversionError<qint32>(value);
        if (ok)
            QCOMPARE(*fromValue<qint32>(value), qint32(value.toInteger()));
    } else if (type == u"quint32") {
        error = conversionError<quint32>(value);
    } else if (type == u"quint64") {
        error = conversionError<quint64>(value);
        if (ok)
            QCOMPARE(*fromValue<quint64>(value), value.toUnsignedInteger());
    } else if (type == u"qint64") {
        error = conversionError<qint64>(value);
        if (ok)
            QCOMPARE(*fromValue<qint64>(value), value.toInteger());
    } else if (type == u"Priority") {
        error = conversionError<Priority>(value);
        if (ok)
            QCOMPARE(*fromValue<Priority>(value), Priority::High);
    } else if (type == u"bool") {
        error = conversionError<bool>(value);
    } else if (type == u"double") {
        error = conversionError<double>(value);
    } else {
        QFAIL("unknown type");
    }
    QCOMPARE(error.isEmpty(), ok);
    if (!ok && value.isInteger() && type != u"bool") // e.g. "value 300 is out of range for ..."
        QVERIFY2(error.startsWith(u"value "_s) && error.contains(u" is out of range for "_s),
                 qPrintable(error));
    else if (!ok) // e.g. "expected Integer, got Double"
        QVERIFY2(error.startsWith(u"expected "_s)
                     && error.endsWith(QLatin1StringView(typeName(value.type()))),
                 qPrintable(error));
}

void tst_Value::binaryFromJson()
{
    const QByteArray blob("\x00\x01\x02\xfb\xfc\xfd\xfe\xff", 8);
    const Value v = toValue(blob);
    QVERIFY(v.isBinary());
    const Value overJson = throughProtocol(HubProtocol::json(), v);
    QCOMPARE(overJson, Value("AAEC+/z9/v8="));
    auto back = fromValue<QByteArray>(overJson);
    VERIFY_OK(back);
    QCOMPARE(*back, blob);
    // Empty binary.
    auto empty = fromValue<QByteArray>(throughProtocol(HubProtocol::json(), toValue(QByteArray())));
    VERIFY_OK(empty);
    QVERIFY(empty->isEmpty());
    // Not base64.
    QVERIFY(!conversionError<QByteArray>(Value("not base64!")).isEmpty());
    QCOMPARE(conversionError<QByteArray>(Value(5)), u"expected Binary, got Integer"_s);
    // A QString is text, not binary.
    QVERIFY(toValue(u"x"_s).isString());
}

void tst_Value::containers()
{
    // std::vector / QList / QMap / QHash / std::map / std::optional
    const std::vector<double> v {1.5, -2.0};
    QCOMPARE(toValue(v), Value(ValueList {1.5, -2.0}));
    QCOMPARE(*fromValue<std::vector<double>>(toValue(v)), v);

    using IntMap = QMap<QString, int>;
    const IntMap m {{u"b"_s, 2}, {u"a"_s, 1}};
    QCOMPARE(toValue(m), Value(ValueMap {{"a", 1}, {"b", 2}}));
    QCOMPARE(*fromValue<IntMap>(toValue(m)), m);

    using StringHash = QHash<QString, QString>;
    const StringHash h {{u"k"_s, u"v"_s}};
    QCOMPARE(*fromValue<StringHash>(toValue(h)), h);

    using StdMap = std::map<std::string, bool>;
    const StdMap sm {{"x", true}};
    QCOMPARE(*fromValue<StdMap>(toValue(sm)), sm);

    // A map with a non-string key does not bind to a string-keyed container.
    QCOMPARE(conversionError<IntMap>(Value(ValueMap {{1, 1}})),
             u"expected String key, got Integer"_s);
    // Nested error paths inside a map and a list of lists.
    using NotificationMap = QMap<QString, Notification>;
    QCOMPARE(
        conversionError<NotificationMap>(Value(ValueMap {{"k1", ValueMap {{"title", false}}}})),
        u"k1.title: expected String, got Bool"_s);
    QCOMPARE(conversionError<QList<QList<int>>>(Value(ValueList {ValueList {1, "x"}})),
             u"[0][1]: expected Integer, got String"_s);

    const std::optional<int> none;
    QCOMPARE(toValue(none), Value());
    QCOMPARE(*fromValue<std::optional<int>>(Value(3)), std::optional<int>(3));
    QCOMPARE(*fromValue<std::optional<int>>(Value()), std::optional<int>());
}

QTEST_GUILESS_MAIN(tst_Value)
#include "tst_value.moc"
