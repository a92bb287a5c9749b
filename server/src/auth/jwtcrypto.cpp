// SPDX-License-Identifier: MIT
// Strict base64url, key loading (PEM, JWK) and the JWS signature primitives (OpenSSL 3 EVP
// APIs only).
#include "auth/jwt_p.h"

#include <array>
#include <cctype>
#include <cstring>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

using namespace Qt::StringLiterals;

namespace Heliograph::Server::Detail {

namespace {

constexpr qsizetype Sha256Size = 32;
constexpr int EcCoordinateSize = 32; // P-256
constexpr int MinRsaBits = 2048;
/// The largest RSA modulus and exponent taken from a JWK: bigger keys only cost verify time.
constexpr qsizetype MaxRsaModulusBytes = 8192 / 8;
constexpr qsizetype MaxRsaExponentBytes = 4;

struct PkeyDeleter {
    void operator()(EVP_PKEY *p) const noexcept { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX *c) const noexcept { EVP_MD_CTX_free(c); }
};
struct DecoderDeleter {
    void operator()(OSSL_DECODER_CTX *c) const noexcept { OSSL_DECODER_CTX_free(c); }
};
struct EcdsaSigDeleter {
    void operator()(ECDSA_SIG *s) const noexcept { ECDSA_SIG_free(s); }
};
struct BnDeleter {
    void operator()(BIGNUM *b) const noexcept { BN_clear_free(b); }
};
struct ParamBldDeleter {
    void operator()(OSSL_PARAM_BLD *b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
    void operator()(OSSL_PARAM *p) const noexcept { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX *c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

const unsigned char *bytes(QByteArrayView v) noexcept
{
    // OpenSSL may not like null pointers even for empty input.
    static const unsigned char empty = 0;
    return v.isEmpty() ? &empty : reinterpret_cast<const unsigned char *>(v.data());
}

/// Never prompts for a passphrase (the default would read the terminal): encrypted keys fail.
int noPassphrase(char *, int, int, void *)
{
    return -1;
}

/// Decodes one PEM key; null on failure. The OpenSSL error queue is left empty.
PkeyPtr decodePem(QByteArrayView pem, int selection)
{
    EVP_PKEY *pkey = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, DecoderDeleter> ctx(
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr, selection, nullptr, nullptr));
    if (ctx && OSSL_DECODER_CTX_set_pem_password_cb(ctx.get(), noPassphrase, nullptr) == 1) {
        const unsigned char *data = bytes(pem);
        size_t length = size_t(pem.size());
        if (OSSL_DECODER_from_data(ctx.get(), &data, &length) != 1) {
            EVP_PKEY_free(pkey);
            pkey = nullptr;
        }
    }
    ERR_clear_error();
    return PkeyPtr(pkey);
}

bool hasBnParam(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = nullptr;
    const bool ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1 && bn;
    BN_clear_free(bn);
    ERR_clear_error();
    return ok;
}

/// Checks the key type and size and wraps the key.
AuthResult<std::shared_ptr<const JwtKey>> wrapKey(PkeyPtr pkey, bool wantPrivate)
{
    auto key = std::make_shared<JwtKey>();
    if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
        if (EVP_PKEY_get_bits(pkey.get()) < MinRsaBits)
            return AuthError {u"RSA keys must have at least %1 bits."_s.arg(MinRsaBits)};
        key->algorithm = JwtAlgorithm::RS256;
        key->hasPrivateKey = hasBnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_D);
    } else if (EVP_PKEY_is_a(pkey.get(), "EC")) {
        std::array<char, 64> group {};
        size_t groupLength = 0;
        if (EVP_PKEY_get_group_name(pkey.get(), group.data(), group.size(), &groupLength) != 1
            || (std::strcmp(group.data(), "prime256v1") != 0
                && std::strcmp(group.data(), "P-256") != 0)) {
            ERR_clear_error();
            return AuthError {u"EC keys must be on the named curve P-256 (ES256)."_s};
        }
        key->algorithm = JwtAlgorithm::ES256;
        key->hasPrivateKey = hasBnParam(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY);
    } else {
        return AuthError {
            u"Unsupported key type: use an RSA key (RS256) or a P-256 EC key (ES256)."_s};
    }
    if (wantPrivate && !key->hasPrivateKey)
        return AuthError {u"The PEM data holds no private key."_s};
    key->pkey = pkey.release();
    return std::shared_ptr<const JwtKey>(std::move(key));
}

std::optional<QByteArray> hmacSha256(QByteArrayView key, QByteArrayView data)
{
    QByteArray out(Sha256Size, Qt::Uninitialized);
    size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, bytes(key), size_t(key.size()),
                   bytes(data), size_t(data.size()), reinterpret_cast<unsigned char *>(out.data()),
                   size_t(out.size()), &length)
        || length != size_t(Sha256Size)) {
        ERR_clear_error();
        return std::nullopt;
    }
    return out;
}

MdCtxPtr digestContext(EVP_PKEY *pkey, JwtAlgorithm algorithm, bool forSigning)
{
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx)
        return nullptr;
    EVP_PKEY_CTX *pctx = nullptr;
    const int ok = forSigning
        ? EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr)
        : EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr);
    if (ok != 1)
        return nullptr;
    if (algorithm == JwtAlgorithm::RS256
        && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return nullptr;
    // RFC 7518, section 3.5: MGF1 with SHA-256 and a salt as long as the hash (exactly).
    if (algorithm == JwtAlgorithm::PS256
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", nullptr) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        return nullptr;
    return ctx;
}

/// A big-endian unsigned integer from a JWK member (strict base64url, not empty).
BnPtr jwkInteger(const Value &jwk, QByteArrayView member, qsizetype maxBytes, QString &error)
{
    const Value *v = jwk.find(member);
    if (!v || !v->isString()) {
        error = u"The JWK has no \"%1\" string."_s.arg(QLatin1StringView(member));
        return nullptr;
    }
    const std::optional<QByteArray> raw = base64UrlDecode(v->utf8());
    if (!raw || raw->isEmpty() || raw->size() > maxBytes) {
        error = u"The JWK member \"%1\" is not a base64url integer of at most %2 bytes."_s.arg(
            QLatin1StringView(member), QString::number(maxBytes));
        return nullptr;
    }
    return BnPtr(BN_bin2bn(bytes(*raw), int(raw->size()), nullptr));
}

/// An EVP_PKEY from OpenSSL parameters, checked (RSA modulus, EC point on the curve).
PkeyPtr keyFromParams(const char *type, const OSSL_PARAM *params)
{
    EVP_PKEY *pkey = nullptr;
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY,
                             const_cast<OSSL_PARAM *>(params))
            != 1)
        return nullptr;
    PkeyPtr key(pkey);
    PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
        return nullptr;
    return key;
}

/// Raw R || S (JWS) to the DER ECDSA-Sig-Value OpenSSL verifies.
std::optional<QByteArray> ecdsaRawToDer(QByteArrayView raw)
{
    if (raw.size() != 2 * EcCoordinateSize)
        return std::nullopt;
    EcdsaSigPtr sig(ECDSA_SIG_new());
    BnPtr r(BN_bin2bn(bytes(raw), EcCoordinateSize, nullptr));
    BnPtr s(BN_bin2bn(bytes(raw) + EcCoordinateSize, EcCoordinateSize, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        return std::nullopt;
    (void)r.release(); // owned by sig now
    (void)s.release();
    const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (length <= 0)
        return std::nullopt;
    QByteArray der(length, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != length)
        return std::nullopt;
    return der;
}

/// DER ECDSA-Sig-Value (OpenSSL) to raw R || S (JWS).
std::optional<QByteArray> ecdsaDerToRaw(QByteArrayView der)
{
    const unsigned char *in = bytes(der);
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, long(der.size())));
    if (!sig)
        return std::nullopt;
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    QByteArray raw(2 * EcCoordinateSize, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(raw.data());
    if (BN_bn2binpad(r, out, EcCoordinateSize) != EcCoordinateSize
        || BN_bn2binpad(s, out + EcCoordinateSize, EcCoordinateSize) != EcCoordinateSize)
        return std::nullopt;
    return raw;
}

} // namespace

// --- base64url ----------------------------------------------------------------------------------

QByteArray base64UrlEncode(QByteArrayView data)
{
    return data.toByteArray().toBase64(QByteArray::Base64UrlEncoding
                                       | QByteArray::OmitTrailingEquals);
}

std::optional<QByteArray> base64UrlDecode(QByteArrayView text)
{
    if (text.size() % 4 == 1)
        return std::nullopt;
    QByteArray out;
    out.reserve(text.size() / 4 * 3 + 2);
    quint32 accumulator = 0;
    int bits = 0;
    for (const char c : text) {
        quint32 v;
        if (c >= 'A' && c <= 'Z')
            v = quint32(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = quint32(c - 'a' + 26);
        else if (c >= '0' && c <= '9')
            v = quint32(c - '0' + 52);
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return std::nullopt;
        accumulator = (accumulator << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(char((accumulator >> bits) & 0xFF));
        }
    }
    // The 2 or 4 bits left over by a final partial group must be zero.
    if (bits > 0 && (accumulator & ((1U << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

void wipe(QByteArray &bytesToWipe) noexcept
{
    if (!bytesToWipe.isEmpty() && !bytesToWipe.isDetached()) {
        // Shared with another copy: wiping would destroy the other owner's data.
        bytesToWipe.clear();
        return;
    }
    if (!bytesToWipe.isEmpty())
        OPENSSL_cleanse(bytesToWipe.data(), size_t(bytesToWipe.size()));
    bytesToWipe.clear();
}

// --- keys ---------------------------------------------------------------------------------------

JwtKey::~JwtKey()
{
    EVP_PKEY_free(pkey);
    wipe(secret);
}

AuthResult<std::shared_ptr<const JwtKey>> secretKey(QByteArray secret)
{
    if (secret.size() < MinSecretSize) {
        wipe(secret);
        return AuthError {
            u"The HS256 secret must have at least %1 bytes (256 bits)."_s.arg(MinSecretSize)};
    }
    auto key = std::make_shared<JwtKey>();
    key->algorithm = JwtAlgorithm::HS256;
    key->secret = std::move(secret);
    key->hasPrivateKey = true;
    return std::shared_ptr<const JwtKey>(std::move(key));
}

AuthResult<std::shared_ptr<const JwtKey>> publicKeyFromPem(QByteArrayView pem)
{
    PkeyPtr pkey = decodePem(pem, EVP_PKEY_PUBLIC_KEY);
    if (!pkey)
        return AuthError {u"The PEM data is not a public key OpenSSL can read."_s};
    return wrapKey(std::move(pkey), false);
}

AuthResult<std::shared_ptr<const JwtKey>> privateKeyFromPem(QByteArrayView pem)
{
    PkeyPtr pkey = decodePem(pem, EVP_PKEY_KEYPAIR);
    if (!pkey)
        return AuthError {u"The PEM data is not an unencrypted private key OpenSSL can read."_s};
    return wrapKey(std::move(pkey), true);
}

AuthResult<std::shared_ptr<const JwtKey>> publicKeyFromJwk(const Value &jwk)
{
    if (!jwk.isMap())
        return AuthError {u"The JWK is not a JSON object."_s};
    // A published private key would let anyone sign: never use one.
    for (const char *privateMember : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
        if (jwk.find(privateMember))
            return AuthError {u"The JWK holds private or secret key material (\"%1\")."_s.arg(
                QLatin1StringView(privateMember))};
    }
    const Value *kty = jwk.find("kty");
    if (!kty || !kty->isString())
        return AuthError {u"The JWK has no \"kty\" string."_s};

    PkeyPtr pkey;
    QString error;
    if (kty->utf8() == "RSA") {
        BnPtr n = jwkInteger(jwk, "n", MaxRsaModulusBytes, error);
        BnPtr e = n ? jwkInteger(jwk, "e", MaxRsaExponentBytes, error) : nullptr;
        if (!n || !e)
            return AuthError {error};
        ParamBldPtr build(OSSL_PARAM_BLD_new());
        ParamPtr params;
        if (build && OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) == 1
            && OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) == 1)
            params.reset(OSSL_PARAM_BLD_to_param(build.get()));
        if (params)
            pkey = keyFromParams("RSA", params.get());
        ERR_clear_error();
        if (!pkey)
            return AuthError {u"The JWK is not a valid RSA public key."_s};
    } else if (kty->utf8() == "EC") {
        const Value *crv = jwk.find("crv");
        if (!crv || !crv->isString() || crv->utf8() != "P-256")
            return AuthError {u"EC keys must be on the curve P-256 (ES256)."_s};
        QByteArray point(1, '\x04'); // uncompressed: 04 || x || y, each exactly 32 bytes
        for (const char *member : {"x", "y"}) {
            const Value *v = jwk.find(member);
            const std::optional<QByteArray> raw
                = v && v->isString() ? base64UrlDecode(v->utf8()) : std::nullopt;
            if (!raw || raw->size() != EcCoordinateSize)
                return AuthError {
                    u"The JWK member \"%1\" is not a base64url P-256 coordinate (32 bytes)."_s.arg(
                        QLatin1StringView(member))};
            point += *raw;
        }
        ParamBldPtr build(OSSL_PARAM_BLD_new());
        ParamPtr params;
        if (build
            && OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                               "prime256v1", 0)
                == 1
            && OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                                point.constData(), size_t(point.size()))
                == 1)
            params.reset(OSSL_PARAM_BLD_to_param(build.get()));
        if (params)
            pkey = keyFromParams("EC", params.get());
        ERR_clear_error();
        if (!pkey)
            return AuthError {u"The JWK is not a valid P-256 public key (not on the curve)."_s};
    } else {
        QString name; // for the message: plain ASCII letters and digits only
        for (const char c : kty->utf8().first(std::min<qsizetype>(kty->size(), 16)))
            name += std::isalnum(static_cast<unsigned char>(c)) ? QLatin1Char(c) : QLatin1Char('?');
        return AuthError {
            u"Unsupported key type \"%1\": only RSA and EC (P-256) keys verify tokens."_s.arg(
                name)};
    }
    return wrapKey(std::move(pkey), false);
}

bool keyAccepts(const JwtKey &key, JwtAlgorithm algorithm) noexcept
{
    if (key.algorithm == JwtAlgorithm::RS256)
        return algorithm == JwtAlgorithm::RS256 || algorithm == JwtAlgorithm::PS256;
    return key.algorithm == algorithm;
}

// --- signatures ---------------------------------------------------------------------------------

std::optional<QByteArray> createSignature(const JwtKey &key, QByteArrayView signingInput)
{
    return createSignature(key, key.algorithm, signingInput);
}

std::optional<QByteArray> createSignature(const JwtKey &key, JwtAlgorithm algorithm,
                                          QByteArrayView signingInput)
{
    if (!keyAccepts(key, algorithm))
        return std::nullopt;
    if (algorithm == JwtAlgorithm::HS256)
        return hmacSha256(key.secret, signingInput);
    if (!key.hasPrivateKey)
        return std::nullopt;

    std::optional<QByteArray> result;
    if (MdCtxPtr ctx = digestContext(key.pkey, algorithm, true)) {
        size_t length = 0;
        if (EVP_DigestSign(ctx.get(), nullptr, &length, bytes(signingInput),
                           size_t(signingInput.size()))
            == 1) {
            QByteArray signature(qsizetype(length), Qt::Uninitialized);
            if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()),
                               &length, bytes(signingInput), size_t(signingInput.size()))
                == 1) {
                signature.truncate(qsizetype(length));
                result = key.algorithm == JwtAlgorithm::ES256 ? ecdsaDerToRaw(signature)
                                                              : std::optional(signature);
            }
        }
    }
    ERR_clear_error();
    return result;
}

bool verifySignature(const JwtKey &key, QByteArrayView signingInput, QByteArrayView signature)
{
    return verifySignature(key, key.algorithm, signingInput, signature);
}

bool verifySignature(const JwtKey &key, JwtAlgorithm algorithm, QByteArrayView signingInput,
                     QByteArrayView signature)
{
    if (!keyAccepts(key, algorithm))
        return false;
    if (algorithm == JwtAlgorithm::HS256) {
        const std::optional<QByteArray> expected = hmacSha256(key.secret, signingInput);
        // The length is public (always 32); the comparison of the bytes is constant-time.
        return expected && signature.size() == expected->size()
            && CRYPTO_memcmp(expected->constData(), signature.data(), size_t(signature.size()))
            == 0;
    }

    QByteArray der;
    if (key.algorithm == JwtAlgorithm::ES256) {
        std::optional<QByteArray> converted = ecdsaRawToDer(signature);
        if (!converted)
            return false;
        der = std::move(*converted);
        signature = der;
    } else if (signature.size() != EVP_PKEY_get_size(key.pkey)) {
        return false;
    }

    bool ok = false;
    if (MdCtxPtr ctx = digestContext(key.pkey, algorithm, false)) {
        ok = EVP_DigestVerify(ctx.get(), bytes(signature), size_t(signature.size()),
                              bytes(signingInput), size_t(signingInput.size()))
            == 1;
    }
    ERR_clear_error();
    return ok;
}

} // namespace Heliograph::Server::Detail
