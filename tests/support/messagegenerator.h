// SPDX-License-Identifier: MIT
// Randomised hub messages for property and interop tests. Deterministic for a given seed.
#pragma once

#include <heliograph/protocol/hubmessage.h>

#include <QtCore/QRandomGenerator>

#include <limits>

namespace Heliograph::Testing {

struct GeneratorOptions {
    int maxDepth = 4;
    /// Only values Microsoft's MessagePack reader maps back to the same bytes when it binds them
    /// as `object`: no extensions, timestamps in DateTime range with 100 ns resolution, map
    /// keys that are strings or integers. Targets are named "<name>_<argument count>".
    bool dotnetSafe = false;
};

class MessageGenerator {
public:
    explicit MessageGenerator(quint32 seed, GeneratorOptions options = {})
        : m_rng(seed)
        , m_options(options)
    { }

    int bounded(int n) { return int(m_rng.bounded(quint32(n))); }
    bool chance(int percent) { return bounded(100) < percent; }

    QByteArray string(int maxLen = 12, bool allowEmpty = true)
    {
        static const char32_t alphabet[]
            = {U'a', U'Z', U'0', U' ', U'"', U'\\', U'\n',     U'\t', U'\x01',     U'\x1f',
               U'/', U'<', U'é', U'ß', U'€', U'中', U'\xFFFD', U'😀',  U'\x10FFFF', U'\x7f'};
        const int len = bounded(maxLen + 1) + (allowEmpty ? 0 : 1);
        QString s;
        for (int i = 0; i < len; ++i)
            s += QString::fromUcs4(&alphabet[bounded(int(std::size(alphabet)))], 1);
        return s.toUtf8();
    }

    QByteArray identifier(bool allowEmpty = false)
    {
        QByteArray id;
        const int len = bounded(8) + (allowEmpty ? 0 : 1);
        for (int i = 0; i < len; ++i)
            id.append("abcdefghijklmnopqrstuvwxyz0123456789-_"[bounded(38)]);
        return id;
    }

    qint64 integer()
    {
        switch (bounded(8)) {
        case 0:
            return std::numeric_limits<qint64>::min();
        case 1:
            return std::numeric_limits<qint64>::max();
        case 2:
            return bounded(256) - 128;
        case 3:
            return qint64(m_rng.generate64());
        case 4:
            return qint64(m_rng.generate()) - qint64(1) * (1 << 30);
        case 5:
            return (qint64(1) << bounded(63)) * (chance(50) ? 1 : -1);
        default:
            return bounded(70000) - 35000;
        }
    }

    double real()
    {
        switch (bounded(8)) {
        case 0:
            return std::numeric_limits<double>::quiet_NaN();
        case 1:
            return chance(50) ? std::numeric_limits<double>::infinity()
                              : -std::numeric_limits<double>::infinity();
        case 2:
            return double(bounded(1000)); // integral double
        case 3:
            return std::numeric_limits<double>::max();
        case 4:
            return std::numeric_limits<double>::denorm_min();
        case 5:
            return -0.5;
        default:
            return (m_rng.generateDouble() - 0.5) * std::pow(10.0, bounded(40) - 20);
        }
    }

    Value timestamp()
    {
        if (m_options.dotnetSafe) {
            // DateTime: years 1..9999, 100 ns ticks.
            const qint64 min = -62135596800LL, max = 253402300799LL;
            const qint64 s = min + qint64(m_rng.bounded(quint64(max - min)));
            const quint32 ns = chance(30) ? 0 : quint32(bounded(10000000)) * 100u;
            return Value::fromTimestamp(chance(30) ? qint64(bounded(2000000000)) : s, ns);
        }
        const quint32 ns = chance(30) ? 0 : quint32(bounded(1000000000));
        switch (bounded(4)) {
        case 0:
            return Value::fromTimestamp(qint64(m_rng.bounded(quint64(1) << 32)), ns);
        case 1:
            return Value::fromTimestamp(qint64(m_rng.bounded(quint64(1) << 34)), ns);
        case 2:
            return Value::fromTimestamp(-qint64(m_rng.bounded(quint64(1) << 40)), ns);
        default:
            return Value::fromTimestamp(qint64(m_rng.generate64() >> 1) * (chance(50) ? 1 : -1),
                                        ns);
        }
    }

    Value value(int depth = 0)
    {
        const int kinds = depth >= m_options.maxDepth ? 9 : 11;
        switch (bounded(kinds)) {
        case 0:
            return Value();
        case 1:
            return Value(chance(50));
        case 2:
            return Value(integer());
        case 3:
            return Value(quint64(std::numeric_limits<qint64>::max()) + 1
                         + m_rng.bounded(quint64(1) << 62));
        case 4:
            return Value(real());
        case 5:
            return Value::fromFloat(float(real()));
        case 6:
            return Value::fromUtf8(string(40));
        case 7: {
            QByteArray b;
            const int n = bounded(300);
            for (int i = 0; i < n; ++i)
                b.append(char(bounded(256)));
            return Value::fromBinary(b);
        }
        case 8:
            if (!m_options.dotnetSafe && chance(20))
                return Value::fromExtension(qint8(bounded(100)), string(20));
            return timestamp();
        case 9: {
            ValueList l;
            const int n = bounded(5);
            for (int i = 0; i < n; ++i)
                l.append(value(depth + 1));
            return Value(std::move(l));
        }
        default: {
            ValueMap m;
            const int n = bounded(5);
            for (int i = 0; i < n; ++i) {
                Value key;
                if (chance(80))
                    key = Value::fromUtf8(string(10) + QByteArray::number(i)); // unique
                else if (m_options.dotnetSafe || chance(50))
                    key = Value(qint64(i) * 1000 + bounded(1000));
                else
                    key = value(depth + 1);
                if (std::any_of(m.cbegin(), m.cend(),
                                [&](const MapEntry &e) { return e.key == key; }))
                    continue;
                m.append({std::move(key), value(depth + 1)});
            }
            return Value(std::move(m));
        }
        }
    }

    Headers headers()
    {
        Headers h;
        if (chance(70))
            return h;
        const int n = bounded(4) + 1;
        for (int i = 0; i < n; ++i)
            h.append({string(8, false) + QByteArray::number(i), string(8, false)});
        return h;
    }

    ValueList arguments()
    {
        ValueList args;
        const int n = bounded(5);
        for (int i = 0; i < n; ++i)
            args.append(value(1));
        return args;
    }

    QByteArray target(qsizetype argumentCount)
    {
        QByteArray t = "M" + identifier(true);
        if (m_options.dotnetSafe)
            t += '_' + QByteArray::number(argumentCount);
        return t;
    }

    HubMessage message()
    {
        switch (bounded(9)) {
        case 0: {
            InvocationMessage m {
                headers(), chance(50) ? identifier() : QByteArray(), {}, arguments(), {}};
            m.target = target(m.arguments.size());
            if (chance(20))
                m.streamIds = {identifier(), identifier()};
            return m;
        }
        case 1:
            return StreamItemMessage {headers(), identifier(), value(1)};
        case 2:
            switch (bounded(3)) {
            case 0:
                return CompletionMessage {
                    headers(), identifier(), CompletionMessage::Kind::Void, {}, {}};
            case 1:
                return CompletionMessage {
                    headers(), identifier(), CompletionMessage::Kind::Result, value(1), {}};
            default:
                return CompletionMessage {
                    headers(), identifier(), CompletionMessage::Kind::Error, {}, string(30, false)};
            }
        case 3: {
            StreamInvocationMessage m {headers(), identifier(), {}, arguments(), {}};
            m.target = target(m.arguments.size());
            if (chance(20))
                m.streamIds = {identifier()};
            return m;
        }
        case 4:
            return CancelInvocationMessage {headers(), identifier()};
        case 5:
            return PingMessage {};
        case 6: {
            CloseMessage c;
            if (chance(50))
                c.error = string(30, false);
            c.allowReconnect = chance(50);
            return c;
        }
        case 7:
            return AckMessage {integer()};
        default:
            return SequenceMessage {integer()};
        }
    }

private:
    QRandomGenerator m_rng;
    GeneratorOptions m_options;
};

} // namespace Heliograph::Testing
