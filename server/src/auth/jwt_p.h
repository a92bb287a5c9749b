// SPDX-License-Identifier: MIT
// Internals shared by the JWT validator, signer, secret file and JWK Sets: strict base64url, the
// key (secret or EVP_PKEY, from PEM or a JWK) and the signature primitives (OpenSSL 3 EVP only).
#pragma once

#include "auth/jwt.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

struct evp_pkey_st;

namespace Heliograph::Server::Detail {

/// Unpadded base64url (RFC 7515, section 2).
QByteArray base64UrlEncode(QByteArrayView data);
/// Strict unpadded base64url: only [A-Za-z0-9_-], no '=', no whitespace, no length of 4n+1,
/// and the unused bits of the last character must be zero (one encoding per byte string).
std::optional<QByteArray> base64UrlDecode(QByteArrayView text);

/// Overwrites the bytes (OPENSSL_cleanse) and clears the array.
void wipe(QByteArray &bytes) noexcept;

inline constexpr qsizetype MinSecretSize = 32;

struct JwtKey {
    /// HS256 for a secret, RS256 for any RSA key (which can also verify PS256), ES256 for P-256.
    JwtAlgorithm algorithm = JwtAlgorithm::HS256;
    QByteArray secret; ///< HS256
    evp_pkey_st *pkey = nullptr; ///< RS256/ES256
    bool hasPrivateKey = false;

    JwtKey() = default;
    JwtKey(const JwtKey &) = delete;
    JwtKey &operator=(const JwtKey &) = delete;
    ~JwtKey();
};

AuthResult<std::shared_ptr<const JwtKey>> secretKey(QByteArray secret);
AuthResult<std::shared_ptr<const JwtKey>> publicKeyFromPem(QByteArrayView pem);
AuthResult<std::shared_ptr<const JwtKey>> privateKeyFromPem(QByteArrayView pem);
/// The public key of a JWK (RFC 7517/7518): kty RSA (n, e; >= 2048 bits) or EC (crv P-256, x, y
/// of 32 bytes each, on the curve), strict base64url. Only the key material is read here (no
/// kid, use, alg); members of private keys are refused.
AuthResult<std::shared_ptr<const JwtKey>> publicKeyFromJwk(const Value &jwk);

/// True if `key` can make or check `algorithm` signatures (an RSA key: RS256 and PS256).
bool keyAccepts(const JwtKey &key, JwtAlgorithm algorithm) noexcept;

/// The JWS signature of `signingInput` (raw R || S for ES256); nullopt if OpenSSL fails.
std::optional<QByteArray> createSignature(const JwtKey &key, QByteArrayView signingInput);
/// The same with an explicit algorithm the key accepts (PS256 with an RSA key).
std::optional<QByteArray> createSignature(const JwtKey &key, JwtAlgorithm algorithm,
                                          QByteArrayView signingInput);
/// Verifies a JWS signature with the key's own algorithm; HMAC tags are compared in constant
/// time.
bool verifySignature(const JwtKey &key, QByteArrayView signingInput, QByteArrayView signature);
/// Verifies a JWS signature of `algorithm`; false if the key does not accept it.
bool verifySignature(const JwtKey &key, JwtAlgorithm algorithm, QByteArrayView signingInput,
                     QByteArrayView signature);

} // namespace Heliograph::Server::Detail
