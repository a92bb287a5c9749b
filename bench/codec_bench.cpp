// SPDX-License-Identifier: MIT
// Codec benchmark: encode and decode throughput of the JSON and MessagePack hub protocols,
// each reported as a ratio against a peer library measured in the same run:
//
//   JSON         peer: Qt's QJsonDocument (parse the frame and take the envelope fields out;
//                serialise an equivalent QJsonObject + record separator)
//   MessagePack  peer: msgpack-cxx's object API (msgpack::unpack into an object_handle and
//                convert the envelope fields; msgpack::pack of an equivalent struct into a
//                reused sbuffer)
//
// Ours decodes through MessageReader (the server path: a transport payload in, a HubMessage
// with a Value tree out) and encodes with HubProtocol::write into a reused QByteArray.
// The message is an Invocation of "Notify" whose single argument is a
// notification map; its body text and attachment list are sized so that the framed message is
// about 100 B, 2 KB or 64 KB. Ours and peer run alternately for several rounds; the table
// shows the medians. Ratio = ours / peer (above 1: ours is faster).
//
//   codec_bench [--quick] [--rounds N] [--markdown FILE]

#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QSysInfo>
#include <QtCore/QtGlobal>

#include <msgpack.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

using namespace Heliograph;
using namespace Qt::StringLiterals;

namespace {

// --- the payload, as plain C++ data --------------------------------------------------------

struct Attachment {
    std::string name;
    std::string url;
    int64_t size = 0;
    MSGPACK_DEFINE_MAP(name, url, size)
};

/// What a notification service pushes. Small messages carry only the first four fields.
struct Notification {
    std::string id;
    std::string title;
    std::string body;
    int64_t sequence = 0;
    std::string type;
    timespec createdAt {};
    bool read = false;
    std::vector<std::string> tags;
    std::vector<Attachment> attachments;
};

struct SmallNotificationPack { // msgpack-cxx view of a small notification
    std::string id;
    std::string title;
    std::string body;
    int64_t sequence = 0;
    MSGPACK_DEFINE_MAP(id, title, body, sequence)
};

struct FullNotificationPack { // msgpack-cxx view of a full notification
    std::string id;
    std::string title;
    std::string body;
    int64_t sequence = 0;
    std::string type;
    timespec createdAt {};
    bool read = false;
    std::vector<std::string> tags;
    std::vector<Attachment> attachments;
    MSGPACK_DEFINE_MAP(id, title, body, sequence, type, createdAt, read, tags, attachments)
};

/// The MessagePack Invocation envelope [1, headers, nil, target, [args], [streamIds]].
template<typename Arg> struct PeerInvocation {
    int type = 1;
    std::map<std::string, std::string> headers;
    msgpack::type::nil_t invocationId;
    std::string target;
    std::vector<Arg> arguments;
    std::vector<std::string> streamIds;
    MSGPACK_DEFINE_ARRAY(type, headers, invocationId, target, arguments, streamIds)
};

constexpr const char *Target = "Notify";
constexpr char RecordSeparator = 0x1E;

Notification makeNotification(bool full, qsizetype bodyBytes, int attachments)
{
    static const char phrase[] = "Deployment of build 4711 to the staging cluster finished — "
                                 "all 42 checks passed, café latency p99 at 12 ms.\n";
    Notification n;
    n.id = full ? "n-000000123456" : "n-7";
    n.title = full ? "Build finished" : "Done";
    n.sequence = full ? 123456 : 7;
    // Body text: the phrase repeated (UTF-8, with a newline JSON must escape), cut at a
    // character boundary and padded with spaces to exactly `bodyBytes`.
    std::string body;
    const std::string p = phrase;
    while (qsizetype(body.size()) < bodyBytes) {
        for (const char c : p) {
            if (qsizetype(body.size()) >= bodyBytes - 3 && (quint8(c) & 0xC0) != 0x80
                && quint8(c) >= 0x80)
                break; // no multi-byte character that might not fit
            if (qsizetype(body.size()) >= bodyBytes)
                break;
            body += c;
        }
        if (qsizetype(body.size()) >= bodyBytes - 3)
            while (qsizetype(body.size()) < bodyBytes)
                body += ' ';
    }
    while (!body.empty() && (quint8(body.back()) & 0xC0) == 0xC0)
        body.back() = ' '; // never end on a lead byte
    n.body = body;
    if (!full)
        return n;
    n.type = "deployment";
    n.createdAt.tv_sec = 1715349080; // 2024-05-10T13:51:20.123Z
    n.createdAt.tv_nsec = 123000000;
    n.read = false;
    n.tags = {"ci", "staging", "eu-west-1"};
    for (int i = 0; i < attachments; ++i) {
        Attachment a;
        a.name = "artifact-" + std::to_string(i) + ".tar.zst";
        a.url = "https://artifacts.example.com/builds/4711/" + a.name;
        a.size = 1048576 + int64_t(i) * 4099;
        n.attachments.push_back(std::move(a));
    }
    return n;
}

// --- the same notification for each codec --------------------------------------------------

QByteArray bytes(const std::string &s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}
QString qstring(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

/// Ours. JSON has no timestamp type: there the time is the ISO 8601 string it decodes to.
Value toValue(const Notification &n, bool full, bool json)
{
    ValueMap m;
    m.append({Value("id"), Value::fromUtf8(bytes(n.id))});
    m.append({Value("title"), Value::fromUtf8(bytes(n.title))});
    m.append({Value("body"), Value::fromUtf8(bytes(n.body))});
    m.append({Value("sequence"), Value(qint64(n.sequence))});
    if (full) {
        m.append({Value("type"), Value::fromUtf8(bytes(n.type))});
        m.append({Value("createdAt"),
                  json ? Value("2024-05-10T13:51:20.123Z")
                       : Value::fromTimestamp(n.createdAt.tv_sec, quint32(n.createdAt.tv_nsec))});
        m.append({Value("read"), Value(n.read)});
        ValueList tags;
        for (const std::string &t : n.tags)
            tags.append(Value::fromUtf8(bytes(t)));
        m.append({Value("tags"), Value(std::move(tags))});
        ValueList attachments;
        for (const Attachment &a : n.attachments) {
            ValueMap am;
            am.append({Value("name"), Value::fromUtf8(bytes(a.name))});
            am.append({Value("url"), Value::fromUtf8(bytes(a.url))});
            am.append({Value("size"), Value(qint64(a.size))});
            attachments.append(Value(std::move(am)));
        }
        m.append({Value("attachments"), Value(std::move(attachments))});
    }
    return Value(std::move(m));
}

HubMessage toMessage(const Notification &n, bool full, bool json)
{
    return InvocationMessage {{}, {}, QByteArray(Target), {toValue(n, full, json)}, {}};
}

QJsonObject toJsonObject(const Notification &n, bool full)
{
    QJsonObject o;
    o.insert("id"_L1, qstring(n.id));
    o.insert("title"_L1, qstring(n.title));
    o.insert("body"_L1, qstring(n.body));
    o.insert("sequence"_L1, qint64(n.sequence));
    if (full) {
        o.insert("type"_L1, qstring(n.type));
        o.insert("createdAt"_L1, u"2024-05-10T13:51:20.123Z"_s);
        o.insert("read"_L1, n.read);
        QJsonArray tags;
        for (const std::string &t : n.tags)
            tags.append(qstring(t));
        o.insert("tags"_L1, tags);
        QJsonArray attachments;
        for (const Attachment &a : n.attachments) {
            QJsonObject ao;
            ao.insert("name"_L1, qstring(a.name));
            ao.insert("url"_L1, qstring(a.url));
            ao.insert("size"_L1, qint64(a.size));
            attachments.append(ao);
        }
        o.insert("attachments"_L1, attachments);
    }
    return o;
}

QJsonObject toJsonEnvelope(const Notification &n, bool full)
{
    QJsonObject envelope;
    envelope.insert("type"_L1, 1);
    envelope.insert("target"_L1, QString::fromLatin1(Target));
    envelope.insert("arguments"_L1, QJsonArray {toJsonObject(n, full)});
    return envelope;
}

FullNotificationPack toFullPack(const Notification &n)
{
    return {n.id, n.title, n.body, n.sequence, n.type, n.createdAt, n.read, n.tags, n.attachments};
}
SmallNotificationPack toSmallPack(const Notification &n)
{
    return {n.id, n.title, n.body, n.sequence};
}

// --- timing ----------------------------------------------------------------------------------

volatile quint64 g_sink = 0; // results flow here so the work cannot be optimised away

using Clock = std::chrono::steady_clock;

/// Runs `op` `iterations` times; returns messages per second.
template<typename Op> double measure(qint64 iterations, Op &&op)
{
    quint64 sink = 0;
    const auto start = Clock::now();
    for (qint64 i = 0; i < iterations; ++i)
        sink += op();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    g_sink = g_sink + sink;
    return double(iterations) / std::max(seconds, 1e-9);
}

/// Iterations that take about `seconds`, from a short trial.
template<typename Op> qint64 calibrate(double seconds, Op &op)
{
    qint64 n = 1;
    while (true) {
        const auto start = Clock::now();
        quint64 sink = 0;
        for (qint64 i = 0; i < n; ++i)
            sink += op();
        g_sink = g_sink + sink;
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        if (t > 0.02 || n > (qint64(1) << 40))
            return std::max<qint64>(1, qint64(double(n) * seconds / std::max(t, 1e-9)));
        n *= 4;
    }
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Options {
    bool quick = false;
    int rounds = 5;
    QString markdown;
};

struct Row {
    QString protocol;
    QString size;
    QString op;
    QString peer;
    qsizetype oursBytes = 0;
    qsizetype peerBytes = 0;
    double ours = 0;
    double theirs = 0;
};

/// Alternates ours and peer for the configured rounds; returns the medians.
template<typename Ours, typename Peer>
std::pair<double, double> compare(const Options &opt, Ours &&ours, Peer &&peer)
{
    qint64 nOurs = 3, nPeer = 3;
    int rounds = 1;
    if (!opt.quick) {
        nOurs = calibrate(0.1, ours);
        nPeer = calibrate(0.1, peer);
        rounds = opt.rounds;
    }
    std::vector<double> a, b;
    for (int r = 0; r < rounds; ++r) {
        a.push_back(measure(nOurs, ours));
        b.push_back(measure(nPeer, peer));
    }
    return {median(a), median(b)};
}

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "codec_bench: %s\n", what);
    std::exit(1);
}

void check(bool ok, const char *what)
{
    if (!ok)
        die(what);
}

// --- the codecs under test -------------------------------------------------------------------

/// Ours, the server path: one transport payload in, one message out.
quint64 decodeOurs(MessageReader &reader, const QByteArray &frame)
{
    reader.append(frame);
    MessageReader::Result r = reader.read();
    if (r.status != MessageReader::Status::Message)
        die("our decoder failed");
    const auto &inv = std::get<InvocationMessage>(*r.message);
    return quint64(inv.target.size() + inv.arguments.size() + inv.arguments.front().size());
}

quint64 decodeQJson(const QByteArray &frame)
{
    const char *rs = static_cast<const char *>(
        std::memchr(frame.constData(), RecordSeparator, size_t(frame.size())));
    if (!rs)
        die("no record separator");
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(
        QByteArray::fromRawData(frame.constData(), rs - frame.constData()), &error);
    if (error.error != QJsonParseError::NoError)
        die("QJsonDocument failed");
    const QJsonObject o = doc.object();
    const int type = o.value("type"_L1).toInt();
    const QString id = o.value("invocationId"_L1).toString();
    const QString target = o.value("target"_L1).toString();
    const QJsonObject headers = o.value("headers"_L1).toObject();
    const QJsonArray arguments = o.value("arguments"_L1).toArray();
    const QJsonArray streamIds = o.value("streamIds"_L1).toArray();
    return quint64(type + id.size() + target.size() + headers.size() + arguments.size()
                   + streamIds.size() + arguments.first().toObject().size());
}

qsizetype readPrefix(const QByteArray &frame, quint32 &length)
{
    length = 0;
    for (qsizetype i = 0; i < 5 && i < frame.size(); ++i) {
        const auto b = quint8(frame[i]);
        length |= quint32(b & 0x7F) << (7 * i);
        if (!(b & 0x80))
            return i + 1;
    }
    die("bad prefix");
}

quint64 decodeMsgpackCxx(const QByteArray &frame)
{
    quint32 length;
    const qsizetype prefix = readPrefix(frame, length);
    const msgpack::object_handle oh = msgpack::unpack(frame.constData() + prefix, length);
    const msgpack::object &o = oh.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < 5)
        die("msgpack-cxx: not an invocation");
    const msgpack::object *e = o.via.array.ptr;
    const int type = e[0].as<int>();
    const auto headers = e[1].as<std::map<std::string, std::string>>();
    const std::string id = e[2].is_nil() ? std::string() : e[2].as<std::string>();
    const std::string target = e[3].as<std::string>();
    const msgpack::object &arguments = e[4];
    if (arguments.type != msgpack::type::ARRAY || arguments.via.array.size < 1)
        die("msgpack-cxx: no arguments");
    const auto streamIds
        = o.via.array.size > 5 ? e[5].as<std::vector<std::string>>() : std::vector<std::string>();
    return quint64(type) + headers.size() + id.size() + target.size() + arguments.via.array.size
        + arguments.via.array.ptr[0].via.map.size + streamIds.size();
}

// --- one size, one protocol ------------------------------------------------------------------

struct Case {
    const char *label;
    qsizetype target; ///< framed message size to aim for
};

/// Builds the notification whose framed encoding with `protocol` is about `target` bytes.
Notification fit(const HubProtocol &protocol, qsizetype target, bool full, bool json)
{
    const int attachments = full ? int(target / 3 / 130) : 0; // about a third in the list
    qsizetype body = 0;
    Notification n;
    for (int i = 0; i < 16; ++i) {
        n = makeNotification(full, body, attachments);
        const qsizetype size = protocol.serialize(toMessage(n, full, json)).size();
        if (size == target)
            break;
        const qsizetype diff = target - size; // JSON escapes make a body byte cost more
        body = std::max<qsizetype>(0, body + (diff > 16 || diff < -16 ? diff * 95 / 100 : diff));
    }
    return n;
}

void runJson(const Options &opt, const Case &c, QList<Row> &rows)
{
    const HubProtocol &json = HubProtocol::json();
    const bool full = c.target >= 1024;
    const Notification n = fit(json, c.target, full, true);
    const HubMessage message = toMessage(n, full, true);
    const QByteArray frame = json.serialize(message);
    const QJsonObject envelope = toJsonEnvelope(n, full);
    QByteArray peerFrame = QJsonDocument(envelope).toJson(QJsonDocument::Compact);
    peerFrame.append(RecordSeparator);

    // Both sides must understand each other's output before anything is timed.
    MessageReader reader(json, 0);
    {
        auto all = json.parseAll(frame);
        check(all && all->size() == 1 && all->front() == message, "JSON: our round trip failed");
        auto fromPeer = json.parseAll(peerFrame);
        check(fromPeer && fromPeer->size() == 1, "JSON: we cannot read the peer's frame");
        const auto &inv = std::get<InvocationMessage>(fromPeer->front());
        check(inv.target == Target && inv.arguments.size() == 1
                  && inv.arguments.front().toJsonValue() == QJsonValue(toJsonObject(n, full)),
              "JSON: the peer's frame decodes to another notification");
        check(decodeQJson(frame) > 0, "JSON: the peer cannot read our frame");
    }

    QByteArray out;
    const auto [encOurs, encPeer] = compare(
        opt,
        [&]() {
            out.truncate(0);
            json.write(message, out);
            return quint64(out.size());
        },
        [&]() {
            QByteArray bytes = QJsonDocument(envelope).toJson(QJsonDocument::Compact);
            bytes.append(RecordSeparator);
            return quint64(bytes.size());
        });
    rows.append({u"JSON"_s, QString::fromLatin1(c.label), u"encode"_s, u"QJsonDocument"_s,
                 frame.size(), peerFrame.size(), encOurs, encPeer});

    const auto [decOurs, decPeer] = compare(
        opt, [&]() { return decodeOurs(reader, frame); }, [&]() { return decodeQJson(frame); });
    rows.append({u"JSON"_s, QString::fromLatin1(c.label), u"decode"_s, u"QJsonDocument"_s,
                 frame.size(), frame.size(), decOurs, decPeer});
}

template<typename Pack>
void runMsgpackWith(const Options &opt, const Case &c, const Notification &n, bool full,
                    const Pack &pack, QList<Row> &rows)
{
    const HubProtocol &mp = HubProtocol::messagePack();
    const HubMessage message = toMessage(n, full, false);
    const QByteArray frame = mp.serialize(message);

    PeerInvocation<Pack> peerMessage;
    peerMessage.target = Target;
    peerMessage.arguments.push_back(pack);
    // The peer packs the body into a reused sbuffer, then frames it (VarInt length + body)
    // into a reused transport buffer, as a msgpack-cxx based hub protocol would.
    msgpack::sbuffer sbuf;
    QByteArray framed;
    auto packPeer = [&]() {
        sbuf.clear();
        msgpack::pack(sbuf, peerMessage);
        framed.truncate(0);
        for (auto len = quint32(sbuf.size());; len >>= 7) {
            framed.append(char((len & 0x7F) | (len > 0x7F ? 0x80 : 0)));
            if (len <= 0x7F)
                break;
        }
        framed.append(sbuf.data(), qsizetype(sbuf.size()));
        return quint64(framed.size());
    };
    packPeer();
    const QByteArray peerFrame = framed;

    MessageReader reader(mp, 0);
    {
        auto all = mp.parseAll(frame);
        check(all && all->size() == 1 && all->front() == message,
              "MessagePack: our round trip failed");
        check(peerFrame == frame, "MessagePack: msgpack-cxx encodes the notification differently");
        check(decodeMsgpackCxx(frame) > 0, "MessagePack: msgpack-cxx cannot read our frame");
    }

    QByteArray out;
    const auto [encOurs, encPeer] = compare(
        opt,
        [&]() {
            out.truncate(0);
            mp.write(message, out);
            return quint64(out.size());
        },
        packPeer);
    rows.append({u"MessagePack"_s, QString::fromLatin1(c.label), u"encode"_s, u"msgpack-cxx"_s,
                 frame.size(), peerFrame.size(), encOurs, encPeer});

    const auto [decOurs, decPeer] = compare(
        opt, [&]() { return decodeOurs(reader, frame); },
        [&]() { return decodeMsgpackCxx(frame); });
    rows.append({u"MessagePack"_s, QString::fromLatin1(c.label), u"decode"_s, u"msgpack-cxx"_s,
                 frame.size(), frame.size(), decOurs, decPeer});
}

void runMsgpack(const Options &opt, const Case &c, QList<Row> &rows)
{
    const bool full = c.target >= 1024;
    const Notification n = fit(HubProtocol::messagePack(), c.target, full, false);
    if (full)
        runMsgpackWith(opt, c, n, full, toFullPack(n), rows);
    else
        runMsgpackWith(opt, c, n, full, toSmallPack(n), rows);
}

QString number(double v)
{
    QString digits = QString::number(std::llround(v));
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, u',');
    return digits;
}

QByteArray table(const QList<Row> &rows)
{
    QString t;
    t += u"| Protocol | Size | Op | Ours msg/s | Peer | Peer msg/s | Ratio | Ours MB/s | Peer MB/s |\n"_s;
    t += u"|---|---|---|---:|---|---:|---:|---:|---:|\n"_s;
    for (const Row &r : rows) {
        t += u"| %1 | %2 (%3 B) | %4 | %5 | %6 | %7 | %8x | %9 |"_s.arg(
            r.protocol, r.size, QString::number(r.oursBytes), r.op, number(r.ours), r.peer,
            number(r.theirs), QString::number(r.ours / r.theirs, 'f', 2),
            QString::number(r.ours * double(r.oursBytes) / 1e6, 'f', 1));
        t += u" %1 |\n"_s.arg(QString::number(r.theirs * double(r.peerBytes) / 1e6, 'f', 1));
    }
    return t.toUtf8();
}

} // namespace

int main(int argc, char **argv)
{
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView a(argv[i]);
        if (a == "--quick") {
            opt.quick = true;
        } else if (a == "--rounds" && i + 1 < argc) {
            opt.rounds = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--markdown" && i + 1 < argc) {
            opt.markdown = QString::fromLocal8Bit(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--rounds N] [--markdown FILE]\n", argv[0]);
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }

    static const Case cases[] = {{"100 B", 100}, {"2 KB", 2048}, {"64 KB", 65536}};
    QList<Row> rows;
    for (const Case &c : cases) {
        runJson(opt, c, rows);
        runMsgpack(opt, c, rows);
    }
    std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        if (a.protocol != b.protocol)
            return a.protocol < b.protocol;
        if (a.oursBytes != b.oursBytes)
            return a.oursBytes < b.oursBytes;
        return a.op > b.op; // encode before decode
    });

    const QByteArray header
        = u"Codec benchmark: %1 rounds%2, median msg/s; ratio = ours / peer. "
          "Qt %3, %4, %5.\n\n"_s
              .arg(QString::number(opt.quick ? 1 : opt.rounds),
                   opt.quick ? u" (--quick: tiny iteration counts, numbers meaningless)"_s
                             : QString(),
                   QString::fromLatin1(qVersion()), QSysInfo::prettyProductName(),
                   QSysInfo::currentCpuArchitecture())
              .toUtf8();
    const QByteArray md = header + table(rows);
    std::fwrite(md.constData(), 1, size_t(md.size()), stdout);
    if (!opt.markdown.isEmpty()) {
        QFile f(opt.markdown);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            die("cannot write the markdown file");
        f.write(md);
    }
    return 0;
}
