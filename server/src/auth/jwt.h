// SPDX-License-Identifier: MIT
// JSON Web Tokens (RFC 7519) in the JWS compact serialization (RFC 7515) for the hub server:
// validation of bearer tokens (JwtValidator), token issuing for `heliograph-server token`
// (JwtSigner), and the HS256 secret file both of them share (loadOrCreateSecret). The keys of an
// external identity provider (JWK Sets, OpenID Connect discovery) are in jwks.h.
//
// Security rules kept by everything here:
//  - a validator holds one key, whose type implies the accepted `alg` (HS256 for a secret,
//    RS256 for an RSA key, ES256 for a P-256 key), or an identity provider's key set, where the
//    token's `kid` picks the key and its type (and `alg` member, if any) decides which of RS256,
//    PS256 and ES256 it verifies; never `none`, never HS256 with a public key (no key confusion);
//  - HMAC tags are compared in constant time;
//  - no error message ever contains a token, a segment of one, a secret or key material.
#pragma once

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/value.h>

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
    PS256, ///< RSASSA-PSS SHA-256, MGF1 SHA-256, 32-byte salt; only with identity provider keys
};

/// "HS256", "RS256", "ES256" or "PS256".
const char *jwtAlgorithmName(JwtAlgorithm algorithm) noexcept;
/// The algorithm of a JWS `alg` name (exact, case-sensitive); nullopt for any other (`none`).
std::optional<JwtAlgorithm> jwtAlgorithmFromName(QByteArrayView name) noexcept;

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
    /// The identity provider has no key with the token's `kid` (or none is loaded yet); a
    /// rate-limited refresh of its keys is under way, so a later attempt may succeed.
    UnknownKey,
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

/// What a valid token says about its bearer. Where subject, tenantId, name and roles come from
/// is configurable (JwtValidationOptions::userClaim and the others); the defaults are below.
struct Claims {
    QByteArray subject; ///< the user claim, `sub` by default (UTF-8)
    QByteArray tenantId; ///< the tenant claim, `tenant_id` by default (UTF-8)
    QString name; ///< the first name claim present: `name`, else the .NET name claim; or empty
    /// The role claims, by default `role` and the .NET role claim (each a string or an array of
    /// strings), in token order, without duplicates or empty strings.
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

    /// Claim names the principal is read from. Each is a claim name or a dotted path into nested
    /// objects (`realm_access.roles`); a top-level claim whose whole name matches wins, so URIs
    /// with dots (the .NET claim types) are names. requiredClaims are looked up the same way.
    QByteArray userClaim {"sub"}; ///< Claims::subject; must be a string when present
    QByteArray tenantClaim {"tenant_id"}; ///< Claims::tenantId; must be a string when present
    /// Claims::name: the first of these that holds a non-empty string (each must be a string).
    QList<QByteArray> nameClaims {QByteArray("name"), QByteArray(DotNetNameClaim)};
    /// Claims::roles: all of these, merged (each a string or an array of strings).
    QList<QByteArray> roleClaims {QByteArray("role"), QByteArray(DotNetRoleClaim)};
};

/// The claim at `path` in a token payload: the top-level member named `path` if there is one,
/// else, for a path with dots, the member reached through nested objects; null if absent.
const Value *findClaim(const Value &payload, QByteArrayView path);

namespace Detail {
struct JwtKey;
}
class JwksKeyStore;

/// Validates bearer tokens against one key or an identity provider's key set. Copies share the
/// key (set); validate() is const and may run concurrently on several threads.
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
    /// A validator for an identity provider's tokens: RS256, PS256 or ES256 with the key of the
    /// store's current key set that the token's `kid` names (without a `kid`: each key that fits
    /// the algorithm). A `kid` the set does not know is refused (UnknownKey) and asks the store
    /// for a refresh (rate-limited, never waited for). With no `issuer` in the options, `iss` must
    /// be the key set's issuer (from OpenID Connect discovery) if it has one.
    static AuthResult<JwtValidator> withKeySet(std::shared_ptr<JwksKeyStore> keys,
                                               JwtValidationOptions options = {});

    /// The same key (set) with other options.
    JwtValidator withOptions(JwtValidationOptions options) const;

    /// The single key's algorithm; RS256 for a key-set validator (which picks it per key).
    JwtAlgorithm algorithm() const noexcept;
    /// True for a validator made by withKeySet().
    bool usesKeySet() const noexcept { return m_keySet != nullptr; }
    const JwtValidationOptions &options() const noexcept { return m_options; }

    /// Checks, in this order: size (MaxTokenSize), three strict base64url segments, the header
    /// (a JSON object with unique members, `alg` equal to algorithm() or, for a key set, one of
    /// RS256/PS256/ES256 that the selected key allows, `kid` a string, no `crit`), the
    /// signature, the payload (a JSON object with unique members) and the types of the claims
    /// read here (exp, nbf, iat, iss, aud and the user, tenant, name and role claims), `exp`
    /// present, exp/nbf against the clock with the skew, iss, aud, then the required claims.
    JwtResult<Claims> validate(QByteArrayView token) const;

private:
    JwtValidator(std::shared_ptr<const Detail::JwtKey> key, JwtValidationOptions options);
    JwtValidator(std::shared_ptr<JwksKeyStore> keySet, JwtValidationOptions options);

    std::shared_ptr<const Detail::JwtKey> m_key; ///< null for a key-set validator
    std::shared_ptr<JwksKeyStore> m_keySet;
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
