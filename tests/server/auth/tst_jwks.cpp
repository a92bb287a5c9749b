// SPDX-License-Identifier: MIT
// An identity provider's keys (server/src/auth/jwks.h): JWK Sets and OpenID Connect discovery
// served by the test itself on a loopback QTcpServer, keys generated and tokens signed here
// with OpenSSL directly, key rotation, the rate limit of unknown-kid refreshes, an unreachable,
// hanging or misbehaving provider, claim mapping (Keycloak, Entra ID), and the server app end
// to end with --jwt-jwks-url.
#include "app/serverapp.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "ecdsatestsupport.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <memory>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <thread>
#include <vector>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(Heliograph::Server::JwtErrorCode)

namespace Heliograph::Server {
char *toString(JwtErrorCode code)
{
    return qstrdup(jwtErrorCodeName(code));
}
} // namespace Heliograph::Server

namespace {

constexpr int Wait = 10000; // ms for anything that should take moments
constexpr char Audience[] = "heliograph";
/// Marks a row that expects success.
constexpr JwtErrorCode Accepted = JwtErrorCode(0);

struct PkeyDeleter {
    void operator()(EVP_PKEY *p) const noexcept { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// --- keys, JWKs and tokens, with OpenSSL directly ---------------------------------------------

QByteArray b64(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

const unsigned char *ubytes(QByteArrayView v)
{
    return reinterpret_cast<const unsigned char *>(v.data());
}

PkeyPtr generate(const char *type, const char *curve = nullptr, size_t bits = 0)
{
    EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits);
    if (!k)
        qFatal("key generation failed");
    return PkeyPtr(k);
}

/// A big-endian parameter of a key, left-padded to `size` bytes (0: its own length).
QByteArray bnParam(EVP_PKEY *k, const char *name, int size = 0)
{
    BIGNUM *bn = nullptr;
    if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
        qFatal("no parameter %s", name);
    QByteArray out(size ? size : BN_num_bytes(bn), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(out.data()), int(out.size()));
    BN_free(bn);
    return out;
}

QByteArray member(const char *name, const QByteArray &value)
{
    return ",\"" + QByteArray(name) + "\":\"" + value + '"';
}

/// An RSA public JWK; `extra` is appended raw (",\"use\":\"enc\"").
QByteArray rsaJwk(EVP_PKEY *k, const QByteArray &kid, const QByteArray &alg = {},
                  const QByteArray &extra = {})
{
    QByteArray jwk = R"({"kty":"RSA")";
    if (!kid.isNull())
        jwk += member("kid", kid);
    if (!alg.isEmpty())
        jwk += member("alg", alg);
    jwk += member("n", b64(bnParam(k, OSSL_PKEY_PARAM_RSA_N)));
    jwk += member("e", b64(bnParam(k, OSSL_PKEY_PARAM_RSA_E)));
    return jwk + extra + '}';
}

/// An EC P-256 public JWK; `flipY` moves the point off the curve.
QByteArray ecJwk(EVP_PKEY *k, const QByteArray &kid, const QByteArray &alg = {},
                 const QByteArray &extra = {}, bool flipY = false)
{
    QByteArray y = bnParam(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    if (flipY)
        y[31] = char(y[31] ^ 1);
    QByteArray jwk = R"({"kty":"EC","crv":"P-256")";
    if (!kid.isNull())
        jwk += member("kid", kid);
    if (!alg.isEmpty())
        jwk += member("alg", alg);
    jwk += member("x", b64(bnParam(k, OSSL_PKEY_PARAM_EC_PUB_X, 32)));
    jwk += member("y", b64(y));
    return jwk + extra + '}';
}

QByteArray jwks(const QList<QByteArray> &keys)
{
    return R"({"keys":[)" + keys.join(',') + "]}";
}

/// RS256 / PS256 (salt length `pssSalt`) / ES256 (raw R || S) signature.
QByteArray sign(EVP_PKEY *k, QByteArrayView alg, QByteArrayView input, int pssSalt = 32)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = nullptr;
    size_t length = 0;
    QByteArray sig;
    bool ok = EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, k) == 1;
    if (ok && alg == "PS256") {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pssSalt) == 1;
    }
    if (ok && EVP_DigestSign(ctx, nullptr, &length, ubytes(input), size_t(input.size())) == 1) {
        sig.resize(qsizetype(length));
        ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &length,
                            ubytes(input), size_t(input.size()))
            == 1;
        sig.truncate(qsizetype(length));
    }
    EVP_MD_CTX_free(ctx);
    if (!ok || sig.isEmpty())
        qFatal("signing failed");
    if (alg != "ES256")
        return sig;
    return Heliograph::Testing::ecdsaDerToRaw(sig);
}

QByteArray hmacSha256(QByteArrayView key, QByteArrayView data)
{
    QByteArray out(32, Qt::Uninitialized);
    size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), size_t(key.size()),
                   ubytes(data), size_t(data.size()), reinterpret_cast<unsigned char *>(out.data()),
                   size_t(out.size()), &length))
        qFatal("HMAC failed");
    return out;
}

QByteArray header(QByteArrayView alg, const QByteArray &kid)
{
    QByteArray h = R"({"alg":")" + alg.toByteArray() + '"';
    if (!kid.isNull())
        h += member("kid", kid);
    return h + R"(,"typ":"JWT"})";
}

/// Claims valid now: sub, tenant_id, aud, iat, exp, plus `extra` (raw members, no leading comma).
QByteArray claims(const QByteArray &extra = {})
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QByteArray c = R"({"sub":"user-1","tenant_id":"acme","aud":"heliograph","iat":)"
        + QByteArray::number(now - 10) + R"(,"exp":)" + QByteArray::number(now + 3600);
    if (!extra.isEmpty())
        c += ',' + extra;
    return c + '}';
}

QByteArray token(EVP_PKEY *k, QByteArrayView alg, const QByteArray &kid,
                 const QByteArray &payload = claims(), int pssSalt = 32)
{
    const QByteArray input = b64(header(alg, kid)) + '.' + b64(payload);
    return input + '.' + b64(sign(k, alg, input, pssSalt));
}

JwtValidationOptions options()
{
    JwtValidationOptions o;
    o.audience = Audience;
    return o;
}

/// The outcome of a validation as a row's expectation: Accepted or the error code.
JwtErrorCode outcome(const JwtResult<Claims> &r)
{
    return r ? Accepted : r.error().code;
}

QString describe(const JwtResult<Claims> &r)
{
    return r
        ? u"accepted"_s
        : u"%1: %2"_s.arg(QLatin1StringView(jwtErrorCodeName(r.error().code)), r.error().message);
}

#ifndef Q_MOC_RUN // moc need not (and cannot) expand it
#define CHECK_OUTCOME(result, expected)                                                            \
    do {                                                                                           \
        const auto &r_ = (result);                                                                 \
        QVERIFY2(outcome(r_) == (expected), qPrintable(describe(r_)));                             \
    } while (false)
#endif

// --- the identity provider -------------------------------------------------------------------

/// A tiny HTTP/1.1 server on 127.0.0.1: one request per connection, answers from a route table,
/// counts requests by path. Closing it makes the port refuse connections (unreachable).
class FakeProvider : public QObject {
public:
    struct Route {
        int status = 200;
        QByteArray body;
        QByteArray headers; ///< extra header lines, each ending in \r\n
        bool hang = false; ///< accept the request, never answer
        bool contentLength = true; ///< without: the body ends when the connection closes
    };

    FakeProvider()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
    }

    bool listen()
    {
        if (!m_server.listen(QHostAddress::LocalHost, m_port))
            return false;
        m_port = m_server.serverPort();
        return true;
    }
    /// Stops listening and drops every open connection.
    void close()
    {
        m_server.close();
        for (const QPointer<QTcpSocket> &s : std::as_const(m_open)) {
            if (s)
                s->abort();
        }
        m_open.clear();
    }
    QUrl url(const QString &path) const
    {
        return QUrl(u"http://127.0.0.1:%1%2"_s.arg(m_port).arg(path));
    }
    void set(const QByteArray &path, Route route) { m_routes.insert(path, std::move(route)); }
    void serve(const QByteArray &path, const QByteArray &json)
    {
        set(path, Route {200, json, {}, false, true});
    }
    int hits(const QByteArray &path) const { return m_hits.value(path); }

private:
    void accept()
    {
        while (QTcpSocket *s = m_server.nextPendingConnection()) {
            m_open.append(s);
            connect(s, &QTcpSocket::readyRead, this, [this, s] { read(s); });
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    }

    void read(QTcpSocket *s)
    {
        QByteArray buffer = s->property("buffer").toByteArray() + s->readAll();
        if (!buffer.contains("\r\n\r\n")) {
            s->setProperty("buffer", buffer);
            return;
        }
        QByteArray path = buffer.left(buffer.indexOf("\r\n")).split(' ').value(1);
        if (const qsizetype q = path.indexOf('?'); q >= 0)
            path.truncate(q);
        ++m_hits[path];
        const Route r = m_routes.value(path, Route {404, "no such path", {}, false, true});
        if (r.hang)
            return;
        QByteArray response = "HTTP/1.1 " + QByteArray::number(r.status)
            + " X\r\nConnection: close\r\nContent-Type: application/json\r\n" + r.headers;
        if (r.contentLength)
            response += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
        s->write(response + "\r\n" + r.body);
        s->disconnectFromHost();
    }

    QTcpServer m_server;
    quint16 m_port = 0;
    QHash<QByteArray, Route> m_routes;
    QHash<QByteArray, int> m_hits;
    QList<QPointer<QTcpSocket>> m_open;
};

constexpr char JwksPath[] = "/jwks";

JwksClientOptions fastOptions(const QUrl &jwksUrl)
{
    JwksClientOptions o;
    o.jwksUrl = jwksUrl;
    o.minRefreshInterval = 0ms;
    o.initialRetryDelay = 50ms;
    o.maxRetryDelay = 200ms;
    o.fetchTimeout = 5s;
    return o;
}

} // namespace

class TestJwks : public QObject {
    Q_OBJECT

private:
    PkeyPtr m_rsa1, m_rsa2, m_rsaPss, m_ec, m_rsa1024, m_p384;

    /// A validator over a store holding the key set parsed from `json`.
    JwtValidator validatorFor(const QByteArray &json, JwtValidationOptions o = options()) const
    {
        auto set = JwtKeySet::parse(json);
        if (!set)
            qFatal("key set: %s", qPrintable(set.error().message));
        auto store = std::make_shared<JwksKeyStore>();
        store->publish(*set);
        return *JwtValidator::withKeySet(store, std::move(o));
    }

    /// A started client with keys loaded, or null (the test failed).
    std::unique_ptr<JwksClient> loadedClient(JwksClientOptions o)
    {
        auto client = std::make_unique<JwksClient>(std::move(o));
        QSignalSpy updated(client.get(), &JwksClient::keysUpdated);
        client->start();
        if (!updated.wait(Wait))
            return nullptr;
        return client;
    }

private Q_SLOTS:
    void initTestCase();

    void jwkParsing_data();
    void jwkParsing();
    void algorithms_data();
    void algorithms();
    void claimMapping_data();
    void claimMapping();
    void concurrentValidation();

    void discovery();
    void keyRotation();
    void unknownKeyRateLimit();
    void providerUnreachable();
    void providerDownAtStart();
    void hangingProvider();
    void malformedJwks_data();
    void malformedJwks();
    void urlRules_data();
    void urlRules();
    void insecureRedirectsAndJwksUri();

    void serveOptions();
    void serverEndToEnd();
};

void TestJwks::initTestCase()
{
    m_rsa1 = generate("RSA", nullptr, 2048);
    m_rsa2 = generate("RSA", nullptr, 2048);
    m_rsaPss = generate("RSA", nullptr, 2048);
    m_ec = generate("EC", "P-256");
    m_rsa1024 = generate("RSA", nullptr, 1024);
    m_p384 = generate("EC", "P-384");
}

// --- JWK Sets -----------------------------------------------------------------------------------

void TestJwks::jwkParsing_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("usable"); // -1: the whole set is refused
    QTest::addColumn<QString>("message"); // part of the error, or of a skipped key's reason

    EVP_PKEY *rsa = m_rsa1.get();
    const QByteArray good = rsaJwk(rsa, "good");
    QTest::newRow("RSA, EC, no kid")
        << jwks({good, ecJwk(m_ec.get(), "ec"), rsaJwk(m_rsa2.get(), QByteArray())}) << 3
        << QString();
    QTest::newRow("alg and use sig")
        << jwks({rsaJwk(rsa, "a", "PS256", R"(,"use":"sig")")}) << 1 << QString();
    QTest::newRow("key_ops verify")
        << jwks({rsaJwk(rsa, "a", {}, R"(,"key_ops":["verify"])")}) << 1 << QString();
    QTest::newRow("x5c and unknown members ignored")
        << jwks({rsaJwk(rsa, "a", {}, R"(,"x5c":["MIIB"],"x5t":"abc","extra":{"a":1})")}) << 1
        << QString();

    // Skipped keys (one good key keeps the set usable).
    const auto skipped = [&](const char *row, const QByteArray &bad, const char *why) {
        QTest::newRow(row) << jwks({bad, good}) << 1 << QString::fromUtf8(why);
    };
    skipped("use enc", rsaJwk(rsa, "b", {}, R"(,"use":"enc")"), "not for signatures");
    skipped("key_ops sign only", rsaJwk(rsa, "b", {}, R"(,"key_ops":["sign"])"), "verify");
    skipped("oct key", R"({"kty":"oct","kid":"b","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ"})",
            "secret key material");
    skipped("OKP key", R"({"kty":"OKP","kid":"b","crv":"Ed25519","x":"AAAA"})",
            "Unsupported key type \"OKP\"");
    skipped("alg HS256", rsaJwk(rsa, "b", "HS256"), "not RS256, PS256 or ES256");
    skipped("alg none", rsaJwk(rsa, "b", "none"), "not RS256, PS256 or ES256");
    skipped("alg RSA-OAEP", rsaJwk(rsa, "b", "RSA-OAEP"), "not RS256, PS256 or ES256");
    skipped("alg ES256 on an RSA key", rsaJwk(rsa, "b", "ES256"), "does not fit");
    skipped("alg RS256 on an EC key", ecJwk(m_ec.get(), "b", "RS256"), "does not fit");
    skipped("RSA 1024", rsaJwk(m_rsa1024.get(), "b"), "2048");
    skipped("P-384", R"({"kty":"EC","kid":"b","crv":"P-384","x":"AAAA","y":"AAAA"})", "P-256");
    skipped("EC point off the curve", ecJwk(m_ec.get(), "b", {}, {}, true), "not on the curve");
    skipped("private RSA key", rsaJwk(rsa, "b", {}, R"(,"d":"AQAB")"), "private");
    skipped("n is a number", R"({"kty":"RSA","kid":"b","n":5,"e":"AQAB"})", "\"n\"");
    skipped("e missing", R"({"kty":"RSA","kid":"b","n":"AQAB"})", "\"e\"");
    skipped("n padded base64", rsaJwk(rsa, "b").replace(R"(","e")", R"(=","e")"), "\"n\"");
    skipped("x of 31 bytes",
            R"({"kty":"EC","kid":"b","crv":"P-256","x":")" + b64(QByteArray(31, '\1'))
                + R"(","y":")" + b64(QByteArray(32, '\1')) + R"("})",
            "\"x\"");
    skipped("kid a number", R"({"kty":"RSA","kid":7,"n":"AQAB","e":"AQAB"})", "\"kid\"");
    skipped("use a number", rsaJwk(rsa, "b", {}, R"(,"use":1)"), "\"use\"");
    skipped("duplicate member", rsaJwk(rsa, "b", {}, R"(,"kty":"EC")"), "duplicate");
    skipped("a key is a string", R"("RSA")", "not a JSON object");

    // Refused sets.
    QTest::newRow("not JSON") << QByteArray("<html>") << -1 << u"not valid JSON"_s;
    QTest::newRow("empty") << QByteArray() << -1 << u"not valid JSON"_s;
    QTest::newRow("an array") << QByteArray(R"([{"kty":"RSA"}])") << -1 << u"not a JSON object"_s;
    QTest::newRow("no keys") << QByteArray("{}") << -1 << u"no \"keys\" array"_s;
    QTest::newRow("keys an object")
        << QByteArray(R"({"keys":{"kty":"RSA"}})") << -1 << u"no \"keys\" array"_s;
    QTest::newRow("keys empty") << jwks({}) << -1 << u"no usable signing key"_s;
    QTest::newRow("only unusable keys")
        << jwks({rsaJwk(rsa, "b", {}, R"(,"use":"enc")")}) << -1 << u"not for signatures"_s;
    QList<QByteArray> many;
    for (int i = 0; i < 33; ++i)
        many.append(good);
    QTest::newRow("33 keys") << jwks(many) << -1 << u"at most 32"_s;
    QTest::newRow("deep nesting") << QByteArray(R"({"keys":)" + QByteArray(100, '[')) << -1
                                  << u"not valid JSON"_s;
    QTest::newRow("over 1 MiB") << QByteArray(R"({"keys":[)" + good + R"(],"pad":")"
                                              + QByteArray(1024 * 1024, 'x') + "\"}")
                                << -1 << u"larger than"_s;
}

void TestJwks::jwkParsing()
{
    QFETCH(QByteArray, json);
    QFETCH(int, usable);
    QFETCH(QString, message);

    QStringList skipped;
    const auto set = JwtKeySet::parse(json, {}, &skipped);
    if (usable < 0) {
        QVERIFY(!set);
        QVERIFY2(set.error().message.contains(message), qPrintable(set.error().message));
        QCOMPARE(ERR_peek_error(), 0UL);
        return;
    }
    QVERIFY2(set, set ? "" : qPrintable(set.error().message));
    QCOMPARE((*set)->keys().size(), qsizetype(usable));
    if (!message.isEmpty()) {
        QCOMPARE(skipped.size(), 1);
        QVERIFY2(skipped.first().contains(message), qPrintable(skipped.first()));
    }
    QCOMPARE(ERR_peek_error(), 0UL); // the OpenSSL error queue is left clean
}

void TestJwks::algorithms_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<JwtErrorCode>("expected");

    using enum JwtErrorCode;
    EVP_PKEY *rsa1 = m_rsa1.get();
    EVP_PKEY *rsa2 = m_rsa2.get();
    EVP_PKEY *pss = m_rsaPss.get();
    EVP_PKEY *ec = m_ec.get();
    // The set (see algorithms()): "rs" rsa1 without alg, "rs-only" rsa2 alg RS256, "ps-only"
    // pss alg PS256, "ec" ec alg ES256.
    QTest::newRow("RS256, key without alg") << token(rsa1, "RS256", "rs") << Accepted;
    QTest::newRow("PS256, key without alg") << token(rsa1, "PS256", "rs") << Accepted;
    QTest::newRow("RS256, key alg RS256") << token(rsa2, "RS256", "rs-only") << Accepted;
    QTest::newRow("PS256, key alg RS256")
        << token(rsa2, "PS256", "rs-only") << UnsupportedAlgorithm;
    QTest::newRow("PS256, key alg PS256") << token(pss, "PS256", "ps-only") << Accepted;
    QTest::newRow("RS256, key alg PS256") << token(pss, "RS256", "ps-only") << UnsupportedAlgorithm;
    QTest::newRow("ES256") << token(ec, "ES256", "ec") << Accepted;
    QTest::newRow("RS256 naming the EC key") << token(rsa1, "RS256", "ec") << UnsupportedAlgorithm;
    QTest::newRow("ES256 naming an RSA key") << token(ec, "ES256", "rs") << UnsupportedAlgorithm;
    QTest::newRow("PS256 with a 20-byte salt")
        << token(rsa1, "PS256", "rs", claims(), 20) << BadSignature;
    QTest::newRow("no kid, RS256") << token(rsa1, "RS256", QByteArray()) << Accepted;
    QTest::newRow("no kid, PS256 (only keys that allow it)")
        << token(pss, "PS256", QByteArray()) << Accepted;
    QTest::newRow("no kid, ES256") << token(ec, "ES256", QByteArray()) << Accepted;
    QTest::newRow("signed by another key") << token(rsa2, "RS256", "rs") << BadSignature;
    QTest::newRow("unknown kid") << token(rsa1, "RS256", "nope") << UnknownKey;
    QTest::newRow("kid a number") << QByteArray(b64(R"({"alg":"RS256","kid":1})") + '.'
                                                + b64(claims()) + ".AAAA")
                                  << Malformed;

    // Key confusion: HS256 with the public key's bytes (n, or its JWK text) as the secret.
    const QByteArray hsHeader = b64(R"({"alg":"HS256","kid":"rs"})") + '.' + b64(claims());
    QTest::newRow("HS256 keyed with n") << QByteArray(
        hsHeader + '.' + b64(hmacSha256(bnParam(rsa1, OSSL_PKEY_PARAM_RSA_N), hsHeader)))
                                        << UnsupportedAlgorithm;
    QTest::newRow("HS256 keyed with the JWK")
        << QByteArray(hsHeader + '.' + b64(hmacSha256(rsaJwk(rsa1, "rs"), hsHeader)))
        << UnsupportedAlgorithm;
    QTest::newRow("none") << QByteArray(b64(R"({"alg":"none","kid":"rs"})") + '.' + b64(claims())
                                        + '.')
                          << UnsupportedAlgorithm;
    QTest::newRow("NONE") << QByteArray(b64(R"({"alg":"NONE"})") + '.' + b64(claims()) + '.')
                          << UnsupportedAlgorithm;
    const QByteArray rs512Input = b64(R"({"alg":"RS512","kid":"rs"})") + '.' + b64(claims());
    QTest::newRow("RS512") << QByteArray(rs512Input + '.' + b64(sign(rsa1, "RS256", rs512Input)))
                           << UnsupportedAlgorithm;
}

void TestJwks::algorithms()
{
    QFETCH(QByteArray, token);
    QFETCH(JwtErrorCode, expected);

    const JwtValidator v = validatorFor(
        jwks({rsaJwk(m_rsa1.get(), "rs"), rsaJwk(m_rsa2.get(), "rs-only", "RS256"),
              rsaJwk(m_rsaPss.get(), "ps-only", "PS256"), ecJwk(m_ec.get(), "ec", "ES256")}));
    QVERIFY(v.usesKeySet());
    const JwtResult<Claims> r = v.validate(token);
    CHECK_OUTCOME(r, expected);
    if (!r) {
        // Never the token or a segment of it in the message.
        for (const QByteArray &segment : token.split('.')) {
            if (segment.size() >= 6)
                QVERIFY(!r.error().message.toUtf8().contains(segment));
        }
    }
    QCOMPARE(ERR_peek_error(), 0UL);
}

void TestJwks::claimMapping_data()
{
    QTest::addColumn<QByteArray>("mapping"); // default, keycloak, entra, dotted
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<JwtErrorCode>("expected");
    QTest::addColumn<QByteArray>("subject");
    QTest::addColumn<QByteArray>("tenant");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArrayList>("roles");

    using enum JwtErrorCode;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray times = R"("aud":"heliograph","exp":)" + QByteArray::number(now + 600)
        + R"(,"iat":)" + QByteArray::number(now);

    QTest::newRow("default: sub, tenant_id, name, role and the .NET role")
        << QByteArray("default")
        << claims(
               R"("name":"Ada","role":"Admin","http://schemas.microsoft.com/ws/2008/06/identity/claims/role":["Ops"])")
        << Accepted << QByteArray("user-1") << QByteArray("acme") << u"Ada"_s
        << QByteArrayList {"Admin", "Ops"};

    // Keycloak: realm roles nested, a tenant from a mapper, the user name.
    const QByteArray keycloak = R"({"sub":"f1b2c3d4-0000-4000-8000-000000000001",)"
                                R"("preferred_username":"ada","tenant":"acme",)"
                                R"("realm_access":{"roles":["Admin","offline_access"]},)"
                                R"("resource_access":{"account":{"roles":["view-profile"]}},)"
        + times + '}';
    QTest::newRow("Keycloak realm_access.roles")
        << QByteArray("keycloak") << keycloak << Accepted
        << QByteArray("f1b2c3d4-0000-4000-8000-000000000001") << QByteArray("acme") << u"ada"_s
        << QByteArrayList {"Admin", "offline_access", "view-profile"};
    QTest::newRow("Keycloak without realm_access: no roles")
        << QByteArray("keycloak") << QByteArray(R"({"sub":"u","tenant":"acme",)" + times + '}')
        << Accepted << QByteArray("u") << QByteArray("acme") << QString() << QByteArrayList {};
    QTest::newRow("Keycloak realm_access not an object: no roles")
        << QByteArray("keycloak")
        << QByteArray(R"({"sub":"u","tenant":"acme","realm_access":"x",)" + times + '}') << Accepted
        << QByteArray("u") << QByteArray("acme") << QString() << QByteArrayList {};
    QTest::newRow("Keycloak roles of the wrong type")
        << QByteArray("keycloak")
        << QByteArray(R"({"sub":"u","tenant":"acme","realm_access":{"roles":[1]},)" + times + '}')
        << Malformed << QByteArray() << QByteArray() << QString() << QByteArrayList {};
    QTest::newRow("Keycloak without the tenant claim")
        << QByteArray("keycloak") << QByteArray(R"({"sub":"u",)" + times + '}') << MissingClaim
        << QByteArray() << QByteArray() << QString() << QByteArrayList {};

    // Entra ID: tid and oid, app roles in "roles", name.
    const QByteArray entra
        = R"({"sub":"pairwise-subject","oid":"00000000-0000-0000-0000-0000000000aa",)"
          R"("tid":"11111111-2222-3333-4444-555555555555","name":"Grace Hopper",)"
          R"("roles":["Notifications.Admin"],"role":"ignored",)"
        + times + '}';
    QTest::newRow("Entra tid/oid/roles")
        << QByteArray("entra") << entra << Accepted
        << QByteArray("00000000-0000-0000-0000-0000000000aa")
        << QByteArray("11111111-2222-3333-4444-555555555555") << u"Grace Hopper"_s
        << QByteArrayList {"Notifications.Admin"};
    QTest::newRow("Entra without oid")
        << QByteArray("entra")
        << QByteArray(R"({"sub":"s","tid":"11111111-2222-3333-4444-555555555555",)" + times + '}')
        << MissingClaim << QByteArray() << QByteArray() << QString() << QByteArrayList {};
    QTest::newRow("Entra tid a number")
        << QByteArray("entra") << QByteArray(R"({"oid":"o","tid":5,)" + times + '}') << Malformed
        << QByteArray() << QByteArray() << QString() << QByteArrayList {};

    // A claim whose name has dots wins over the nested path.
    QTest::newRow("dotted name first")
        << QByteArray("dotted")
        << claims(R"("realm_access.roles":["Flat"],"realm_access":{"roles":["Nested"]})")
        << Accepted << QByteArray("user-1") << QByteArray("acme") << QString()
        << QByteArrayList {"Flat"};
    QTest::newRow("dotted path when no such name")
        << QByteArray("dotted") << claims(R"("realm_access":{"roles":"Nested"})") << Accepted
        << QByteArray("user-1") << QByteArray("acme") << QString() << QByteArrayList {"Nested"};
    QTest::newRow("empty path segment")
        << QByteArray("bad-path") << claims(R"("a":{"":{"b":"x"}})") << Accepted
        << QByteArray("user-1") << QByteArray("acme") << QString() << QByteArrayList {};
}

void TestJwks::claimMapping()
{
    QFETCH(QByteArray, mapping);
    QFETCH(QByteArray, payload);
    QFETCH(JwtErrorCode, expected);
    QFETCH(QByteArray, subject);
    QFETCH(QByteArray, tenant);
    QFETCH(QString, name);
    QFETCH(QByteArrayList, roles);

    JwtValidationOptions o = options();
    if (mapping == "keycloak") {
        o.tenantClaim = "tenant";
        o.nameClaims = {"preferred_username"};
        o.roleClaims = {"realm_access.roles", "resource_access.account.roles"};
    } else if (mapping == "entra") {
        o.userClaim = "oid";
        o.tenantClaim = "tid";
        o.roleClaims = {"roles"};
    } else if (mapping == "dotted") {
        o.roleClaims = {"realm_access.roles"};
    } else if (mapping == "bad-path") {
        o.roleClaims = {"a..b", ".a", "a."};
    }
    o.requiredClaims = {o.userClaim, o.tenantClaim};
    const JwtValidator v = validatorFor(jwks({rsaJwk(m_rsa1.get(), "k")}), o);
    const JwtResult<Claims> r = v.validate(token(m_rsa1.get(), "RS256", "k", payload));
    CHECK_OUTCOME(r, expected);
    if (!r)
        return;
    QCOMPARE(r->subject, subject);
    QCOMPARE(r->tenantId, tenant);
    QCOMPARE(r->name, name);
    QCOMPARE(r->roles, roles);
}

// Validation on several threads while the key set is replaced and refreshes are asked for:
// no network (this one also runs under ThreadSanitizer).
void TestJwks::concurrentValidation()
{
    auto setA = JwtKeySet::parse(jwks({rsaJwk(m_rsa1.get(), "a"), ecJwk(m_ec.get(), "e")}));
    auto setB = JwtKeySet::parse(jwks({rsaJwk(m_rsa2.get(), "b"), ecJwk(m_ec.get(), "e")}));
    QVERIFY(setA && setB);
    auto store = std::make_shared<JwksKeyStore>(0ms);
    std::atomic<int> handlerCalls {0};
    store->setRefreshHandler([&handlerCalls] { ++handlerCalls; });
    store->publish(*setA);
    const JwtValidator v = *JwtValidator::withKeySet(store, options());
    const QByteArray tokenA = token(m_rsa1.get(), "RS256", "a");
    const QByteArray tokenB = token(m_rsa2.get(), "RS256", "b");
    const QByteArray tokenE = token(m_ec.get(), "ES256", "e");

    std::atomic<bool> stop {false};
    std::atomic<int> wrong {0};
    std::atomic<int> validations {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            while (!stop) {
                // The EC key is in both sets: always accepted.
                if (!v.validate(tokenE))
                    ++wrong;
                // A and B: accepted, or refused as unknown while the other set is current.
                for (const QByteArray *t2 : {&tokenA, &tokenB}) {
                    const JwtResult<Claims> r = v.validate(*t2);
                    if (!r && r.error().code != JwtErrorCode::UnknownKey)
                        ++wrong;
                }
                ++validations;
            }
        });
    }
    for (int i = 0; i < 200 || validations < 100; ++i)
        store->publish(i % 2 ? *setA : *setB);
    stop = true;
    for (std::thread &t : threads)
        t.join();
    QCOMPARE(wrong.load(), 0);
    QVERIFY(handlerCalls > 0); // unknown kids asked for refreshes
    QCOMPARE(handlerCalls.load(), store->refreshRequests());
}

// --- the client against a provider --------------------------------------------------------------

void TestJwks::discovery()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    const QByteArray issuer = provider.url(u"/realms/acme"_s).toString().toUtf8();
    provider.serve(
        "/realms/acme/.well-known/openid-configuration",
        R"({"issuer":")" + issuer + R"(","jwks_uri":")"
            + provider.url(u"/realms/acme/protocol/openid-connect/certs"_s).toString().toUtf8()
            + R"(","id_token_signing_alg_values_supported":["RS256"]})");
    provider.serve("/realms/acme/protocol/openid-connect/certs",
                   jwks({rsaJwk(m_rsa1.get(), "k1", "RS256", R"(,"use":"sig")"),
                         rsaJwk(m_rsa2.get(), "enc-key", "RSA-OAEP", R"(,"use":"enc")")}));

    JwksClientOptions o;
    o.authority = provider.url(u"/realms/acme/"_s); // a trailing slash is fine
    auto client = loadedClient(o);
    QVERIFY(client);
    QCOMPARE(provider.hits("/realms/acme/.well-known/openid-configuration"), 1);
    QCOMPARE(provider.hits("/realms/acme/protocol/openid-connect/certs"), 1);
    const auto keys = client->store()->current();
    QVERIFY(keys);
    QCOMPARE(keys->keys().size(), 1);
    QCOMPARE(keys->issuer(), issuer);
    QVERIFY(client->lastError().isEmpty());

    // The discovered issuer is the expected `iss`.
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());
    CHECK_OUTCOME(
        v.validate(token(m_rsa1.get(), "RS256", "k1", claims(R"("iss":")" + issuer + '"'))),
        Accepted);
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1",
                                   claims(R"("iss":"https://other.example/realms/acme")"))),
                  JwtErrorCode::WrongIssuer);
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), JwtErrorCode::WrongIssuer);
    // An explicit issuer (jwt-issuer) wins over the discovered one.
    JwtValidationOptions explicitIssuer = options();
    explicitIssuer.issuer = "https://public.example/realms/acme";
    const JwtValidator v2 = v.withOptions(explicitIssuer);
    CHECK_OUTCOME(v2.validate(token(m_rsa1.get(), "RS256", "k1",
                                    claims(R"("iss":"https://public.example/realms/acme")"))),
                  Accepted);
    CHECK_OUTCOME(
        v2.validate(token(m_rsa1.get(), "RS256", "k1", claims(R"("iss":")" + issuer + '"'))),
        JwtErrorCode::WrongIssuer);

    // A scheduled refresh fetches the key set again (the jwks_uri is known by now).
    QSignalSpy updated(client.get(), &JwksClient::keysUpdated);
    client->refresh();
    QVERIFY(updated.wait(Wait));
    QCOMPARE(provider.hits("/realms/acme/.well-known/openid-configuration"), 1);
    QCOMPARE(provider.hits("/realms/acme/protocol/openid-connect/certs"), 2);
}

void TestJwks::keyRotation()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    auto client = loadedClient(fastOptions(provider.url(u"/jwks"_s)));
    QVERIFY(client);
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());
    const QByteArray old = token(m_rsa1.get(), "RS256", "k1");
    const QByteArray rotated = token(m_ec.get(), "ES256", "k2");
    CHECK_OUTCOME(v.validate(old), Accepted);
    QCOMPARE(provider.hits(JwksPath), 1);

    // The provider rotates: k2 in, k1 out.
    provider.serve(JwksPath, jwks({ecJwk(m_ec.get(), "k2")}));
    QSignalSpy updated(client.get(), &JwksClient::keysUpdated);
    // The first token with the new kid is refused at once (on a worker thread: the refresh is
    // posted to the client's thread, nothing waits for the network).
    JwtErrorCode first = Accepted;
    QString message;
    std::thread worker([&] {
        const JwtResult<Claims> r = v.validate(rotated);
        first = outcome(r);
        message = r ? QString() : r.error().message;
    });
    worker.join();
    QCOMPARE(first, JwtErrorCode::UnknownKey);
    QVERIFY2(message.contains(u"\"k2\""_s) && message.contains(u"try again"_s),
             qPrintable(message));
    QCOMPARE(client->store()->refreshRequests(), 1);
    QVERIFY(updated.wait(Wait));
    QCOMPARE(provider.hits(JwksPath), 2);
    // The client's next attempt succeeds; the old key is gone.
    CHECK_OUTCOME(v.validate(rotated), Accepted);
    CHECK_OUTCOME(v.validate(old), JwtErrorCode::UnknownKey);
    QVERIFY(updated.wait(Wait)); // k1 asked for one more refresh: still gone
    CHECK_OUTCOME(v.validate(old), JwtErrorCode::UnknownKey);
    CHECK_OUTCOME(v.validate(rotated), Accepted);
}

void TestJwks::unknownKeyRateLimit()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    JwksClientOptions o = fastOptions(provider.url(u"/jwks"_s));
    o.minRefreshInterval = 1h;
    auto client = loadedClient(o);
    QVERIFY(client);
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());

    // 40 tokens with unknown kids from 4 threads: all refused, one refresh.
    std::atomic<int> refused {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const QByteArray kid = "unknown-" + QByteArray::number(t * 10 + i);
                const JwtResult<Claims> r = v.validate(token(m_rsa1.get(), "RS256", kid));
                if (!r && r.error().code == JwtErrorCode::UnknownKey)
                    ++refused;
            }
        });
    }
    for (std::thread &t : threads)
        t.join();
    QCOMPARE(refused.load(), 40);
    QCOMPARE(client->store()->refreshRequests(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(provider.hits(JwksPath), 2, Wait);
    QTRY_VERIFY_WITH_TIMEOUT(!client->isFetching(), Wait);
    for (int i = 0; i < 10; ++i)
        CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "later")), JwtErrorCode::UnknownKey);
    QCOMPARE(client->store()->refreshRequests(), 1);
    QCoreApplication::processEvents();
    QCOMPARE(provider.hits(JwksPath), 2);
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), Accepted);

    // With a short interval, the next unknown kid after it refreshes again.
    o.minRefreshInterval = 300ms;
    auto fast = loadedClient(o);
    QVERIFY(fast);
    const JwtValidator vf = *JwtValidator::withKeySet(fast->store(), options());
    const QByteArray unknown = token(m_rsa1.get(), "RS256", "unknown");
    QElapsedTimer clock;
    clock.start();
    CHECK_OUTCOME(vf.validate(unknown), JwtErrorCode::UnknownKey);
    CHECK_OUTCOME(vf.validate(unknown), JwtErrorCode::UnknownKey);
    QCOMPARE(fast->store()->refreshRequests(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(provider.hits(JwksPath), 4, Wait);
    const auto refreshedAgain = [&] {
        (void)vf.validate(unknown);
        return fast->store()->refreshRequests() == 2;
    };
    QTRY_VERIFY_WITH_TIMEOUT(refreshedAgain(), Wait);
    QVERIFY(clock.elapsed() >= 300);
    QTRY_COMPARE_WITH_TIMEOUT(provider.hits(JwksPath), 5, Wait);
}

void TestJwks::providerUnreachable()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    auto client = loadedClient(fastOptions(provider.url(u"/jwks"_s)));
    QVERIFY(client);
    const auto loaded = client->store()->current();
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());
    const QByteArray cached = token(m_rsa1.get(), "RS256", "k1");
    const QByteArray unknown = token(m_rsa2.get(), "RS256", "k2");

    provider.close();
    QSignalSpy failed(client.get(), &JwksClient::fetchFailed);
    QElapsedTimer clock;
    clock.start();
    CHECK_OUTCOME(v.validate(cached), Accepted);
    CHECK_OUTCOME(v.validate(unknown), JwtErrorCode::UnknownKey); // asks for a refresh
    QVERIFY(clock.elapsed() < 1000); // nothing waited for the network
    QVERIFY(failed.wait(Wait));
    const QString error = failed.first().first().toString();
    QVERIFY2(error.contains(u"GET http://127.0.0.1:"_s), qPrintable(error));
    QCOMPARE(client->lastError(), error);
    // It keeps retrying (with backoff); the cached keys stay in use meanwhile.
    QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 3, Wait);
    QVERIFY(client->store()->current() == loaded);
    CHECK_OUTCOME(v.validate(cached), Accepted);
    CHECK_OUTCOME(v.validate(unknown), JwtErrorCode::UnknownKey);

    // Back, with the new key: picked up by the next retry.
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1"), rsaJwk(m_rsa2.get(), "k2")}));
    QVERIFY(provider.listen());
    QSignalSpy updated(client.get(), &JwksClient::keysUpdated);
    QVERIFY(updated.wait(Wait));
    CHECK_OUTCOME(v.validate(unknown), Accepted);
    QVERIFY(client->lastError().isEmpty());
}

void TestJwks::providerDownAtStart()
{
    FakeProvider provider;
    QVERIFY(provider.listen()); // for a port number
    provider.close();
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    JwksClientOptions o = fastOptions(provider.url(u"/jwks"_s));
    o.minRefreshInterval = 1h;
    JwksClient client(o);
    QSignalSpy failed(&client, &JwksClient::fetchFailed);
    QSignalSpy updated(&client, &JwksClient::keysUpdated);
    client.start();
    QVERIFY(failed.wait(Wait));
    QVERIFY(!client.store()->current());
    const JwtValidator v = *JwtValidator::withKeySet(client.store(), options());
    const JwtResult<Claims> r = v.validate(token(m_rsa1.get(), "RS256", "k1"));
    CHECK_OUTCOME(r, JwtErrorCode::UnknownKey);
    QVERIFY2(r.error().message.contains(u"not loaded"_s), qPrintable(r.error().message));

    QVERIFY(provider.listen());
    QVERIFY(updated.wait(Wait)); // a retry, not a token, brought them
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), Accepted);
}

void TestJwks::hangingProvider()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    JwksClientOptions o = fastOptions(provider.url(u"/jwks"_s));
    o.fetchTimeout = 300ms;
    auto client = loadedClient(o);
    QVERIFY(client);
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());

    FakeProvider::Route hang;
    hang.hang = true;
    provider.set(JwksPath, hang);
    QSignalSpy failed(client.get(), &JwksClient::fetchFailed);
    QElapsedTimer clock;
    clock.start();
    client->refresh();
    QVERIFY(client->isFetching());
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), Accepted);
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k9")), JwtErrorCode::UnknownKey);
    QCOMPARE(client->store()->refreshRequests(), 0); // a fetch is running: nothing more to ask
    QVERIFY(failed.wait(Wait));
    QVERIFY(clock.elapsed() >= 250);
    const QString error = failed.first().first().toString();
    QVERIFY2(error.contains(u"no complete answer within 300 ms"_s), qPrintable(error));
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), Accepted);
}

void TestJwks::malformedJwks_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("contentLength");
    QTest::addColumn<QString>("message");

    QTest::newRow("garbage") << 200 << QByteArray("\x01\x02garbage{") << true
                             << u"not valid JSON"_s;
    QTest::newRow("an HTML page") << 200 << QByteArray("<html><body>Login</body></html>") << true
                                  << u"not valid JSON"_s;
    QTest::newRow("empty body") << 200 << QByteArray() << true << u"not valid JSON"_s;
    QTest::newRow("keys a string")
        << 200 << QByteArray(R"({"keys":"x"})") << true << u"no \"keys\" array"_s;
    QTest::newRow("wrong member types")
        << 200 << QByteArray(R"({"keys":[{"kty":"RSA","kid":"k1","n":5,"e":"AQAB"}]})") << true
        << u"no usable signing key"_s;
    QTest::newRow("only an HMAC key")
        << 200 << QByteArray(R"({"keys":[{"kty":"oct","kid":"k1","k":"AAAA"}]})") << true
        << u"no usable signing key"_s;
    QTest::newRow("deeply nested") << 200 << QByteArray(100000, '[') << true << u"not valid JSON"_s;
    QTest::newRow("huge, with Content-Length")
        << 200 << QByteArray(2 * 1024 * 1024, ' ') << true << u"more than the limit"_s;
    QTest::newRow("huge, without Content-Length")
        << 200 << QByteArray(2 * 1024 * 1024, ' ') << false << u"larger than the limit"_s;
    QTest::newRow("HTTP 500") << 500 << QByteArray("{}") << true << u"HTTP status 500"_s;
    QTest::newRow("HTTP 404") << 404 << QByteArray() << true << u"HTTP status 404"_s;
}

void TestJwks::malformedJwks()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(bool, contentLength);
    QFETCH(QString, message);

    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1")}));
    auto client = loadedClient(fastOptions(provider.url(u"/jwks"_s)));
    QVERIFY(client);
    const auto loaded = client->store()->current();
    const JwtValidator v = *JwtValidator::withKeySet(client->store(), options());

    provider.set(JwksPath, FakeProvider::Route {status, body, {}, false, contentLength});
    QSignalSpy failed(client.get(), &JwksClient::fetchFailed);
    client->refresh();
    QVERIFY(failed.wait(Wait));
    const QString error = failed.first().first().toString();
    QVERIFY2(error.contains(message), qPrintable(error));
    QVERIFY2(error.contains(u"/jwks"_s), qPrintable(error)); // says where
    QVERIFY(client->store()->current() == loaded); // the old key set is kept
    CHECK_OUTCOME(v.validate(token(m_rsa1.get(), "RS256", "k1")), Accepted);
}

void TestJwks::urlRules_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("error"); // empty: allowed

    QTest::newRow("https") << u"https://login.example.com/realms/acme"_s << QString();
    QTest::newRow("https with port") << u"https://idp.example:8443/x"_s << QString();
    QTest::newRow("http 127.0.0.1") << u"http://127.0.0.1:8080/realms/x"_s << QString();
    QTest::newRow("http 127.1.2.3") << u"http://127.1.2.3/x"_s << QString();
    QTest::newRow("http ::1") << u"http://[::1]:8080/x"_s << QString();
    QTest::newRow("http localhost") << u"http://localhost:8080/x"_s << QString();
    QTest::newRow("http elsewhere") << u"http://login.example.com/realms/acme"_s << u"https"_s;
    QTest::newRow("http private address") << u"http://10.0.0.5/x"_s << u"https"_s;
    QTest::newRow("http localhost.example") << u"http://localhost.example.com/x"_s << u"https"_s;
    QTest::newRow("ftp") << u"ftp://example.com/jwks"_s << u"https"_s;
    QTest::newRow("relative") << u"/realms/acme"_s << u"absolute"_s;
    QTest::newRow("empty host") << u"https:///x"_s << u"absolute"_s;
    QTest::newRow("credentials") << u"https://user:pw@example.com/x"_s << u"user name"_s;
}

void TestJwks::urlRules()
{
    QFETCH(QString, url);
    QFETCH(QString, error);
    const QString why = JwksClient::checkUrl(QUrl(url, QUrl::StrictMode), u"--jwt-authority"_s);
    if (error.isEmpty()) {
        QVERIFY2(why.isEmpty(), qPrintable(why));
    } else {
        QVERIFY2(why.contains(error), qPrintable(why));
        QVERIFY2(why.startsWith(u"--jwt-authority"_s), qPrintable(why));
        QVERIFY(!why.contains(u"pw"_s));
    }
}

void TestJwks::insecureRedirectsAndJwksUri()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    // Discovery that points the keys at plain http elsewhere.
    provider.serve("/.well-known/openid-configuration",
                   R"({"issuer":"https://idp.example","jwks_uri":"http://idp.example/jwks"})");
    {
        JwksClientOptions o = fastOptions({});
        o.authority = provider.url(QString());
        JwksClient discovering(o);
        QSignalSpy failed(&discovering, &JwksClient::fetchFailed);
        discovering.start();
        QVERIFY(failed.wait(Wait));
        QString error = failed.first().first().toString();
        QVERIFY2(error.contains(u"jwks_uri"_s) && error.contains(u"must use https"_s),
                 qPrintable(error));

        // A discovery document without jwks_uri.
        provider.serve("/.well-known/openid-configuration", R"({"issuer":"https://idp.example"})");
        QVERIFY(failed.wait(Wait)); // the retry
        error = failed.last().first().toString();
        QVERIFY2(error.contains(u"no \"jwks_uri\""_s), qPrintable(error));
        QVERIFY(!discovering.store()->current());
    }

    // A redirect from the loopback provider to plain http elsewhere is not followed.
    FakeProvider::Route redirect;
    redirect.status = 302;
    redirect.headers = "Location: http://idp.example/jwks\r\n";
    provider.set(JwksPath, redirect);
    {
        JwksClient redirected(fastOptions(provider.url(u"/jwks"_s)));
        QSignalSpy failed(&redirected, &JwksClient::fetchFailed);
        redirected.start();
        QVERIFY(failed.wait(Wait));
        const QString error = failed.first().first().toString();
        QVERIFY2(error.contains(u"a redirect"_s) && error.contains(u"must use https"_s),
                 qPrintable(error));
        QVERIFY(!redirected.store()->current());
    }

    // One to a loopback path is.
    redirect.headers = "Location: /keys\r\n";
    provider.set(JwksPath, redirect);
    provider.serve("/keys", jwks({rsaJwk(m_rsa1.get(), "k1")}));
    auto client = loadedClient(fastOptions(provider.url(u"/jwks"_s)));
    QVERIFY(client);
    QCOMPARE(provider.hits("/keys"), 1);
}

// --- the server app -----------------------------------------------------------------------------

void TestJwks::serveOptions()
{
    ServeOptions o;
    QString error;
    QVERIFY2(parseServeOptions(
                 {u"--jwt-jwks-url"_s, u"http://127.0.0.1:9/jwks"_s, u"--jwt-tenant-claim"_s,
                  u"tid"_s, u"--jwt-user-claim=oid"_s, u"--jwt-roles-claim"_s,
                  u"realm_access.roles, roles"_s, u"--jwt-name-claim"_s, u"preferred_username"_s,
                  u"--jwt-jwks-refresh"_s, u"60"_s, u"--jwt-jwks-min-refresh"_s, u"0.5"_s},
                 o, error),
             qPrintable(error));
    QCOMPARE(o.jwtJwksUrl, u"http://127.0.0.1:9/jwks"_s);
    QCOMPARE(o.jwtTenantClaim, QByteArray("tid"));
    QCOMPARE(o.jwtUserClaim, QByteArray("oid"));
    QCOMPARE(o.jwtRoleClaims, (QByteArrayList {"realm_access.roles", "roles"}));
    QCOMPARE(o.jwtNameClaims, (QByteArrayList {"preferred_username"}));
    QCOMPARE(o.jwtJwksRefreshSeconds, 60);
    QCOMPARE(o.jwtJwksMinRefreshSeconds, 0.5);

    // Defaults.
    const ServeOptions d;
    QCOMPARE(d.jwtUserClaim, QByteArray("sub"));
    QCOMPARE(d.jwtTenantClaim, QByteArray("tenant_id"));
    QCOMPARE(d.jwtRoleClaims, (QByteArrayList {"role", DotNetRoleClaim}));
    QCOMPARE(d.jwtNameClaims, (QByteArrayList {"name", DotNetNameClaim}));
    QCOMPARE(d.jwtJwksRefreshSeconds, 3600);
    QCOMPARE(d.jwtJwksMinRefreshSeconds, 30.0);

    const auto refused = [](const QStringList &args, const QString &part) {
        ServeOptions options;
        QString why;
        if (parseServeOptions(args, options, why))
            return u"accepted"_s;
        return why.contains(part) ? QString() : why;
    };
    QCOMPARE(refused({u"--jwt-authority"_s, u"http://idp.example.com/realms/x"_s}, u"https"_s),
             QString());
    QCOMPARE(refused({u"--jwt-jwks-url"_s, u"http://10.1.1.1/jwks"_s}, u"must use https"_s),
             QString());
    QCOMPARE(refused({u"--jwt-authority"_s, u"https://idp.example"_s, u"--jwt-jwks-url"_s,
                      u"https://idp.example/jwks"_s},
                     u"exclude each other"_s),
             QString());
    QCOMPARE(refused({u"--jwt-secret"_s, QString(40, u'x'), u"--jwt-jwks-url"_s,
                      u"https://idp.example/jwks"_s},
                     u"exclude each other"_s),
             QString());
    QCOMPARE(refused({u"--jwt-jwks-refresh"_s, u"0"_s}, u"jwt-jwks-refresh"_s), QString());
    QCOMPARE(refused({u"--jwt-jwks-min-refresh"_s, u"-1"_s}, u"jwt-jwks-min-refresh"_s), QString());
    QCOMPARE(refused({u"--jwt-user-claim"_s, u" "_s}, u"jwt-user-claim"_s), QString());
    QCOMPARE(refused({u"--jwt-roles-claim"_s, u","_s}, u"jwt-roles-claim"_s), QString());
}

void TestJwks::serverEndToEnd()
{
    FakeProvider provider;
    QVERIFY(provider.listen());
    provider.close(); // down when the server starts
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1", "RS256")}));

    ServeOptions o;
    o.port = 0;
    o.threads = 2;
    o.memoryStorage = true;
    o.jwtJwksUrl = provider.url(u"/jwks"_s).toString();
    o.jwtAudience = Audience;
    o.jwtTenantClaim = "tid";
    o.jwtUserClaim = "oid";
    o.jwtRoleClaims = {"realm_access.roles"};
    o.jwtJwksMinRefreshSeconds = 0;
    ServerApp server;
    QString error;
    QVERIFY2(server.start(o, error), qPrintable(error)); // the provider is down: starts anyway

    QNetworkAccessManager network;
    const auto send = [&](const QByteArray &method, const QString &path,
                          const QByteArray &bearer = {}) {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(server.port()).arg(path)));
        if (!bearer.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + bearer);
        QNetworkReply *reply = network.sendCustomRequest(request, method);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(Wait);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        reply->deleteLater();
        return status;
    };
    const QString negotiate = u"/hubs/notifications/negotiate?negotiateVersion=1"_s;
    const QByteArray payload
        = claims(R"("oid":"user-7","tid":"acme","realm_access":{"roles":["Admin"]})");
    const QByteArray good = token(m_rsa1.get(), "RS256", "k1", payload);

    QCOMPARE(send("GET", u"/ready"_s), 503);
    QCOMPARE(send("POST", negotiate, good), 401);
    QVERIFY(provider.listen());
    QTRY_COMPARE_WITH_TIMEOUT(send("GET", u"/ready"_s), 200, 3 * Wait); // a retry loaded them
    QCOMPARE(send("POST", negotiate, good), 200);

    // A token the provider has no key for yet: 401 now, accepted on a later attempt.
    const QByteArray rotated = token(m_ec.get(), "ES256", "k2", payload);
    QCOMPARE(send("POST", negotiate, rotated), 401);
    provider.serve(JwksPath, jwks({rsaJwk(m_rsa1.get(), "k1", "RS256"), ecJwk(m_ec.get(), "k2")}));
    QTRY_COMPARE_WITH_TIMEOUT(send("POST", negotiate, rotated), 200, Wait);

    // Refused: HS256, PS256 against an RS256-only key, no tenant claim, the wrong audience.
    const QByteArray hsInput = b64(R"({"alg":"HS256","kid":"k1"})") + '.' + b64(payload);
    QCOMPARE(send("POST", negotiate, hsInput + '.' + b64(hmacSha256(QByteArray(32, 'k'), hsInput))),
             401);
    QCOMPARE(send("POST", negotiate, token(m_rsa1.get(), "PS256", "k1", payload)), 401);
    QCOMPARE(
        send("POST", negotiate, token(m_rsa1.get(), "RS256", "k1", claims(R"("oid":"user-7")"))),
        401);
    QCOMPARE(send("POST", negotiate,
                  token(m_rsa1.get(), "RS256", "k1",
                        QByteArray(payload).replace(R"("aud":"heliograph")", R"("aud":"other")"))),
             401);
    // Sign-in is off (the server holds no signing key).
    QCOMPARE(send("POST", u"/auth/login"_s), 404);
    server.stop();
}

QTEST_GUILESS_MAIN(TestJwks)
#include "tst_jwks.moc"
