// SPDX-License-Identifier: MIT
// The MessagePack key-case policy: toValue() marks the maps it makes of described structs, and
// HubProtocol::messagePack(StructKeyCase::PascalCase) capitalises the keys of marked maps only;
// user data (Value, QMap, parsed maps) keeps its keys, JSON is unchanged, reading ignores case.
#include "testutil.h"

#include <heliograph/protocol/convert.h>
#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/json.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QTimeZone>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Qt::StringLiterals;

namespace {

struct Point {
    int x = 0;
    int y = 0;
    friend bool operator==(const Point &, const Point &) = default;
};
HELIOGRAPH_DESCRIBE(Point, x, y)

struct Item {
    QString id;
    QDateTime createdAt;
    qint64 sequence = 0;
    friend bool operator==(const Item &, const Item &) = default;
};
HELIOGRAPH_DESCRIBE(Item, id, createdAt, sequence)

struct Envelope {
    Item item;
    QList<Item> items;
    std::optional<Item> extra;
    QMap<QString, Item> byId; ///< user keys, struct values
    QMap<QString, int> counts; ///< user keys only
    Value raw; ///< user data passed through as is
    bool _flag = false; ///< a member that does not start with a lower-case letter
    friend bool operator==(const Envelope &, const Envelope &) = default;
};
HELIOGRAPH_DESCRIBE(Envelope, item, items, extra, byId, counts, raw, _flag)

const StructKeyCase Pascal = StructKeyCase::PascalCase;

Item sampleItem(int i)
{
    return {u"n-%1"_s.arg(i), QDateTime(QDate(2024, 5, i), QTime(8, 0), QTimeZone::utc()), i};
}

Envelope sampleEnvelope()
{
    Envelope e;
    e.item = sampleItem(1);
    e.items = {sampleItem(2), sampleItem(3)};
    e.extra = sampleItem(4);
    e.byId = {{u"someKey"_s, sampleItem(5)}};
    e.counts = {{u"lowerKey"_s, 1}, {u"otherKey"_s, 2}};
    ValueMap raw;
    raw.append({Value("userKey"), Value(ValueMap {{Value("nestedKey"), Value(1)}})});
    raw.append({Value("point"), toValue(Point {1, 2})}); // a struct inside user data
    e.raw = Value(std::move(raw));
    e._flag = true;
    return e;
}

/// The keys of a map, in order.
QList<QByteArray> keysOf(const Value &v)
{
    QList<QByteArray> keys;
    for (const MapEntry &e : v.map())
        keys.append(e.key.bytes());
    return keys;
}

/// The single argument of the single Invocation in `bytes`.
Value argumentOf(const HubProtocol &p, const QByteArray &bytes)
{
    auto messages = p.parseAll(bytes);
    if (!messages || messages->size() != 1)
        return {};
    const auto *inv = std::get_if<InvocationMessage>(&messages->first());
    return inv && inv->arguments.size() == 1 ? inv->arguments.first() : Value();
}

QByteArray invocationWith(const HubProtocol &p, Value argument)
{
    return p.serialize(invocation({}, "T", {std::move(argument)}));
}

} // namespace

class TestKeyCase : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void structMapsAreMarked()
    {
        const Value v = toValue(sampleEnvelope());
        QVERIFY(v.isStructMap());
        QVERIFY(v["item"].isStructMap());
        QVERIFY(v["items"][0].isStructMap());
        QVERIFY(v["extra"].isStructMap());
        QVERIFY(!v["byId"].isStructMap()); // a QMap is user data...
        QVERIFY(v["byId"]["someKey"].isStructMap()); // ...whose struct values are structs
        QVERIFY(!v["counts"].isStructMap());
        QVERIFY(!v["raw"].isStructMap());
        QVERIFY(!v["raw"]["userKey"].isStructMap());
        QVERIFY(v["raw"]["point"].isStructMap());
    }

    void markIsKeptByCopiesAndEditsAndNotCompared()
    {
        Value v = toValue(Point {1, 2});
        Value copy = v;
        QVERIFY(copy.isStructMap());
        copy.insert(Value("z"), Value(3));
        QVERIFY(copy.isStructMap());
        QVERIFY(v.isStructMap());
        QCOMPARE(v.size(), 2);

        Value plain(ValueMap {{Value("x"), Value(1)}, {Value("y"), Value(2)}});
        QVERIFY(!plain.isStructMap());
        QCOMPARE(plain, v); // the mark is not part of equality
        v = Value(ValueMap {});
        QVERIFY(!v.isStructMap());
        QVERIFY(!Value(42).isStructMap());
        QVERIFY(!Value::fromStructMap({}).isArray());
        QVERIFY(Value::fromStructMap({}).isMap());
    }

    void parsedMapsAreUserData()
    {
        const Value v = toValue(sampleEnvelope());
        for (const HubProtocol *p : {&HubProtocol::json(), &HubProtocol::messagePack(),
                                     &HubProtocol::messagePack(Pascal)}) {
            const Value back = argumentOf(*p, invocationWith(*p, v));
            QVERIFY(back.isMap());
            QVERIFY(!back.isStructMap());
            QVERIFY(!back["item"].isStructMap());
        }
        auto json = Json::parse(R"({"a": {"b": 1}})");
        VERIFY_OK(json);
        QVERIFY(!json->isStructMap());
    }

    void protocolInstances()
    {
        QCOMPARE(&HubProtocol::messagePack(StructKeyCase::CamelCase), &HubProtocol::messagePack());
        const HubProtocol &pascal = HubProtocol::messagePack(Pascal);
        QVERIFY(&pascal != &HubProtocol::messagePack());
        QCOMPARE(pascal.name(), "messagepack");
        QCOMPARE(pascal.version(), HubProtocol::messagePack().version());
        QCOMPARE(pascal.transferFormat(), TransferFormat::Binary);
        QCOMPARE(HubProtocol::find("messagepack"), &HubProtocol::messagePack());

        // A server enables the instance of its policy: the handshake resolves to it.
        HandshakeRequest request {"messagepack", 1};
        auto r
            = Handshake::resolve(request, TransferFormat::Binary, {&HubProtocol::json(), &pascal});
        VERIFY_OK(r);
        QCOMPARE(*r, &pascal);
    }

    // Byte-exact: [1, {}, nil, "T", [{"X": 1, "Y": 2}], []] with a one-byte length prefix.
    void bytes_data()
    {
        QTest::addColumn<bool>("pascal");
        QTest::addColumn<QByteArray>("hex");
        QTest::newRow("camel") << false << QByteArray("0f960180c0a1549182a17801a17902 90");
        QTest::newRow("pascal") << true << QByteArray("0f960180c0a1549182a15801a15902 90");
    }
    void bytes()
    {
        QFETCH(bool, pascal);
        QFETCH(QByteArray, hex);
        const HubProtocol &p = HubProtocol::messagePack(pascal ? Pascal : StructKeyCase::CamelCase);
        QCOMPARE(invocationWith(p, toValue(Point {1, 2})).toHex(), hex.replace(' ', QByteArray()));
        // The same map made by hand is user data: never rewritten.
        const Value plain(ValueMap {{Value("x"), Value(1)}, {Value("y"), Value(2)}});
        QCOMPARE(invocationWith(p, plain).toHex(), QByteArray("0f960180c0a1549182a17801a1790290"));
    }

    void pascalRewritesStructKeysOnly()
    {
        const Value out = argumentOf(
            HubProtocol::messagePack(),
            invocationWith(HubProtocol::messagePack(Pascal), toValue(sampleEnvelope())));
        QCOMPARE(keysOf(out),
                 (QList<QByteArray> {"Item", "Items", "Extra", "ById", "Counts", "Raw", "_flag"}));
        QCOMPARE(keysOf(out["Item"]), (QList<QByteArray> {"Id", "CreatedAt", "Sequence"}));
        QCOMPARE(keysOf(out["Items"][1]), (QList<QByteArray> {"Id", "CreatedAt", "Sequence"}));
        QCOMPARE(keysOf(out["Extra"]), (QList<QByteArray> {"Id", "CreatedAt", "Sequence"}));
        // User keys stay; the structs they hold do change.
        QCOMPARE(keysOf(out["ById"]), QList<QByteArray> {"someKey"});
        QCOMPARE(keysOf(out["ById"]["someKey"]),
                 (QList<QByteArray> {"Id", "CreatedAt", "Sequence"}));
        QCOMPARE(keysOf(out["Counts"]), (QList<QByteArray> {"lowerKey", "otherKey"}));
        QCOMPARE(keysOf(out["Raw"]), (QList<QByteArray> {"userKey", "point"}));
        QCOMPARE(keysOf(out["Raw"]["userKey"]), QList<QByteArray> {"nestedKey"});
        QCOMPARE(keysOf(out["Raw"]["point"]), (QList<QByteArray> {"X", "Y"}));
        // Values are untouched.
        QCOMPARE(out["Item"]["Id"], Value("n-1"));
        QCOMPARE(out["Item"]["Sequence"], Value(1));
        QVERIFY(out["Item"]["CreatedAt"].isTimestamp());
    }

    void camelAndJsonKeepKeys()
    {
        const Value v = toValue(sampleEnvelope());
        for (const HubProtocol *p : {&HubProtocol::json(), &HubProtocol::messagePack()}) {
            const Value out = argumentOf(*p, invocationWith(*p, v));
            QCOMPARE(
                keysOf(out),
                (QList<QByteArray> {"item", "items", "extra", "byId", "counts", "raw", "_flag"}));
            QCOMPARE(keysOf(out["item"]), (QList<QByteArray> {"id", "createdAt", "sequence"}));
            QCOMPARE(keysOf(out["raw"]), (QList<QByteArray> {"userKey", "point"}));
        }
        // JSON has no policy: the same text whatever MessagePack does.
        QVERIFY(Json::serialize(v).contains("\"createdAt\":"));
    }

    void everyMessageKindCarriesThePolicy()
    {
        const HubProtocol &p = HubProtocol::messagePack(Pascal);
        const Value point = toValue(Point {3, 4});
        const QList<HubMessage> messages {
            invocation("1", "T", {point}),
            streamInvocation("2", "T", {point}),
            streamItem("3", point),
            completionResult("4", point),
        };
        for (const HubMessage &m : messages) {
            auto back = p.parseAll(p.serialize(m));
            VERIFY_OK(back);
            QCOMPARE(back->size(), 1);
            Value got;
            std::visit(
                [&got](const auto &x) {
                    using T = std::decay_t<decltype(x)>;
                    if constexpr (
                        std::is_same_v<
                            T, InvocationMessage> || std::is_same_v<T, StreamInvocationMessage>)
                        got = x.arguments.value(0);
                    else if constexpr (std::is_same_v<T, StreamItemMessage>)
                        got = x.item;
                    else if constexpr (std::is_same_v<T, CompletionMessage>)
                        got = x.result;
                },
                back->first());
            QCOMPARE(keysOf(got), (QList<QByteArray> {"X", "Y"}));
        }
    }

    void oddKeysAreLeftAlone()
    {
        // A struct map made by hand may hold any key: only a leading a-z changes.
        ValueMap m;
        m.append({Value(""), Value(1)});
        m.append({Value("Already"), Value(2)});
        m.append({Value("ünïcode"), Value(3)});
        m.append({Value(7), Value(4)});
        m.append({Value("z"), Value(5)});
        m.append({Value("9lives"), Value(6)});
        const Value out = argumentOf(
            HubProtocol::messagePack(),
            invocationWith(HubProtocol::messagePack(Pascal), Value::fromStructMap(std::move(m))));
        QCOMPARE(out.size(), 6);
        QCOMPARE(out.map()[0].key, Value(""));
        QCOMPARE(out.map()[1].key, Value("Already"));
        QCOMPARE(out.map()[2].key, Value("ünïcode"));
        QCOMPARE(out.map()[3].key, Value(7));
        QCOMPARE(out.map()[4].key, Value("Z"));
        QCOMPARE(out.map()[5].key, Value("9lives"));
    }

    void readingIgnoresCase()
    {
        const Envelope e = sampleEnvelope();
        for (const HubProtocol *p : {&HubProtocol::json(), &HubProtocol::messagePack(),
                                     &HubProtocol::messagePack(Pascal)}) {
            const Value wire = argumentOf(*p, invocationWith(*p, toValue(e)));
            auto back = fromValue<Envelope>(wire);
            VERIFY_OK(back);
            QCOMPARE(back->item, e.item);
            QCOMPARE(back->items, e.items);
            QCOMPARE(back->extra, e.extra);
            QCOMPARE(back->byId, e.byId);
            QCOMPARE(back->counts, e.counts);
            QCOMPARE(back->_flag, e._flag);
            QCOMPARE(keysOf(back->raw), (QList<QByteArray> {"userKey", "point"}));
        }
    }

    void largeStructMapsKeepTheirFraming()
    {
        // Past the writer's 4 KiB buffer and the one-byte length prefix.
        QList<Item> many;
        for (int i = 0; i < 300; ++i)
            many.append(sampleItem(1 + i % 28));
        const QByteArray bytes = invocationWith(HubProtocol::messagePack(Pascal), toValue(many));
        QVERIFY(bytes.size() > 8192);
        const Value out = argumentOf(HubProtocol::messagePack(), bytes);
        QCOMPARE(out.size(), 300);
        QCOMPARE(keysOf(out[299]), (QList<QByteArray> {"Id", "CreatedAt", "Sequence"}));
        auto back = fromValue<QList<Item>>(out);
        VERIFY_OK(back);
        QCOMPARE(*back, many);
    }
};

QTEST_APPLESS_MAIN(TestKeyCase)
#include "tst_keycase.moc"
