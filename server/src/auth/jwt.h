// SPDX-License-Identifier: MIT
// JSON Web Tokens (RFC 7519) in the JWS compact serialization (RFC 7515) for the hub server:
// validation of bearer tokens (JwtValidator), token issuing for `heliograph-server token`
// (JwtSigner), and the HS256 secret file both of them share (loadOrCreateSecret).
//
// Security rules kept by everything here:
//  - exactly one key per validator; the accepted `alg` is the one implied by the key (HS256 for
//    a secret, RS256 for an RSA key, ES256 for a P-256 key), never `none`, never a different
//    one (no key confusion: an HS256 token is refused by a validator holding a public key);
//  - HMAC tags are compared in constant time;
//  - no error message ever contains a token, a segment of one, a secret or key material.
#pragma once

#include <heliograph/client/expected.h>
#include <heliograph/client/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

namespace Heliograph::Server {

/// The JWS algorithms the server speaks (RFC 7518, section 3.1).
enum class JwtAlgorithm : quint8 {
    HS256, ///< HMAC SHA-256 with a shared secret of at least 256 bits
    RS256, ///< RSASSA-PKCS1-v1_5 SHA-256, RSA keys of at least 2048 bits
    ES256, ///< ECDSA P-256 SHA-256, signature as raw R || S (64 bytes)
};

/// "HS256", "RS256" or "ES256".
const char *jwtAlgorithmName(JwtAlgorithm algorithm) noexcept;

/// Why a token was refused. The codes are stable; map them all to HTTP 401.
enum class JwtErrorCode : quint8 {
    Malformed = 1, ///< not three strict base64url segments, not JSON objects, too large, bad types
    UnsupportedAlgorithm, ///< `alg` is none, unknown, or not the configured key's algorithm
    BadSignature, ///< the signature does not verify with the configured key
    Expired, ///< now >= exp + clock skew
    NotYetValid, ///< now + clock skew < nbf
    WrongIssuer, ///< `iss` missing or not the configured issuer
    WrongAudience, ///< `aud` missing or does not contain the configured audience
    MissingClaim, ///< `exp` or one of the required claims (sub, tenant_id) is missing or empty
};

/// "Malformed", "UnsupportedAlgorithm", ...
const char *jwtErrorCodeName(JwtErrorCode code) noexcept;

/// A refused token: the code, and a message for logs that never contains the token.
struct JwtError {
    JwtErrorCode code = JwtErrorCode::Malformed;
    QString message;
};

/// A key, signing or secret-file failure (configuration errors, not token errors). The message
/// never contains key material.
struct AuthError {
    QString message;
};

template<typename T> using JwtResult = Expected<T, JwtError>;
template<typename T> using AuthResult = Expected<T, AuthError>;

/// The .NET role claim type (ClaimTypes.Role), accepted next to `role`.
inline constexpr char DotNetRoleClaim[]
    = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
/// The .NET name claim type (ClaimTypes.Name), the fallback when there is no `name` claim.
inline constexpr char DotNetNameClaim[]
    = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";

/// What a valid token says about its bearer.
struct Claims {
    QByteArray subject; ///< `sub` (UTF-8)
    QByteArray tenantId; ///< `tenant_id` (UTF-8)
    QString name; ///< `name`, else the .NET name claim; empty if neither
    /// `role` and the .NET role claim (each a string or an array of strings), in token order,
    /// without duplicates or empty strings.
    QList<QByteArray> roles;
    qint64 expiresAt = 0; ///< `exp`, seconds since the Unix epoch
    qint64 issuedAt = 0; ///< `iat`, seconds since the Unix epoch; 0 when absent
    Value payload; ///< every claim, as parsed

    /// Exact (case-sensitive) match, like ClaimsPrincipal.IsInRole.
    bool hasRole(QByteArrayView role) const noexcept;
};

struct JwtValidationOptions {
    QByteArray issuer; ///< required `iss` (exact match); empty: not checked
    QByteArray audience; ///< required member of `aud` (a string or an array); empty: not checked
    std::chrono::seconds clockSkew {60}; ///< tolerance for exp and nbf; negative counts as 0
    /// Claims that must be present and not empty (besides `exp`, which is always required).
    /// The hub needs `sub` and `tenant_id`; clear the list to validate other tokens.
    QList<QByteArray> requiredClaims {QByteArray("sub"), QByteArray("tenant_id")};
    /// Current time in seconds since the Unix epoch; empty: the system clock.
    std::function<qint64()> clock;
};

namespace Detail {
struct JwtKey;
}

/// Validates bearer tokens against one key. Copies share the key; validate() is const and may
/// run concurrently on several threads.
class JwtValidator {
public:
    static constexpr qsizetype MaxTokenSize = 8192;

    /// An HS256 validator; the secret must have at least 32 bytes (RFC 7518, section 3.2).
    static AuthResult<JwtValidator> withSecret(QByteArray secret,
                                               JwtValidationOptions options = {});
    /// An RS256 (RSA >= 2048 bits) or ES256 (P-256) validator from a PEM public key
    /// ("PUBLIC KEY" or "RSA PUBLIC KEY"). Other key types are refused.
    static AuthResult<JwtValidator> withPublicKeyPem(QByteArrayView pem,
                                                     JwtValidationOptions options = {});

    JwtAlgorithm algorithm() const noexcept;
    const JwtValidationOptions &options() const noexcept { return m_options; }

    /// Checks, in this order: size (MaxTokenSize), three strict base64url segments, the header
    /// (a JSON object with unique members, `alg` equal to algorithm(), no `crit`), the signature,
    /// the payload (a JSON object with unique members) and the types of the claims read here
    /// (exp, nbf, iat, iss, aud, sub, tenant_id, name, roles), `exp` present, exp/nbf against
    /// the clock with the skew, iss, aud, then the required claims.
    JwtResult<Claims> validate(QByteArrayView token) const;

private:
    JwtValidator(std::shared_ptr<const Detail::JwtKey> key, JwtValidationOptions options);

    std::shared_ptr<const Detail::JwtKey> m_key;
    JwtValidationOptions m_options;
};

/// The claims of a token to issue.
struct TokenRequest {
    QByteArray subject; ///< `sub`, required, UTF-8
    QByteArray tenantId; ///< `tenant_id`, required, UTF-8
    QString name; ///< `name`; omitted when empty
    QList<QByteArray> roles; ///< `role`: a string for one role, an array for several
    QByteArray issuer; ///< `iss`; omitted when empty
    QList<QByteArray> audiences; ///< `aud`: a string for one, an array for several
    std::optional<qint64> issuedAt; ///< `iat` in seconds since the Unix epoch; default: now
    std::chrono::seconds lifetime {std::chrono::hours(1)}; ///< exp = iat + lifetime; > 0
};

/// Issues tokens (for the `heliograph-server token` command and tests).
class JwtSigner {
public:
    /// An HS256 signer; the secret must have at least 32 bytes.
    static AuthResult<JwtSigner> withSecret(QByteArray secret);
    /// An RS256 or ES256 signer from an unencrypted PEM private key (PKCS#8 or traditional).
    static AuthResult<JwtSigner> withPrivateKeyPem(QByteArrayView pem);

    JwtAlgorithm algorithm() const noexcept;

    /// A token with sub, tenant_id, name, role, iss, aud, iat and exp (in that order).
    AuthResult<QByteArray> sign(const TokenRequest &request) const;
    /// A token with the header {"alg":...,"typ":"JWT"} and `claims` (a map) as its payload.
    AuthResult<QByteArray> signClaims(const Value &claims) const;
    /// Signs arbitrary header and payload bytes, unchecked (tests and fuzzing).
    AuthResult<QByteArray> signSegments(QByteArrayView headerJson,
                                        QByteArrayView payloadJson) const;

private:
    explicit JwtSigner(std::shared_ptr<const Detail::JwtKey> key);

    std::shared_ptr<const Detail::JwtKey> m_key;
};

/// The name of the secret file in the data folder.
inline constexpr char SecretFileName[] = "jwt-hs256.secret";

/// The HS256 secret shared by the server and the token command: read from
/// `dataDir`/jwt-hs256.secret (base64url text), or, when the file does not exist, 256 random bits
/// written there first (mode 0600, created atomically: concurrent callers get the same secret;
/// the folder is created with mode 0700 if needed). An existing file is never overwritten; one
/// that is not a regular file, is readable by group or others, or holds no valid secret of at
/// least 32 bytes is an error.
AuthResult<QByteArray> loadOrCreateSecret(const QString &dataDir);

} // namespace Heliograph::Server
