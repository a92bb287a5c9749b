// SPDX-License-Identifier: MIT
// JWT validation, signing and the secret file (server/src/auth). Tokens are built and checked
// here with OpenSSL directly (EVP), independently of the code under test, so a bug shared by
// the signer and the validator cannot hide.
#include "auth/jwt.h"
#include "ecdsatestsupport.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <limits>
#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace JwtTest {

/// Which key a validator holds (or a token is signed with).
enum class KeyKind { Hs, Rs, Es };

} // namespace JwtTest

Q_DECLARE_METATYPE(JwtTest::KeyKind)
Q_DECLARE_METATYPE(Heliograph::Server::JwtErrorCode)
Q_DECLARE_METATYPE(Heliograph::Server::JwtAlgorithm)

namespace Heliograph::Server {
// Readable QCOMPARE output (found by argument-dependent lookup).
char *toString(JwtErrorCode code)
{
    return qstrdup(jwtErrorCodeName(code));
}
char *toString(JwtAlgorithm algorithm)
{
    return qstrdup(jwtAlgorithmName(algorithm));
}
} // namespace Heliograph::Server

namespace JwtTest {

constexpr qint64 Now = 1'700'000'000;
constexpr char Issuer[] = "https://issuer.example";
constexpr char Audience[] = "heliograph-hub";
constexpr char NetRoleUri[] = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
constexpr char NetNameUri[] = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
const QByteArray HsSecret = QByteArray("0123456789abcdef0123456789abcdef-heliograph");
const QByteArray OtherHsSecret = QByteArray("fedcba9876543210fedcba9876543210-heliograph");

struct PkeyDeleter {
    void operator()(EVP_PKEY *p) const noexcept { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// --- independent crypto and encoding --------------------------------------------------------

QByteArray b64(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray unb64(QByteArrayView text)
{
    return QByteArray::fromBase64(text.toByteArray(), QByteArray::Base64UrlEncoding);
}

const unsigned char *ubytes(QByteArrayView v)
{
    return reinterpret_cast<const unsigned char *>(v.data());
}

QByteArray hmacSha256(QByteArrayView key, const QByteArray &data)
{
    QByteArray out(32, Qt::Uninitialized);
    size_t length = 0;
    const bool ok
        = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), size_t(key.size()),
                    ubytes(data), size_t(data.size()),
                    reinterpret_cast<unsigned char *>(out.data()), size_t(out.size()), &length);
    if (!ok || length != 32)
        qFatal("HMAC failed");
    return out;
}

/// RS256 or ES256 signature; ECDSA as raw R || S unless `der`.
QByteArray pkeySign(EVP_PKEY *pkey, QByteArrayView data, bool der = false)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t length = 0;
    QByteArray sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1
        && EVP_DigestSign(ctx, nullptr, &length, ubytes(data), size_t(data.size())) == 1) {
        sig.resize(qsizetype(length));
        if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &length,
                           ubytes(data), size_t(data.size()))
            != 1)
            qFatal("signing failed");
        sig.truncate(qsizetype(length));
    }
    EVP_MD_CTX_free(ctx);
    if (sig.isEmpty())
        qFatal("signing failed");
    if (der || !EVP_PKEY_is_a(pkey, "EC"))
        return sig;
    return Heliograph::Testing::ecdsaDerToRaw(sig);
}

bool pkeyVerify(EVP_PKEY *pkey, QByteArrayView data, QByteArray sig)
{
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (sig.size() != 64)
            return false;
        ECDSA_SIG *esig = ECDSA_SIG_new();
        ECDSA_SIG_set0(esig, BN_bin2bn(ubytes(sig), 32, nullptr),
                       BN_bin2bn(ubytes(sig) + 32, 32, nullptr));
        unsigned char *der = nullptr;
        const int length = i2d_ECDSA_SIG(esig, &der);
        sig = QByteArray(reinterpret_cast<const char *>(der), length);
        OPENSSL_free(der);
        ECDSA_SIG_free(esig);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1
        && EVP_DigestVerify(ctx, ubytes(sig), size_t(sig.size()), ubytes(data), size_t(data.size()))
            == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

PkeyPtr generate(const char *type, const char *curve = nullptr, size_t bits = 0)
{
    EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
        : bits          ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    if (!k)
        qFatal("key generation failed");
    return PkeyPtr(k);
}

QByteArray drain(BIO *bio)
{
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    QByteArray out(data, qsizetype(length));
    BIO_free(bio);
    return out;
}

QByteArray publicPem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    return drain(bio);
}

QByteArray privatePem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    return drain(bio);
}

QByteArray encryptedPrivatePem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char passphrase[] = "correct horse";
    PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(), passphrase, int(strlen(passphrase)),
                                  nullptr, nullptr);
    return drain(bio);
}

/// "RSA PUBLIC KEY" (PKCS#1) or "RSA/EC PRIVATE KEY" (traditional) PEM.
QByteArray typeSpecificPem(EVP_PKEY *k, int selection)
{
    OSSL_ENCODER_CTX *ctx
        = OSSL_ENCODER_CTX_new_for_pkey(k, selection, "PEM", "type-specific", nullptr);
    unsigned char *data = nullptr;
    size_t length = 0;
    QByteArray out;
    if (ctx && OSSL_ENCODER_to_data(ctx, &data, &length) == 1)
        out = QByteArray(reinterpret_cast<const char *>(data), qsizetype(length));
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ctx);
    return out;
}

QByteArray publicDer(EVP_PKEY *k)
{
    unsigned char *der = nullptr;
    const int length = i2d_PUBKEY(k, &der);
    QByteArray out(reinterpret_cast<const char *>(der), length);
    OPENSSL_free(der);
    return out;
}

// --- token building -------------------------------------------------------------------------

/// Claims as (name, raw JSON value) pairs, so tests control the exact JSON text.
using RawClaims = QList<std::pair<QByteArray, QByteArray>>;

QByteArray num(qint64 v)
{
    return QByteArray::number(v);
}

RawClaims standardClaims()
{
    return {{"sub", R"("user-1")"},
            {"tenant_id", R"("tenant-a")"},
            {"iss", R"("https://issuer.example")"},
            {"aud", R"("heliograph-hub")"},
            {"iat", num(Now - 10)},
            {"exp", num(Now + 3600)}};
}

RawClaims with(RawClaims claims, const QByteArray &name, const QByteArray &rawValue)
{
    for (auto &c : claims) {
        if (c.first == name) {
            c.second = rawValue;
            return claims;
        }
    }
    claims.append({name, rawValue});
    return claims;
}

RawClaims without(RawClaims claims, const QByteArray &name)
{
    claims.removeIf([&name](const auto &c) { return c.first == name; });
    return claims;
}

QByteArray json(const RawClaims &claims)
{
    QByteArray out = "{";
    for (const auto &c : claims) {
        if (out.size() > 1)
            out += ',';
        out += '"' + c.first + "\":" + c.second;
    }
    return out + '}';
}

QByteArray header(const char *alg)
{
    return R"({"alg":")" + QByteArray(alg) + R"(","typ":"JWT"})";
}

QByteArray signingInput(const QByteArray &headerJson, const QByteArray &payloadJson)
{
    return b64(headerJson) + '.' + b64(payloadJson);
}

QByteArray hsToken(const QByteArray &secret, const QByteArray &headerJson,
                   const QByteArray &payloadJson)
{
    const QByteArray input = signingInput(headerJson, payloadJson);
    return input + '.' + b64(hmacSha256(secret, input));
}

QByteArray pkToken(EVP_PKEY *pkey, const QByteArray &headerJson, const QByteArray &payloadJson,
                   bool der = false)
{
    const QByteArray input = signingInput(headerJson, payloadJson);
    return input + '.' + b64(pkeySign(pkey, input, der));
}

QByteArray replaceSegment(const QByteArray &token, int index, const QByteArray &segment)
{
    QList<QByteArray> parts = token.split('.');
    parts[index] = segment;
    return parts.join('.');
}

/// Flips one bit of the decoded signature and re-encodes it.
QByteArray flipSignatureBit(const QByteArray &token, qsizetype byteIndex, int bit)
{
    QByteArray sig = unb64(token.split('.').at(2));
    if (byteIndex < 0)
        byteIndex += sig.size();
    sig[byteIndex] = char(sig.at(byteIndex) ^ (1 << bit));
    return replaceSegment(token, 2, b64(sig));
}

/// The same signature text with its last character changed so that only the unused low bits
/// differ: lenient decoders give the same bytes, a strict one refuses.
QByteArray nonCanonicalLastChar(const QByteArray &segment)
{
    static const QByteArray alphabet
        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    Q_ASSERT(segment.size() % 4 == 2 || segment.size() % 4 == 3);
    QByteArray out = segment;
    const qsizetype v = alphabet.indexOf(out.back());
    out.back() = alphabet.at(v | 1);
    return out;
}

JwtValidationOptions standardOptions()
{
    JwtValidationOptions o;
    o.issuer = Issuer;
    o.audience = Audience;
    o.clock = [] { return Now; };
    return o;
}

/// The message of a refusal must say something and never contain the token or its parts.
void checkMessage(const QString &message, const QByteArray &token)
{
    QVERIFY(!message.isEmpty());
    const QByteArray utf8 = message.toUtf8();
    if (!token.isEmpty())
        QVERIFY2(!utf8.contains(token), utf8.constData());
    for (const QByteArray &segment : token.split('.')) {
        if (segment.size() >= 6)
            QVERIFY2(!utf8.contains(segment), utf8.constData());
    }
}

} // namespace JwtTest

using namespace JwtTest;

class TestJwt : public QObject {
    Q_OBJECT

private:
    PkeyPtr m_rsa, m_otherRsa, m_ec, m_otherEc, m_rsa1024, m_p384, m_ed25519;
    QByteArray m_rsaPublicPem, m_ecPublicPem;

    JwtValidator validator(KeyKind kind, JwtValidationOptions options = standardOptions()) const
    {
        AuthResult<JwtValidator> v = kind == KeyKind::Hs
            ? JwtValidator::withSecret(HsSecret, std::move(options))
            : JwtValidator::withPublicKeyPem(kind == KeyKind::Rs ? m_rsaPublicPem : m_ecPublicPem,
                                             std::move(options));
        if (!v)
            qFatal("validator: %s", qPrintable(v.error().message));
        return *v;
    }

    /// A token for `kind` signed here with OpenSSL, with the algorithm's own header.
    QByteArray token(KeyKind kind, const QByteArray &payloadJson) const
    {
        switch (kind) {
        case KeyKind::Hs:
            return hsToken(HsSecret, header("HS256"), payloadJson);
        case KeyKind::Rs:
            return pkToken(m_rsa.get(), header("RS256"), payloadJson);
        case KeyKind::Es:
            return pkToken(m_ec.get(), header("ES256"), payloadJson);
        }
        return {};
    }

    QByteArray token(KeyKind kind, const RawClaims &claims) const
    {
        return token(kind, json(claims));
    }

    static const char *kindName(KeyKind kind)
    {
        return kind == KeyKind::Hs ? "HS256" : kind == KeyKind::Rs ? "RS256" : "ES256";
    }

private Q_SLOTS:
    void initTestCase();

    void rfc7515AppendixA1();
    void acceptsIndependentTokens_data();
    void acceptsIndependentTokens();
    void rejects_data();
    void rejects();
    void timeBoundaries_data();
    void timeBoundaries();
    void rolesAndName_data();
    void rolesAndName();
    void tokenSizeLimit_data();
    void tokenSizeLimit();
    void roundTrip_data();
    void roundTrip();
    void signerRefusesBadRequests_data();
    void signerRefusesBadRequests();
    void keys_data();
    void keys();

    void secretFileCreatedAndReused();
    void secretFileAccepted_data();
    void secretFileAccepted();
    void secretFileRejected_data();
    void secretFileRejected();
    void secretFileConcurrentCreation();
};

void TestJwt::initTestCase()
{
    m_rsa = generate("RSA", nullptr, 2048);
    m_otherRsa = generate("RSA", nullptr, 2048);
    m_ec = generate("EC", "P-256");
    m_otherEc = generate("EC", "P-256");
    m_rsa1024 = generate("RSA", nullptr, 1024);
    m_p384 = generate("EC", "P-384");
    m_ed25519 = generate("ED25519");
    m_rsaPublicPem = publicPem(m_rsa.get());
    m_ecPublicPem = publicPem(m_ec.get());
    QVERIFY(m_rsaPublicPem.startsWith("-----BEGIN PUBLIC KEY-----"));
    QVERIFY(m_ecPublicPem.startsWith("-----BEGIN PUBLIC KEY-----"));
}

// RFC 7515, Appendix A.1: the HS256 example, byte for byte.
void TestJwt::rfc7515AppendixA1()
{
    const QByteArray rfcToken = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtc"
                                "GxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                                ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const QByteArray key = unb64("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0i"
                                 "PS4hcgUuTwjAzZr1Z9CAow");
    QCOMPARE(key.size(), 64);

    // The example has no sub/tenant_id and expired in 2011: no required claims, a clock then.
    JwtValidationOptions options;
    options.requiredClaims.clear();
    options.clock = [] { return qint64(1300819370); };
    AuthResult<JwtValidator> v = JwtValidator::withSecret(key, options);
    QVERIFY(v);
    const JwtResult<Claims> r = v->validate(rfcToken);
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->expiresAt, qint64(1300819380));
    QCOMPARE(r->issuedAt, qint64(0));
    QCOMPARE(r->payload["iss"], Value("joe"));
    QCOMPARE(r->payload["http://example.com/is_root"], Value(true));
    QVERIFY(r->subject.isEmpty());

    // The signer reproduces the example's signature from the exact JOSE header and claims.
    const QByteArray headerJson = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    const QByteArray claimsJson
        = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
    AuthResult<JwtSigner> signer = JwtSigner::withSecret(key);
    QVERIFY(signer);
    const AuthResult<QByteArray> signedToken = signer->signSegments(headerJson, claimsJson);
    QVERIFY(signedToken);
    QCOMPARE(*signedToken, rfcToken);

    // With the hub's required claims the signature still verifies, then sub is missing.
    options.requiredClaims = JwtValidationOptions().requiredClaims;
    const JwtResult<Claims> hub = JwtValidator::withSecret(key, options)->validate(rfcToken);
    QVERIFY(!hub);
    QCOMPARE(hub.error().code, JwtErrorCode::MissingClaim);

    // With today's clock it is expired; with one bit flipped it is forged.
    options.requiredClaims.clear();
    options.clock = nullptr;
    const JwtResult<Claims> today = JwtValidator::withSecret(key, options)->validate(rfcToken);
    QVERIFY(!today);
    QCOMPARE(today.error().code, JwtErrorCode::Expired);
    const JwtResult<Claims> flipped = v->validate(flipSignatureBit(rfcToken, 0, 0));
    QVERIFY(!flipped);
    QCOMPARE(flipped.error().code, JwtErrorCode::BadSignature);
}

void TestJwt::acceptsIndependentTokens_data()
{
    QTest::addColumn<KeyKind>("kind");
    QTest::addColumn<QByteArray>("token");

    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        const QByteArray k = kindName(kind);
        QTest::addRow("%s standard", k.constData()) << kind << token(kind, standardClaims());
        QTest::addRow("%s aud array containing", k.constData())
            << kind << token(kind, with(standardClaims(), "aud", R"(["other","heliograph-hub"])"));
        QTest::addRow("%s exp and nbf as doubles", k.constData())
            << kind
            << token(kind,
                     with(with(standardClaims(), "exp", "1700003600.5"), "nbf", "1699999999.5"));
        QTest::addRow("%s nbf in the past, no iat", k.constData())
            << kind << token(kind, with(without(standardClaims(), "iat"), "nbf", num(Now)));
        QTest::addRow("%s unknown header members and kid", k.constData())
            << kind
            << (kind == KeyKind::Hs ? hsToken(HsSecret, R"({"kid":"k1","alg":"HS256","cty":"x"})",
                                              json(standardClaims()))
                                    : pkToken(kind == KeyKind::Rs ? m_rsa.get() : m_ec.get(),
                                              R"({"kid":"k1","alg":")" + QByteArray(kindName(kind))
                                                  + R"(","x5u":"https://evil.example/key"})",
                                              json(standardClaims())));
        QTest::addRow("%s whitespace and escapes in JSON", k.constData())
            << kind
            << (kind == KeyKind::Hs ? hsToken(HsSecret, " {\"alg\" : \"HS\\u0032\\u00356\"} ",
                                              "\n" + json(standardClaims()) + "\r\n")
                                    : token(kind, " " + json(standardClaims()) + " "));
    }
}

void TestJwt::acceptsIndependentTokens()
{
    QFETCH(KeyKind, kind);
    QFETCH(QByteArray, token);

    const JwtResult<Claims> r = validator(kind).validate(token);
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->subject, QByteArray("user-1"));
    QCOMPARE(r->tenantId, QByteArray("tenant-a"));
    QVERIFY(r->payload.isMap());
}

void TestJwt::rejects_data()
{
    QTest::addColumn<KeyKind>("kind");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<JwtErrorCode>("expected");

    using enum JwtErrorCode;
    const QByteArray claims = json(standardClaims());
    const QByteArray good = token(KeyKind::Hs, claims);
    const QList<QByteArray> parts = good.split('.');

    // --- structure ---------------------------------------------------------------------------
    QTest::newRow("empty") << KeyKind::Hs << QByteArray() << Malformed;
    QTest::newRow("one segment") << KeyKind::Hs << parts[0] << Malformed;
    QTest::newRow("two segments") << KeyKind::Hs << QByteArray(parts[0] + '.' + parts[1])
                                  << Malformed;
    QTest::newRow("four segments") << KeyKind::Hs << QByteArray(good + '.' + parts[2]) << Malformed;
    QTest::newRow("four segments, empty last")
        << KeyKind::Hs << QByteArray(good + '.') << Malformed;
    QTest::newRow("only dots") << KeyKind::Hs << QByteArray("..") << Malformed;
    QTest::newRow("empty header") << KeyKind::Hs << replaceSegment(good, 0, {}) << Malformed;
    QTest::newRow("empty payload") << KeyKind::Hs << replaceSegment(good, 1, {}) << Malformed;
    QTest::newRow("leading whitespace") << KeyKind::Hs << QByteArray(' ' + good) << Malformed;
    QTest::newRow("trailing newline") << KeyKind::Hs << QByteArray(good + '\n') << Malformed;
    QTest::newRow("Bearer prefix") << KeyKind::Hs << QByteArray("Bearer " + good) << Malformed;

    // --- strict base64url --------------------------------------------------------------------
    const QByteArray h = parts[0];
    const QByteArray p = parts[1];
    const QByteArray s = parts[2];
    QTest::newRow("header with +")
        << KeyKind::Hs << replaceSegment(good, 0, '+' + h.mid(1)) << Malformed;
    QTest::newRow("header with /")
        << KeyKind::Hs << replaceSegment(good, 0, h.chopped(1) + '/') << Malformed;
    QTest::newRow("header with padding")
        << KeyKind::Hs << replaceSegment(good, 0, h + "==") << Malformed;
    QTest::newRow("header with space")
        << KeyKind::Hs << replaceSegment(good, 0, h.first(4) + ' ' + h.mid(5)) << Malformed;
    QTest::newRow("payload with *")
        << KeyKind::Hs << replaceSegment(good, 1, p.first(7) + '*' + p.mid(8)) << Malformed;
    QTest::newRow("payload with NUL")
        << KeyKind::Hs << replaceSegment(good, 1, p + QByteArray(1, '\0') + "AAA") << Malformed;
    QTest::newRow("signature with +")
        << KeyKind::Hs << replaceSegment(good, 2, s.first(10) + '+' + s.mid(11)) << Malformed;
    QTest::newRow("signature with padding") << KeyKind::Hs << QByteArray(good + '=') << Malformed;
    QTest::newRow("signature standard base64")
        << KeyKind::Hs << replaceSegment(good, 2, hmacSha256(HsSecret, h + '.' + p).toBase64())
        << Malformed; // 32 bytes: padded with '='

    QTest::newRow("signature length 4n+1")
        << KeyKind::Hs << replaceSegment(good, 2, QByteArray(45, 'A')) << Malformed;
    QTest::newRow("signature non-canonical last character")
        << KeyKind::Hs << replaceSegment(good, 2, nonCanonicalLastChar(s)) << Malformed;
    {
        // A payload of 3n+1 or 3n+2 bytes ends in a partial base64 group with spare bits.
        QByteArray padded = claims;
        while (padded.size() % 3 == 0)
            padded += ' ';
        const QByteArray t = token(KeyKind::Hs, padded);
        QTest::newRow("payload non-canonical last character")
            << KeyKind::Hs << replaceSegment(t, 1, nonCanonicalLastChar(t.split('.')[1]))
            << Malformed;
    }

    // --- header ------------------------------------------------------------------------------
    auto hs
        = [&claims](const QByteArray &headerJson) { return hsToken(HsSecret, headerJson, claims); };
    QTest::newRow("header not JSON") << KeyKind::Hs << hs("alg=HS256") << Malformed;
    QTest::newRow("header JSON array") << KeyKind::Hs << hs(R"(["HS256"])") << Malformed;
    QTest::newRow("header JSON string") << KeyKind::Hs << hs(R"("HS256")") << Malformed;
    QTest::newRow("header truncated JSON") << KeyKind::Hs << hs(R"({"alg":"HS256")") << Malformed;
    QTest::newRow("header trailing data") << KeyKind::Hs << hs(R"({"alg":"HS256"}x)") << Malformed;
    QTest::newRow("header invalid UTF-8")
        << KeyKind::Hs << hs("{\"alg\":\"HS256\",\"x\":\"\xC3\"}") << Malformed;
    QTest::newRow("header without alg") << KeyKind::Hs << hs(R"({"typ":"JWT"})") << Malformed;
    QTest::newRow("alg a number") << KeyKind::Hs << hs(R"({"alg":256})") << Malformed;
    QTest::newRow("alg null") << KeyKind::Hs << hs(R"({"alg":null})") << Malformed;
    QTest::newRow("alg an array") << KeyKind::Hs << hs(R"({"alg":["HS256"]})") << Malformed;
    QTest::newRow("duplicate alg, none first")
        << KeyKind::Hs << hs(R"({"alg":"none","alg":"HS256"})") << Malformed;
    QTest::newRow("duplicate alg, none last")
        << KeyKind::Hs << hs(R"({"alg":"HS256","alg":"none"})") << Malformed;
    QTest::newRow("crit header") << KeyKind::Hs << hs(R"({"alg":"HS256","crit":["exp"],"exp":1})")
                                 << Malformed;
    QTest::newRow("crit with b64 false (RFC 7797)")
        << KeyKind::Hs << hs(R"({"alg":"HS256","b64":false,"crit":["b64"]})") << Malformed;

    // --- algorithm ---------------------------------------------------------------------------
    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        const QByteArray k = kindName(kind);
        const QByteArray none = signingInput(R"({"alg":"none","typ":"JWT"})", claims);
        QTest::addRow("%s: alg none, no signature", k.constData())
            << kind << QByteArray(none + '.') << UnsupportedAlgorithm;
        QTest::addRow("%s: alg none with an HS256 signature", k.constData())
            << kind << QByteArray(none + '.' + b64(hmacSha256(HsSecret, none)))
            << UnsupportedAlgorithm;
        QTest::addRow("%s: alg None", k.constData())
            << kind << hsToken(HsSecret, R"({"alg":"None"})", claims) << UnsupportedAlgorithm;
        QTest::addRow("%s: alg NONE", k.constData())
            << kind << hsToken(HsSecret, R"({"alg":"NONE"})", claims) << UnsupportedAlgorithm;
        QTest::addRow("%s: alg empty", k.constData())
            << kind << hsToken(HsSecret, R"({"alg":""})", claims) << UnsupportedAlgorithm;
        QTest::addRow("%s: alg with a trailing space", k.constData())
            << kind << hsToken(HsSecret, R"({"alg":"HS256 "})", claims) << UnsupportedAlgorithm;
        QTest::addRow("%s: alg lower case", k.constData())
            << kind
            << hsToken(HsSecret, R"({"alg":")" + QByteArray(kindName(kind)).toLower() + "\"}",
                       claims)
            << UnsupportedAlgorithm;
    }
    QTest::newRow("HS validator: alg HS384")
        << KeyKind::Hs << hsToken(HsSecret, header("HS384"), claims) << UnsupportedAlgorithm;
    QTest::newRow("HS validator: alg HS512")
        << KeyKind::Hs << hsToken(HsSecret, header("HS512"), claims) << UnsupportedAlgorithm;
    QTest::newRow("HS validator: RS256 token")
        << KeyKind::Hs << token(KeyKind::Rs, claims) << UnsupportedAlgorithm;
    QTest::newRow("HS validator: ES256 token")
        << KeyKind::Hs << token(KeyKind::Es, claims) << UnsupportedAlgorithm;
    QTest::newRow("RS validator: ES256 token")
        << KeyKind::Rs << token(KeyKind::Es, claims) << UnsupportedAlgorithm;
    QTest::newRow("ES validator: RS256 token")
        << KeyKind::Es << token(KeyKind::Rs, claims) << UnsupportedAlgorithm;
    QTest::newRow("RS validator: PS256 token")
        << KeyKind::Rs << pkToken(m_rsa.get(), header("PS256"), claims) << UnsupportedAlgorithm;
    QTest::newRow("ES validator: ES384 token")
        << KeyKind::Es << pkToken(m_ec.get(), header("ES384"), claims) << UnsupportedAlgorithm;
    // Key confusion: HMAC keyed with the public key the server holds.
    QTest::newRow("RS validator: HS256 keyed with the public PEM")
        << KeyKind::Rs << hsToken(m_rsaPublicPem, header("HS256"), claims) << UnsupportedAlgorithm;
    QTest::newRow("RS validator: HS256 keyed with the public DER")
        << KeyKind::Rs << hsToken(publicDer(m_rsa.get()), header("HS256"), claims)
        << UnsupportedAlgorithm;
    QTest::newRow("ES validator: HS256 keyed with the public PEM")
        << KeyKind::Es << hsToken(m_ecPublicPem, header("HS256"), claims) << UnsupportedAlgorithm;
    {
        const QByteArray input = signingInput(header("RS256"), claims);
        const QByteArray forged = input + '.' + b64(hmacSha256(m_rsaPublicPem, input));
        QTest::newRow("RS validator: RS256 header, HMAC-with-PEM signature")
            << KeyKind::Rs << forged << BadSignature;
    }

    // --- signature ---------------------------------------------------------------------------
    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        const QByteArray k = kindName(kind);
        const QByteArray t = token(kind, claims);
        QTest::addRow("%s: first signature bit flipped", k.constData())
            << kind << flipSignatureBit(t, 0, 0) << BadSignature;
        QTest::addRow("%s: last signature bit flipped", k.constData())
            << kind << flipSignatureBit(t, -1, 7) << BadSignature;
        QTest::addRow("%s: empty signature", k.constData())
            << kind << replaceSegment(t, 2, {}) << BadSignature;
        QTest::addRow("%s: signature truncated by one byte", k.constData())
            << kind << replaceSegment(t, 2, b64(unb64(t.split('.')[2]).chopped(1))) << BadSignature;
        QTest::addRow("%s: signature with a leading zero byte", k.constData())
            << kind << replaceSegment(t, 2, b64('\0' + unb64(t.split('.')[2]))) << BadSignature;
        QTest::addRow("%s: signature with a trailing zero byte", k.constData())
            << kind << replaceSegment(t, 2, b64(unb64(t.split('.')[2]) + '\0')) << BadSignature;
        QTest::addRow("%s: payload changed", k.constData())
            << kind << replaceSegment(t, 1, b64(json(with(standardClaims(), "sub", R"("admin")"))))
            << BadSignature;
        QTest::addRow("%s: header changed", k.constData())
            << kind
            << replaceSegment(
                   t, 0,
                   b64(R"({"alg":")" + QByteArray(kindName(kind)) + R"(","typ":"JWT","kid":"x"})"))
            << BadSignature;
        QTest::addRow("%s: signature of another token", k.constData())
            << kind
            << replaceSegment(
                   t, 2, token(kind, with(standardClaims(), "sub", R"("admin")")).split('.')[2])
            << BadSignature;
        QTest::addRow("%s: all-zero signature", k.constData())
            << kind << replaceSegment(t, 2, b64(QByteArray(unb64(t.split('.')[2]).size(), '\0')))
            << BadSignature;
    }
    QTest::newRow("HS256: another secret")
        << KeyKind::Hs << hsToken(OtherHsSecret, header("HS256"), claims) << BadSignature;
    QTest::newRow("HS256: secret prefix as key")
        << KeyKind::Hs << hsToken(HsSecret.chopped(1), header("HS256"), claims) << BadSignature;
    QTest::newRow("RS256: another key")
        << KeyKind::Rs << pkToken(m_otherRsa.get(), header("RS256"), claims) << BadSignature;
    QTest::newRow("ES256: another key")
        << KeyKind::Es << pkToken(m_otherEc.get(), header("ES256"), claims) << BadSignature;
    QTest::newRow("ES256: DER signature instead of R||S")
        << KeyKind::Es << pkToken(m_ec.get(), header("ES256"), claims, true) << BadSignature;
    {
        const QByteArray t = token(KeyKind::Es, claims);
        const QByteArray raw = unb64(t.split('.')[2]);
        QTest::newRow("ES256: R and S swapped")
            << KeyKind::Es << replaceSegment(t, 2, b64(raw.sliced(32) + raw.first(32)))
            << BadSignature;
    }

    // --- claims ------------------------------------------------------------------------------
    struct ClaimRow {
        const char *name;
        RawClaims claims;
        JwtErrorCode expected;
    };
    const RawClaims base = standardClaims();
    const QList<ClaimRow> claimRows {
        {"expired", with(base, "exp", num(Now - 3600)), Expired},
        {"nbf in the future", with(base, "nbf", num(Now + 3600)), NotYetValid},
        {"exp missing", without(base, "exp"), MissingClaim},
        {"exp null", with(base, "exp", "null"), MissingClaim},
        {"exp a string", with(base, "exp", '"' + num(Now + 3600) + '"'), Malformed},
        {"exp a bool", with(base, "exp", "true"), Malformed},
        {"exp above int64", with(base, "exp", "18446744073709551615"), Malformed},
        {"exp huge double", with(base, "exp", "1e300"), Malformed},
        {"nbf a string", with(base, "nbf", R"("yesterday")"), Malformed},
        {"iat an object", with(base, "iat", "{}"), Malformed},
        {"wrong iss", with(base, "iss", R"("https://evil.example")"), WrongIssuer},
        {"iss case differs", with(base, "iss", R"("https://Issuer.example")"), WrongIssuer},
        {"iss with a trailing slash", with(base, "iss", R"("https://issuer.example/")"),
         WrongIssuer},
        {"iss missing", without(base, "iss"), WrongIssuer},
        {"iss null", with(base, "iss", "null"), WrongIssuer},
        {"iss a number", with(base, "iss", "1"), Malformed},
        {"iss an array", with(base, "iss", R"(["https://issuer.example"])"), Malformed},
        {"wrong aud string", with(base, "aud", R"("other-api")"), WrongAudience},
        {"aud prefix", with(base, "aud", R"("heliograph")"), WrongAudience},
        {"aud longer", with(base, "aud", R"("heliograph-hub2")"), WrongAudience},
        {"wrong aud array", with(base, "aud", R"(["other-api","another"])"), WrongAudience},
        {"empty aud array", with(base, "aud", "[]"), WrongAudience},
        {"aud missing", without(base, "aud"), WrongAudience},
        {"aud array with a number", with(base, "aud", R"(["heliograph-hub",1])"), Malformed},
        {"aud nested array", with(base, "aud", R"([["heliograph-hub"]])"), Malformed},
        {"aud an object", with(base, "aud", R"({"heliograph-hub":true})"), Malformed},
        {"sub missing", without(base, "sub"), MissingClaim},
        {"sub empty", with(base, "sub", R"("")"), MissingClaim},
        {"sub null", with(base, "sub", "null"), MissingClaim},
        {"sub a number", with(base, "sub", "42"), Malformed},
        {"tenant_id missing", without(base, "tenant_id"), MissingClaim},
        {"tenant_id empty", with(base, "tenant_id", R"("")"), MissingClaim},
        {"tenant_id a number", with(base, "tenant_id", "7"), Malformed},
        {"sub and tenant_id missing", without(without(base, "sub"), "tenant_id"), MissingClaim},
        {"role a number", with(base, "role", "1"), Malformed},
        {"role array with a number", with(base, "role", R"(["admin",1])"), Malformed},
        {".NET role an object", with(base, NetRoleUri, R"({"admin":true})"), Malformed},
        {"name a number", with(base, "name", "1"), Malformed},
        {"duplicate exp", with(base, "exp", num(Now - 100) + ",\"exp\":" + num(Now + 100)),
         Malformed},
        {"duplicate sub", with(base, "sub", R"("user-1","sub":"admin")"), Malformed},
    };
    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        for (const ClaimRow &row : claimRows) {
            QTest::addRow("%s: %s", kindName(kind), row.name)
                << kind << token(kind, row.claims) << row.expected;
        }
    }

    // --- payload -----------------------------------------------------------------------------
    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        const QByteArray k = kindName(kind);
        QTest::addRow("%s: payload a JSON array", k.constData())
            << kind << token(kind, QByteArray("[" + claims + "]")) << Malformed;
        QTest::addRow("%s: payload not JSON", k.constData())
            << kind << token(kind, QByteArray("sub=user-1")) << Malformed;
        QTest::addRow("%s: payload a number", k.constData())
            << kind << token(kind, num(Now)) << Malformed;
        QTest::addRow("%s: payload null", k.constData())
            << kind << token(kind, QByteArray("null")) << Malformed;
        QTest::addRow("%s: payload with trailing data", k.constData())
            << kind << token(kind, claims + "{}") << Malformed;
        QTest::addRow("%s: payload invalid UTF-8", k.constData())
            << kind << token(kind, json(with(standardClaims(), "name", "\"\xFF\xFE\"")))
            << Malformed;
        QTest::addRow("%s: payload too deep", k.constData())
            << kind
            << token(kind,
                     json(with(standardClaims(), "x", QByteArray(100, '[') + QByteArray(100, ']'))))
            << Malformed;
    }
}

void TestJwt::rejects()
{
    QFETCH(KeyKind, kind);
    QFETCH(QByteArray, token);
    QFETCH(JwtErrorCode, expected);

    const JwtResult<Claims> r = validator(kind).validate(token);
    QVERIFY2(!r, "the token was accepted");
    QCOMPARE(r.error().code, expected);
    checkMessage(r.error().message, token);
}

void TestJwt::timeBoundaries_data()
{
    QTest::addColumn<QByteArray>("exp"); // raw JSON
    QTest::addColumn<QByteArray>("nbf"); // raw JSON; empty: absent
    QTest::addColumn<qint64>("now");
    QTest::addColumn<int>("skew");
    QTest::addColumn<int>("expected"); // 0: valid, else a JwtErrorCode

    const int ok = 0;
    const int expired = int(JwtErrorCode::Expired);
    const int early = int(JwtErrorCode::NotYetValid);
    const QByteArray exp = num(Now);
    QTest::newRow("exp + skew - 1") << exp << QByteArray() << Now + 59 << 60 << ok;
    QTest::newRow("exp + skew") << exp << QByteArray() << Now + 60 << 60 << expired;
    QTest::newRow("no skew: exp - 1") << exp << QByteArray() << Now - 1 << 0 << ok;
    QTest::newRow("no skew: exp") << exp << QByteArray() << Now << 0 << expired;
    QTest::newRow("default skew: exp + 59") << exp << QByteArray() << Now + 59 << -1 << ok;
    QTest::newRow("default skew: exp + 60") << exp << QByteArray() << Now + 60 << -1 << expired;
    QTest::newRow("negative skew counts as 0, exp - 1")
        << exp << QByteArray() << Now - 1 << -100 << ok;
    QTest::newRow("negative skew counts as 0, exp")
        << exp << QByteArray() << Now << -100 << expired;
    QTest::newRow("large skew") << exp << QByteArray() << Now + 86399 << 86400 << ok;
    QTest::newRow("exp as a double, floored")
        << QByteArray("1700000000.9") << QByteArray() << Now << 0 << expired;
    QTest::newRow("exp INT64_MAX")
        << num(std::numeric_limits<qint64>::max()) << QByteArray() << Now << 60 << ok;
    QTest::newRow("exp INT64_MIN")
        << num(std::numeric_limits<qint64>::min()) << QByteArray() << Now << 60 << expired;
    QTest::newRow("exp 0") << QByteArray("0") << QByteArray() << Now << 60 << expired;
    QTest::newRow("exp negative") << QByteArray("-1") << QByteArray() << Now << 60 << expired;
    const QByteArray later = num(Now + 3600);
    QTest::newRow("nbf - skew") << later << num(Now + 60) << Now << 60 << ok;
    QTest::newRow("nbf - skew - 1") << later << num(Now + 61) << Now << 60 << early;
    QTest::newRow("no skew: nbf") << later << num(Now) << Now << 0 << ok;
    QTest::newRow("no skew: nbf - 1") << later << num(Now + 1) << Now << 0 << early;
    QTest::newRow("nbf as a double, rounded up")
        << later << QByteArray("1700000000.1") << Now << 0 << early;
    QTest::newRow("nbf INT64_MAX")
        << later << num(std::numeric_limits<qint64>::max()) << Now << 60 << early;
    QTest::newRow("nbf null is absent") << later << QByteArray("null") << Now << 0 << ok;
    QTest::newRow("nbf after exp") << later << num(Now + 7200) << Now << 60 << early;
    QTest::newRow("clock INT64_MAX")
        << later << QByteArray() << std::numeric_limits<qint64>::max() << 60 << expired;
    QTest::newRow("clock INT64_MIN, nbf 0")
        << later << QByteArray("0") << std::numeric_limits<qint64>::min() << 60 << early;
}

void TestJwt::timeBoundaries()
{
    QFETCH(QByteArray, exp);
    QFETCH(QByteArray, nbf);
    QFETCH(qint64, now);
    QFETCH(int, skew);
    QFETCH(int, expected);

    JwtValidationOptions options = standardOptions();
    options.clock = [now] { return now; };
    if (skew >= 0 || skew < -1)
        options.clockSkew = std::chrono::seconds(skew);
    else
        QCOMPARE(options.clockSkew, std::chrono::seconds(60)); // the default
    RawClaims claims = with(standardClaims(), "exp", exp);
    if (!nbf.isEmpty())
        claims = with(claims, "nbf", nbf);

    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Es}) {
        const QByteArray t = token(kind, claims);
        const JwtResult<Claims> r = validator(kind, options).validate(t);
        if (expected == 0) {
            QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        } else {
            QVERIFY2(!r, "the token was accepted");
            QCOMPARE(r.error().code, JwtErrorCode(expected));
            checkMessage(r.error().message, t);
        }
    }
}

void TestJwt::rolesAndName_data()
{
    QTest::addColumn<QByteArray>("extraClaims"); // raw JSON members, or empty
    QTest::addColumn<QList<QByteArray>>("roles");
    QTest::addColumn<QString>("name");

    QTest::newRow("no roles") << QByteArray() << QList<QByteArray>() << QString();
    QTest::newRow("role string") << QByteArray(R"("role":"admin")") << QList<QByteArray> {"admin"}
                                 << QString();
    QTest::newRow("role array") << QByteArray(R"("role":["admin","ops"])")
                                << QList<QByteArray> {"admin", "ops"} << QString();
    QTest::newRow("role empty array")
        << QByteArray(R"("role":[])") << QList<QByteArray>() << QString();
    QTest::newRow("role null") << QByteArray(R"("role":null)") << QList<QByteArray>() << QString();
    QTest::newRow(".NET role string")
        << QByteArray(R"(")" + QByteArray(NetRoleUri) + R"(":"admin")")
        << QList<QByteArray> {"admin"} << QString();
    QTest::newRow(".NET role array")
        << QByteArray(R"(")" + QByteArray(NetRoleUri) + R"(":["a","b"])")
        << QList<QByteArray> {"a", "b"} << QString();
    QTest::newRow("both, merged without duplicates")
        << QByteArray(R"("role":["a","b"],")" + QByteArray(NetRoleUri) + R"(":["b","c"])")
        << QList<QByteArray> {"a", "b", "c"} << QString();
    QTest::newRow("duplicates and empty strings dropped")
        << QByteArray(R"("role":["a","","a","b"])") << QList<QByteArray> {"a", "b"} << QString();
    QTest::newRow("roles keep case") << QByteArray(R"("role":["Admin","admin"])")
                                     << QList<QByteArray> {"Admin", "admin"} << QString();
    QTest::newRow("the plural 'roles' is not a role claim")
        << QByteArray(R"("roles":["admin"])") << QList<QByteArray>() << QString();
    QTest::newRow("UTF-8 role") << QByteArray("\"role\":\"r\xC3\xB4le\"")
                                << QList<QByteArray> {"r\xC3\xB4le"} << QString();
    QTest::newRow("name") << QByteArray("\"name\":\"Zo\xC3\xAB \\u2603\"") << QList<QByteArray>()
                          << u"Zo\u00EB \u2603"_s;
    QTest::newRow(".NET name claim") << QByteArray(R"(")" + QByteArray(NetNameUri) + R"(":"Ada")")
                                     << QList<QByteArray>() << u"Ada"_s;
    QTest::newRow("name wins over .NET name")
        << QByteArray(R"("name":"Grace",")" + QByteArray(NetNameUri) + R"(":"Ada")")
        << QList<QByteArray>() << u"Grace"_s;
}

void TestJwt::rolesAndName()
{
    QFETCH(QByteArray, extraClaims);
    QFETCH(QList<QByteArray>, roles);
    QFETCH(QString, name);

    QByteArray payload = json(standardClaims());
    if (!extraClaims.isEmpty())
        payload = payload.chopped(1) + ',' + extraClaims + '}';
    const JwtResult<Claims> r = validator(KeyKind::Hs).validate(token(KeyKind::Hs, payload));
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->roles, roles);
    QCOMPARE(r->name, name);
    for (const QByteArray &role : roles)
        QVERIFY(r->hasRole(role));
    QVERIFY(!r->hasRole("superuser"));
    QVERIFY(!r->hasRole(""));
    if (roles.contains("Admin") && !roles.contains("ADMIN"))
        QVERIFY(!r->hasRole("ADMIN"));
    if (roles == QList<QByteArray> {"admin"})
        QVERIFY(!r->hasRole("Admin"));
}

void TestJwt::tokenSizeLimit_data()
{
    QTest::addColumn<KeyKind>("kind");
    QTest::newRow("HS256") << KeyKind::Hs;
    QTest::newRow("RS256") << KeyKind::Rs;
    QTest::newRow("ES256") << KeyKind::Es;
}

void TestJwt::tokenSizeLimit()
{
    QFETCH(KeyKind, kind);
    const JwtValidator v = validator(kind);
    QCOMPARE(JwtValidator::MaxTokenSize, qsizetype(8192));

    // Grow a filler claim: the largest token within 8 KiB is accepted, the next one is not
    // (base64url lengths of 4n+1 do not exist, so the sizes step by 1 or 2).
    QByteArray largestAccepted;
    QByteArray smallestRefused;
    const qsizetype emptySize = token(kind, with(standardClaims(), "filler", R"("")")).size();
    const qsizetype start = (JwtValidator::MaxTokenSize - emptySize) * 3 / 4 - 8;
    for (qsizetype filler = start; filler < start + 32 && smallestRefused.isEmpty(); ++filler) {
        const QByteArray t
            = token(kind, with(standardClaims(), "filler", '"' + QByteArray(filler, 'x') + '"'));
        if (t.size() <= JwtValidator::MaxTokenSize)
            largestAccepted = t;
        else
            smallestRefused = t;
    }
    QVERIFY(!largestAccepted.isEmpty() && !smallestRefused.isEmpty());
    QVERIFY(largestAccepted.size() >= JwtValidator::MaxTokenSize - 1);
    QVERIFY(smallestRefused.size() <= JwtValidator::MaxTokenSize + 2);
    const JwtResult<Claims> ok = v.validate(largestAccepted);
    QVERIFY2(ok, ok ? "" : qPrintable(ok.error().message));
    const JwtResult<Claims> big = v.validate(smallestRefused);
    QVERIFY(!big);
    QCOMPARE(big.error().code, JwtErrorCode::Malformed);
    checkMessage(big.error().message, smallestRefused);

    const JwtResult<Claims> huge = v.validate(QByteArray(1 << 20, 'A'));
    QVERIFY(!huge);
    QCOMPARE(huge.error().code, JwtErrorCode::Malformed);
}

void TestJwt::roundTrip_data()
{
    QTest::addColumn<KeyKind>("kind");
    QTest::addColumn<QList<QByteArray>>("roles");
    QTest::addColumn<QList<QByteArray>>("audiences");
    QTest::addColumn<QByteArray>("issuer");
    QTest::addColumn<QString>("name");

    const QList<QByteArray> none;
    for (const KeyKind kind : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        const char *k = kindName(kind);
        QTest::addRow("%s minimal", k) << kind << none << none << QByteArray() << QString();
        QTest::addRow("%s one role, one audience", k)
            << kind << QList<QByteArray> {"admin"} << QList<QByteArray> {Audience}
            << QByteArray(Issuer) << u"Ada Lovelace"_s;
        QTest::addRow("%s several roles and audiences", k)
            << kind << QList<QByteArray> {"admin", "ops", "r\xC3\xB4le"}
            << QList<QByteArray> {"other", Audience} << QByteArray(Issuer)
            << u"Zo\u00EB \"quoted\" \\ \u2603"_s;
        QTest::addRow("%s duplicate roles collapse", k)
            << kind << QList<QByteArray> {"a", "a"} << none << QByteArray() << QString();
    }
}

void TestJwt::roundTrip()
{
    QFETCH(KeyKind, kind);
    QFETCH(QList<QByteArray>, roles);
    QFETCH(QList<QByteArray>, audiences);
    QFETCH(QByteArray, issuer);
    QFETCH(QString, name);

    AuthResult<JwtSigner> signer = kind == KeyKind::Hs
        ? JwtSigner::withSecret(HsSecret)
        : JwtSigner::withPrivateKeyPem(privatePem(kind == KeyKind::Rs ? m_rsa.get() : m_ec.get()));
    QVERIFY(signer);
    QCOMPARE(signer->algorithm(),
             kind == KeyKind::Hs       ? JwtAlgorithm::HS256
                 : kind == KeyKind::Rs ? JwtAlgorithm::RS256
                                       : JwtAlgorithm::ES256);
    TokenRequest request;
    request.subject = "user-\xC3\xA9";
    request.tenantId = "tenant-a";
    request.name = name;
    request.roles = roles;
    request.issuer = issuer;
    request.audiences = audiences;
    request.issuedAt = Now - 5;
    request.lifetime = std::chrono::minutes(10);
    const AuthResult<QByteArray> t = signer->sign(request);
    QVERIFY2(t, t ? "" : qPrintable(t.error().message));

    // The shape, checked without the validator: header, claim types, signature.
    const QList<QByteArray> parts = t->split('.');
    QCOMPARE(parts.size(), 3);
    QCOMPARE(unb64(parts[0]),
             QByteArray(R"({"alg":")" + QByteArray(kindName(kind)) + R"(","typ":"JWT"})"));
    const Expected<Value> payload = Json::parse(unb64(parts[1]));
    QVERIFY(payload && payload->isMap());
    QCOMPARE((*payload)["sub"], Value::fromUtf8(request.subject));
    QCOMPARE((*payload)["tenant_id"], Value("tenant-a"));
    QCOMPARE((*payload)["iat"], Value(Now - 5));
    QCOMPARE((*payload)["exp"], Value(Now - 5 + 600));
    QCOMPARE(payload->find("name") != nullptr, !name.isEmpty());
    QCOMPARE(payload->find("iss") != nullptr, !issuer.isEmpty());
    QList<QByteArray> uniqueRoles;
    for (const QByteArray &r : roles) {
        if (!uniqueRoles.contains(r))
            uniqueRoles.append(r);
    }
    const Value *role = payload->find("role");
    QCOMPARE(role != nullptr, !uniqueRoles.isEmpty());
    if (uniqueRoles.size() == 1)
        QCOMPARE(*role, Value::fromUtf8(uniqueRoles.first()));
    if (uniqueRoles.size() > 1)
        QCOMPARE(role->size(), uniqueRoles.size());
    const Value *aud = payload->find("aud");
    QCOMPARE(aud != nullptr, !audiences.isEmpty());
    if (audiences.size() == 1)
        QVERIFY(aud->isString());
    if (audiences.size() > 1)
        QVERIFY(aud->isArray());
    const QByteArray input = parts[0] + '.' + parts[1];
    const QByteArray signature = unb64(parts[2]);
    switch (kind) {
    case KeyKind::Hs:
        QCOMPARE(signature, hmacSha256(HsSecret, input));
        break;
    case KeyKind::Rs:
        QCOMPARE(signature.size(), 256);
        QVERIFY(pkeyVerify(m_rsa.get(), input, signature));
        break;
    case KeyKind::Es:
        QCOMPARE(signature.size(), 64);
        QVERIFY(pkeyVerify(m_ec.get(), input, signature));
        break;
    }

    // And through the validator.
    JwtValidationOptions options = standardOptions();
    options.issuer = issuer;
    options.audience = audiences.isEmpty() ? QByteArray() : QByteArray(Audience);
    const JwtResult<Claims> claims = validator(kind, options).validate(*t);
    QVERIFY2(claims, claims ? "" : qPrintable(claims.error().message));
    QCOMPARE(claims->subject, request.subject);
    QCOMPARE(claims->tenantId, request.tenantId);
    QCOMPARE(claims->name, name);
    QCOMPARE(claims->roles, uniqueRoles);
    QCOMPARE(claims->issuedAt, Now - 5);
    QCOMPARE(claims->expiresAt, Now - 5 + 600);
    QCOMPARE(claims->payload, *payload);

    // The other algorithms' validators refuse it.
    for (const KeyKind other : {KeyKind::Hs, KeyKind::Rs, KeyKind::Es}) {
        if (other == kind)
            continue;
        const JwtResult<Claims> r = validator(other, options).validate(*t);
        QVERIFY(!r);
        QCOMPARE(r.error().code, JwtErrorCode::UnsupportedAlgorithm);
    }
    // A validator of the same algorithm with another key refuses it.
    const JwtResult<Claims> otherKey
        = (kind == KeyKind::Hs
               ? JwtValidator::withSecret(OtherHsSecret, options)
               : JwtValidator::withPublicKeyPem(
                   publicPem(kind == KeyKind::Rs ? m_otherRsa.get() : m_otherEc.get()), options))
              ->validate(*t);
    QVERIFY(!otherKey);
    QCOMPARE(otherKey.error().code, JwtErrorCode::BadSignature);
}

void TestJwt::signerRefusesBadRequests_data()
{
    QTest::addColumn<QByteArray>("subject");
    QTest::addColumn<QByteArray>("tenantId");
    QTest::addColumn<QList<QByteArray>>("roles");
    QTest::addColumn<qint64>("issuedAt");
    QTest::addColumn<int>("lifetime");
    QTest::addColumn<bool>("ok");

    const QList<QByteArray> none;
    QTest::newRow("valid") << QByteArray("u") << QByteArray("t") << none << Now << 60 << true;
    QTest::newRow("empty subject") << QByteArray() << QByteArray("t") << none << Now << 60 << false;
    QTest::newRow("empty tenant") << QByteArray("u") << QByteArray() << none << Now << 60 << false;
    QTest::newRow("invalid UTF-8 subject")
        << QByteArray("u\xFF") << QByteArray("t") << none << Now << 60 << false;
    QTest::newRow("invalid UTF-8 tenant")
        << QByteArray("u") << QByteArray("\xC3") << none << Now << 60 << false;
    QTest::newRow("invalid UTF-8 role") << QByteArray("u") << QByteArray("t")
                                        << QList<QByteArray> {"\xED\xA0\x80"} << Now << 60 << false;
    QTest::newRow("empty role") << QByteArray("u") << QByteArray("t") << QList<QByteArray> {""}
                                << Now << 60 << false;
    QTest::newRow("zero lifetime")
        << QByteArray("u") << QByteArray("t") << none << Now << 0 << false;
    QTest::newRow("negative lifetime")
        << QByteArray("u") << QByteArray("t") << none << Now << -1 << false;
    QTest::newRow("exp overflows") << QByteArray("u") << QByteArray("t") << none
                                   << std::numeric_limits<qint64>::max() << 1 << false;
}

void TestJwt::signerRefusesBadRequests()
{
    QFETCH(QByteArray, subject);
    QFETCH(QByteArray, tenantId);
    QFETCH(QList<QByteArray>, roles);
    QFETCH(qint64, issuedAt);
    QFETCH(int, lifetime);
    QFETCH(bool, ok);

    TokenRequest request;
    request.subject = subject;
    request.tenantId = tenantId;
    request.roles = roles;
    request.issuedAt = issuedAt;
    request.lifetime = std::chrono::seconds(lifetime);
    const AuthResult<QByteArray> t = JwtSigner::withSecret(HsSecret)->sign(request);
    QCOMPARE(bool(t), ok);
    if (ok) {
        JwtValidationOptions options;
        options.clock = [] { return Now; };
        const JwtResult<Claims> claims = validator(KeyKind::Hs, options).validate(*t);
        QVERIFY2(claims, claims ? "" : qPrintable(claims.error().message));
        QCOMPARE(claims->expiresAt, issuedAt + lifetime);
    } else {
        QVERIFY(!t.error().message.isEmpty());
    }

    // signClaims takes maps only.
    QVERIFY(!JwtSigner::withSecret(HsSecret)->signClaims(Value(ValueList {})));
}

void TestJwt::keys_data()
{
    QTest::addColumn<QByteArray>(
        "use"); // validator-secret, validator-pem, signer-secret, signer-pem
    QTest::addColumn<QByteArray>("material");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<JwtAlgorithm>("algorithm");

    using enum JwtAlgorithm;
    for (const char *use : {"validator-secret", "signer-secret"}) {
        QTest::addRow("%s: empty", use) << QByteArray(use) << QByteArray() << false << HS256;
        QTest::addRow("%s: 31 bytes", use)
            << QByteArray(use) << QByteArray(31, 'k') << false << HS256;
        QTest::addRow("%s: 32 bytes", use)
            << QByteArray(use) << QByteArray(32, 'k') << true << HS256;
        QTest::addRow("%s: 64 bytes", use)
            << QByteArray(use) << QByteArray(64, '\0') << true << HS256;
    }
    const QByteArray v = "validator-pem";
    QTest::newRow("validator: RSA 2048 SPKI") << v << publicPem(m_rsa.get()) << true << RS256;
    QTest::newRow("validator: RSA 2048 PKCS#1")
        << v << typeSpecificPem(m_rsa.get(), EVP_PKEY_PUBLIC_KEY) << true << RS256;
    QTest::newRow("validator: P-256 SPKI") << v << publicPem(m_ec.get()) << true << ES256;
    QTest::newRow("validator: RSA 1024") << v << publicPem(m_rsa1024.get()) << false << RS256;
    QTest::newRow("validator: P-384") << v << publicPem(m_p384.get()) << false << ES256;
    QTest::newRow("validator: Ed25519") << v << publicPem(m_ed25519.get()) << false << ES256;
    QTest::newRow("validator: DER, not PEM") << v << publicDer(m_rsa.get()) << false << RS256;
    QTest::newRow("validator: garbage")
        << v << QByteArray("-----BEGIN PUBLIC KEY-----\nAAAA\n") << false << RS256;
    QTest::newRow("validator: empty") << v << QByteArray() << false << RS256;
    QTest::newRow("validator: truncated PEM")
        << v << publicPem(m_rsa.get()).first(200) << false << RS256;
    const QByteArray s = "signer-pem";
    QTest::newRow("signer: RSA PKCS#8") << s << privatePem(m_rsa.get()) << true << RS256;
    QTest::newRow("signer: RSA traditional")
        << s << typeSpecificPem(m_rsa.get(), EVP_PKEY_KEYPAIR) << true << RS256;
    QTest::newRow("signer: P-256 PKCS#8") << s << privatePem(m_ec.get()) << true << ES256;
    QTest::newRow("signer: P-256 traditional")
        << s << typeSpecificPem(m_ec.get(), EVP_PKEY_KEYPAIR) << true << ES256;
    QTest::newRow("signer: public key only") << s << publicPem(m_rsa.get()) << false << RS256;
    QTest::newRow("signer: public EC key only") << s << publicPem(m_ec.get()) << false << ES256;
    QTest::newRow("signer: encrypted, no passphrase prompt")
        << s << encryptedPrivatePem(m_ec.get()) << false << ES256;
    QTest::newRow("signer: RSA 1024") << s << privatePem(m_rsa1024.get()) << false << RS256;
    QTest::newRow("signer: P-384") << s << privatePem(m_p384.get()) << false << ES256;
    QTest::newRow("signer: Ed25519") << s << privatePem(m_ed25519.get()) << false << ES256;
    QTest::newRow("signer: garbage") << s << QByteArray("not a key") << false << RS256;
}

void TestJwt::keys()
{
    QFETCH(QByteArray, use);
    QFETCH(QByteArray, material);
    QFETCH(bool, ok);
    QFETCH(JwtAlgorithm, algorithm);

    QString error;
    std::optional<JwtAlgorithm> loaded;
    if (use.startsWith("validator")) {
        const AuthResult<JwtValidator> r = use.endsWith("secret")
            ? JwtValidator::withSecret(material)
            : JwtValidator::withPublicKeyPem(material);
        if (r)
            loaded = r->algorithm();
        else
            error = r.error().message;
    } else {
        const AuthResult<JwtSigner> r = use.endsWith("secret")
            ? JwtSigner::withSecret(material)
            : JwtSigner::withPrivateKeyPem(material);
        if (r) {
            loaded = r->algorithm();
            TokenRequest request;
            request.subject = "u";
            request.tenantId = "t";
            QVERIFY(r->sign(request)); // the key really signs
        } else {
            error = r.error().message;
        }
    }
    QCOMPARE(loaded.has_value(), ok);
    if (ok) {
        QCOMPARE(*loaded, algorithm);
    } else {
        QVERIFY(!error.isEmpty());
        // No key material in messages.
        for (const QByteArray &line : material.split('\n')) {
            if (line.size() >= 8 && !line.startsWith("-----"))
                QVERIFY2(!error.toUtf8().contains(line), qPrintable(error));
        }
    }
    QCOMPARE(ERR_peek_error(), 0UL); // the OpenSSL error queue is left clean
}

// --- secret file ------------------------------------------------------------------------------

namespace {

mode_t fileMode(const QString &path)
{
    struct stat st { };
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return mode_t(-1);
    return st.st_mode & 07777;
}

bool writeFile(const QString &path, const QByteArray &content, mode_t mode)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size())
        return false;
    f.close();
    return ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

void TestJwt::secretFileCreatedAndReused()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString dataDir = tmp.filePath(u"data/nested"_s);
    const QString file = dataDir + u'/' + QLatin1StringView(SecretFileName);

    const AuthResult<QByteArray> first = loadOrCreateSecret(dataDir);
    QVERIFY2(first, first ? "" : qPrintable(first.error().message));
    QCOMPARE(first->size(), 32);
    QCOMPARE(fileMode(file), mode_t(0600));
    QCOMPARE(fileMode(dataDir), mode_t(0700));
    const QByteArray text = readFile(file);
    QCOMPARE(text.size(), 43 + 1);
    QVERIFY(text.endsWith('\n'));
    QCOMPARE(QByteArray::fromBase64(text.trimmed(), QByteArray::Base64UrlEncoding), *first);
    QCOMPARE(QByteArray(b64(*first) + '\n'), text);
    QCOMPARE(QDir(dataDir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
             QStringList {QString::fromLatin1(SecretFileName)}); // no temporary files left

    const AuthResult<QByteArray> second = loadOrCreateSecret(dataDir);
    QVERIFY(second);
    QCOMPARE(*second, *first);
    QCOMPARE(readFile(file), text);

    // Another folder gets another secret.
    const AuthResult<QByteArray> elsewhere = loadOrCreateSecret(tmp.filePath(u"other"_s));
    QVERIFY(elsewhere);
    QVERIFY(*elsewhere != *first);

    // The token command and the server agree through the file.
    TokenRequest request;
    request.subject = "u";
    request.tenantId = "t";
    const AuthResult<QByteArray> t = JwtSigner::withSecret(*first)->sign(request);
    QVERIFY(t);
    QVERIFY(JwtValidator::withSecret(*second)->validate(*t));
    QVERIFY(!JwtValidator::withSecret(*elsewhere)->validate(*t));
}

void TestJwt::secretFileAccepted_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("mode");
    QTest::addColumn<QByteArray>("secret");

    const QByteArray s32(32, '\x5A');
    const QByteArray s48 = QByteArray(48, '\xA5');
    QTest::newRow("as written") << QByteArray(b64(s32) + '\n') << 0600 << s32;
    QTest::newRow("no newline") << b64(s32) << 0600 << s32;
    QTest::newRow("CRLF and spaces") << QByteArray("  " + b64(s48) + "\r\n") << 0600 << s48;
    QTest::newRow("read-only for the owner") << b64(s32) << 0400 << s32;
}

void TestJwt::secretFileAccepted()
{
    QFETCH(QByteArray, content);
    QFETCH(int, mode);
    QFETCH(QByteArray, secret);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString file = tmp.filePath(QLatin1StringView(SecretFileName));
    QVERIFY(writeFile(file, content, mode_t(mode)));
    const AuthResult<QByteArray> r = loadOrCreateSecret(tmp.path());
    QVERIFY2(r, r ? "" : qPrintable(r.error().message));
    QCOMPARE(*r, secret);
    QCOMPARE(readFile(file), content);
}

void TestJwt::secretFileRejected_data()
{
    QTest::addColumn<QByteArray>("setup"); // file, symlink, directory
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("mode");

    const QByteArray good = QByteArray(b64(QByteArray(32, '\x42')) + '\n');
    QTest::newRow("group readable") << QByteArray("file") << good << 0640;
    QTest::newRow("world readable") << QByteArray("file") << good << 0604;
    QTest::newRow("group writable") << QByteArray("file") << good << 0620;
    QTest::newRow("world everything") << QByteArray("file") << good << 0777;
    QTest::newRow("empty") << QByteArray("file") << QByteArray() << 0600;
    QTest::newRow("not base64url")
        << QByteArray("file") << QByteArray("my secret password!!!!!!!!!!!!!!!!!!!!!") << 0600;
    QTest::newRow("standard base64 with padding")
        << QByteArray("file") << QByteArray(32, '\xFB').toBase64() << 0600;
    QTest::newRow("too short") << QByteArray("file") << b64(QByteArray(31, 'k')) << 0600;
    QTest::newRow("two lines") << QByteArray("file") << QByteArray(good + good) << 0600;
    QTest::newRow("too large") << QByteArray("file") << QByteArray(8192, 'A') << 0600;
    QTest::newRow("symlink to a good file") << QByteArray("symlink") << good << 0600;
    QTest::newRow("a directory") << QByteArray("directory") << QByteArray() << 0700;
}

void TestJwt::secretFileRejected()
{
    QFETCH(QByteArray, setup);
    QFETCH(QByteArray, content);
    QFETCH(int, mode);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString file = tmp.filePath(QLatin1StringView(SecretFileName));
    if (setup == "file") {
        QVERIFY(writeFile(file, content, mode_t(mode)));
    } else if (setup == "symlink") {
        const QString target = tmp.filePath(u"real-secret"_s);
        QVERIFY(writeFile(target, content, mode_t(mode)));
        QVERIFY(QFile::link(target, file));
    } else {
        QVERIFY(QDir(tmp.path()).mkdir(QLatin1StringView(SecretFileName)));
    }

    const AuthResult<QByteArray> r = loadOrCreateSecret(tmp.path());
    QVERIFY2(!r, "the secret file was accepted");
    QVERIFY(!r.error().message.isEmpty());
    const QByteArray trimmed = content.trimmed();
    if (!trimmed.isEmpty())
        QVERIFY2(!r.error().message.toUtf8().contains(
                     trimmed.first(qMin<qsizetype>(16, trimmed.size()))),
                 qPrintable(r.error().message));
    // Never replaced or fixed behind the owner's back.
    if (setup == "file") {
        QCOMPARE(readFile(file), content);
        QCOMPARE(fileMode(file), mode_t(mode));
    }
    QCOMPARE(QDir(tmp.path()).entryList(QDir::Files | QDir::Hidden).filter(u".jwt-secret"_s),
             QStringList());
}

void TestJwt::secretFileConcurrentCreation()
{
    // Several callers racing to create the file must all end up with the same secret.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    constexpr int Rounds = 20;
    constexpr int Threads = 4;
    for (int round = 0; round < Rounds; ++round) {
        const QString dir = tmp.filePath(QString::number(round));
        std::vector<QByteArray> results(Threads);
        std::vector<std::thread> threads;
        for (int i = 0; i < Threads; ++i) {
            threads.emplace_back([&dir, &results, i] {
                const AuthResult<QByteArray> r = loadOrCreateSecret(dir);
                results[size_t(i)] = r ? *r : QByteArray();
            });
        }
        for (std::thread &t : threads)
            t.join();
        for (const QByteArray &r : results) {
            QCOMPARE(r.size(), 32);
            QCOMPARE(r, results.front());
        }
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 1);
    }
}

QTEST_GUILESS_MAIN(TestJwt)
#include "tst_jwt.moc"
