// SPDX-License-Identifier: MIT
// Heliograph::Value <-> JavaScript values (jsvalue_p.h) in a bare QJSEngine: what QML code
// passes to invoke()/send() and what handlers and results hand back to it.
#include "jsvalue_p.h"

#include <QtQml/QJSEngine>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Qml;
using namespace Qt::StringLiterals;

class tst_QmlValues : public QObject {
    Q_OBJECT

    QJSEngine m_engine;

    Value fromJs(const QString &expression)
    {
        const QJSValue v = m_engine.evaluate(u"(" + expression + u")");
        if (v.isError())
            qWarning("%s: %s", qPrintable(expression), qPrintable(v.toString()));
        return fromScriptValue(v);
    }
    /// Value -> JavaScript, then the JavaScript expression `check` with it as `v`.
    bool checkInJs(const Value &value, const QString &check)
    {
        QJSValue f = m_engine.evaluate(u"(function (v) { return " + check + u" })");
        const QJSValue r = f.call({toScriptValue(&m_engine, value)});
        if (r.isError())
            qWarning("%s: %s", qPrintable(check), qPrintable(r.toString()));
        return r.isBool() && r.toBool();
    }

private Q_SLOTS:
    void scalarsFromJs()
    {
        QCOMPARE(fromJs(u"null"_s), Value());
        QCOMPARE(fromJs(u"undefined"_s), Value());
        QCOMPARE(fromJs(u"true"_s), Value(true));
        QCOMPARE(fromJs(u"'h\u00e9llo \u2713 \U0001F600'"_s),
                 Value(u"h\u00e9llo \u2713 \U0001F600"_s));
        // integral numbers within +-2^53 are integers, so integer parameters bind them
        QCOMPARE(fromJs(u"42"_s).type(), Value::Type::Integer);
        QCOMPARE(fromJs(u"-7"_s), Value(-7));
        QCOMPARE(fromJs(u"9007199254740991"_s), Value(qint64(9007199254740991)));
        QCOMPARE(fromJs(u"-9007199254740991"_s), Value(qint64(-9007199254740991)));
        QCOMPARE(fromJs(u"4294967297"_s), Value(qint64(4294967297)));
        // others stay doubles
        QCOMPARE(fromJs(u"1.5"_s), Value(1.5));
        QCOMPARE(fromJs(u"1e300"_s).type(), Value::Type::Double);
        QCOMPARE(fromJs(u"NaN"_s).type(), Value::Type::Double);
        QCOMPARE(fromJs(u"function () {}"_s), Value());
    }

    void scalarsToJs()
    {
        QVERIFY(checkInJs(Value(), u"v === null"_s));
        QVERIFY(checkInJs(Value(false), u"v === false"_s));
        QVERIFY(checkInJs(Value(qint64(9007199254740991)), u"v === 9007199254740991"_s));
        QVERIFY(checkInJs(Value(qint64(-4294967297)), u"v === -4294967297"_s));
        QVERIFY(
            checkInJs(Value(quint64(18446744073709551615ull)), u"v === 18446744073709552000"_s));
        QVERIFY(checkInJs(Value(0.25), u"v === 0.25"_s));
        QVERIFY(checkInJs(Value(u"\u00fc\U0001F600"_s), u"v === '\u00fc\U0001F600'"_s));
        QVERIFY(checkInJs(Value::fromTimestamp(1700000000, 123000000),
                          u"v instanceof Date && v.getTime() === 1700000000123"_s));
    }

    void binary()
    {
        const QByteArray bytes("\x00\x01\xfe\xff", 4);
        QVERIFY(checkInJs(Value::fromBinary(bytes),
                          u"v instanceof ArrayBuffer && v.byteLength === 4"
                          u" && new Uint8Array(v)[2] === 254"_s));
        QCOMPARE(fromJs(u"new Uint8Array([0, 1, 254, 255]).buffer"_s), Value::fromBinary(bytes));
        // a typed array or DataView: the bytes it covers
        QCOMPARE(fromJs(u"new Uint8Array([9, 0, 1, 254, 255, 9]).subarray(1, 5)"_s),
                 Value::fromBinary(bytes));
        QCOMPARE(fromJs(u"new DataView(new Uint8Array([9, 0, 1, 254, 255]).buffer, 1)"_s),
                 Value::fromBinary(bytes));
        // round trip
        QJSValue js = toScriptValue(&m_engine, Value::fromBinary(bytes));
        QCOMPARE(fromScriptValue(js), Value::fromBinary(bytes));
    }

    void containers()
    {
        const Value v = fromJs(u"{a: 1, b: [true, null, 'x', {c: 2.5}], d: undefined, f() {}}"_s);
        QVERIFY(v.isMap());
        QCOMPARE(v.map().size(), 2); // undefined and functions are left out, as in JSON
        QCOMPARE(v["a"], Value(1));
        QCOMPARE(v["b"],
                 Value(ValueList {Value(true), Value(), Value("x"),
                                  Value(ValueMap {{Value("c"), Value(2.5)}})}));
        QCOMPARE(fromJs(u"new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))"_s),
                 Value(QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5, 6), Qt::UTC)));

        ValueMap m;
        m.append({Value("list"), Value(ValueList {Value(1), Value("two")})});
        m.append({Value(7), Value("non-string key")});
        QVERIFY(checkInJs(Value(m),
                          u"v.list.length === 2 && v.list[0] === 1 && v.list[1] === 'two'"
                          u" && v['7'] === 'non-string key'"_s));
        // JavaScript objects list integer-like keys first
        QCOMPARE(fromScriptValue(toScriptValue(&m_engine, Value(ValueList {Value(m)}))),
                 Value(ValueList {Value(ValueMap {{Value("7"), Value("non-string key")},
                                                  {Value("list"), m.at(0).value}})}));
    }

    void cycles()
    {
        const Value v
            = fromJs(u"(function () { const o = {name: 'loop'}; o.self = o; return o })()"_s);
        // cut off at the depth limit instead of recursing forever
        int depth = 0;
        const Value *p = &v;
        while (p->isMap() && (*p)["self"].isMap()) {
            p = &(*p)["self"];
            ++depth;
        }
        QVERIFY2(depth > 10 && depth <= 64, qPrintable(QString::number(depth)));
    }
};

QTEST_GUILESS_MAIN(tst_QmlValues)
#include "tst_qmlvalues.moc"
