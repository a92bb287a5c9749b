// SPDX-License-Identifier: MIT
// Internals shared by the JWT validator, signer and secret file: strict base64url, the key
// (secret or EVP_PKEY) and the signature primitives (OpenSSL 3 EVP only).
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

/// The JWS signature of `signingInput` (raw R || S for ES256); nullopt if OpenSSL fails.
std::optional<QByteArray> createSignature(const JwtKey &key, QByteArrayView signingInput);
/// Verifies a JWS signature; HMAC tags are compared in constant time.
bool verifySignature(const JwtKey &key, QByteArrayView signingInput, QByteArrayView signature);

} // namespace Heliograph::Server::Detail
