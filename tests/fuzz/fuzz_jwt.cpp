// SPDX-License-Identifier: MIT
// libFuzzer target: JWT validation (server/src/auth) with an HS256 validator.
//  1. the raw input is validated as a token;
//  2. the input is signed as the payload under a valid HS256 header, and
//  3. split at its first newline into header and payload JSON and signed as such, so that the
//     header, payload and claim checks behind the signature are reached: a token signed with
//     the validator's own secret must never fail with BadSignature, and once accepted, must be
//     refused with BadSignature after any one bit of its signature flips;
//  4. the input, split at 0x1F into sub, tenant_id, name, roles (comma-separated), iss and aud,
//     is issued with JwtSigner::sign: what the signer accepts, the validator must accept, with
//     the same claims.
//  5. the input as a JWK Set (an identity provider's keys): parsed or refused with a message,
//     never a crash; a set that parses verifies the raw input as a token (refused or accepted,
//     never a crash) and never accepts a token signed with HS256;
//  6. the input as a tenant id, a user id and an Argon2id PHC string: normalization keeps to
//     the alphabet and is idempotent.
// Every violated invariant prints what it saw and calls abort(), which libFuzzer reports.
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/passwordhasher.h"
#include "fuzz_common.h"
#include "signalr/identity.h"

#include <QtCore/QList>

namespace {

using namespace Heliograph::Server;

constexpr qint64 FuzzNow = 1'700'000'000;
const QByteArray Secret = QByteArray("heliograph-fuzz-secret-0123456789");

JwtValidationOptions options(QByteArray issuer = {}, QByteArray audience = {})
{
    JwtValidationOptions o;
    o.issuer = std::move(issuer);
    o.audience = std::move(audience);
    o.clock = [] { return FuzzNow; };
    return o;
}

const JwtValidator &validator()
{
    static const JwtValidator v = *JwtValidator::withSecret(Secret, options());
    return v;
}

const JwtSigner &signer()
{
    static const JwtSigner s = *JwtSigner::withSecret(Secret);
    return s;
}

void checkAccepted(const JwtResult<Claims> &r, QByteArrayView token)
{
    using HeliographFuzz::require;
    require(token.size() <= JwtValidator::MaxTokenSize, "an oversize token was accepted", token);
    require(token.count('.') == 2, "a token without three segments was accepted", token);
    require(!r->subject.isEmpty() && !r->tenantId.isEmpty(),
            "a token without sub or tenant_id was accepted", token);
    require(r->expiresAt > FuzzNow - 60, "an expired token was accepted", token);
    require(r->payload.isMap(), "the accepted payload is not a map", token);
    for (const QByteArray &role : r->roles)
        require(!role.isEmpty() && r->hasRole(role), "bad role list", token);
}

/// Validates a token signed with the validator's own secret.
void checkSigned(QByteArrayView headerJson, QByteArrayView payloadJson)
{
    using HeliographFuzz::require;
    const AuthResult<QByteArray> token = signer().signSegments(headerJson, payloadJson);
    require(token.has_value(), "HS256 signing failed", payloadJson);
    const JwtResult<Claims> r = validator().validate(*token);
    if (!r) {
        require(r.error().code != JwtErrorCode::BadSignature,
                "a correctly signed token failed with BadSignature", *token);
        require(!r.error().message.isEmpty(), "an error without a message", *token);
        if (token->size() > JwtValidator::MaxTokenSize)
            require(r.error().code == JwtErrorCode::Malformed,
                    "an oversize token was not refused as Malformed", *token);
        return;
    }
    checkAccepted(r, *token);

    // Flip one bit of the signature (chosen by the input): now it must be a forgery.
    const qsizetype dot = token->lastIndexOf('.');
    const QByteArray::FromBase64Result signature = QByteArray::fromBase64Encoding(
        token->sliced(dot + 1),
        QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    require(signature.decodingStatus == QByteArray::Base64DecodingStatus::Ok
                && signature.decoded.size() == 32,
            "the HS256 signature is not 32 bytes", *token);
    QByteArray flipped = signature.decoded;
    const quint64 bit = quint64(HeliographFuzz::splitPoint(payloadJson)) % 256;
    flipped[qsizetype(bit / 8)] = char(flipped.at(qsizetype(bit / 8)) ^ (1 << (bit % 8)));
    const QByteArray forged = token->first(dot + 1)
        + flipped.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    const JwtResult<Claims> again = validator().validate(forged);
    require(!again && again.error().code == JwtErrorCode::BadSignature,
            "a token with a flipped signature bit was not refused as BadSignature", forged);
}

/// Issues a token from input fields; what the signer accepts the validator must accept.
void checkIssued(QByteArrayView input)
{
    using HeliographFuzz::require;
    const QList<QByteArray> parts = input.toByteArray().split('\x1f');
    if (parts.size() < 2)
        return;
    TokenRequest request;
    request.subject = parts.value(0);
    request.tenantId = parts.value(1);
    request.name = QString::fromUtf8(parts.value(2));
    for (const QByteArray &role : parts.value(3).split(',')) {
        if (!role.isEmpty())
            request.roles.append(role);
    }
    request.issuer = parts.value(4);
    if (!parts.value(5).isEmpty())
        request.audiences.append(parts.value(5));
    request.issuedAt = FuzzNow;
    request.lifetime = std::chrono::minutes(5);

    const AuthResult<QByteArray> token = signer().sign(request);
    if (!token)
        return;
    const AuthResult<JwtValidator> v
        = JwtValidator::withSecret(Secret, options(request.issuer, parts.value(5)));
    require(v.has_value(), "validator construction failed");
    const JwtResult<Claims> r = v->validate(*token);
    if (!r && token->size() > JwtValidator::MaxTokenSize) {
        require(r.error().code == JwtErrorCode::Malformed, "oversize token not Malformed", *token);
        return;
    }
    if (!r) {
        std::fprintf(stderr, "error: %s\n", qPrintable(r.error().message));
        HeliographFuzz::violated("a token issued by JwtSigner was refused", input, *token);
    }
    checkAccepted(r, *token);
    QList<QByteArray> roles;
    for (const QByteArray &role : request.roles) {
        if (!roles.contains(role))
            roles.append(role);
    }
    require(r->subject == request.subject && r->tenantId == request.tenantId,
            "sub or tenant_id changed", input, *token);
    require(r->name == request.name, "name changed", input, *token);
    require(r->roles == roles, "roles changed", input, *token);
    require(r->issuedAt == FuzzNow && r->expiresAt == FuzzNow + 300, "iat or exp changed", input,
            *token);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace HeliographFuzz;
    const QByteArrayView input = view(data, size);

    // 1. The input as a token.
    const JwtResult<Claims> r = validator().validate(input);
    if (r)
        checkAccepted(r, input);
    else
        require(!r.error().message.isEmpty(), "an error without a message", input);

    // 2. The input as the payload of a correctly signed token.
    checkSigned(R"({"alg":"HS256","typ":"JWT"})", input);

    // 3. Header and payload from the input.
    if (const qsizetype nl = input.indexOf('\n'); nl >= 0)
        checkSigned(input.first(nl), input.sliced(nl + 1));

    // 4. A token issued from input fields.
    checkIssued(input);

    // 5. The input as a JWK Set.
    QStringList skipped;
    const auto keys = JwtKeySet::parse(input, "https://issuer.example", &skipped);
    if (!keys) {
        require(!keys.error().message.isEmpty(), "a JWK Set error without a message", input);
    } else {
        auto store = std::make_shared<JwksKeyStore>();
        store->publish(*keys);
        if (auto v = JwtValidator::withKeySet(store, options())) {
            (void)v->validate(input);
            TokenRequest request;
            request.subject = "u";
            request.tenantId = "t";
            request.issuedAt = FuzzNow;
            if (const auto hs = signer().sign(request))
                require(!v->validate(*hs), "a key set accepted an HS256 token", input);
        }
    }

    // 6. Ids and hash parameters.
    for (const bool tenant : {true, false}) {
        QByteArray id = input.toByteArray();
        const bool ok = tenant ? Heliograph::Server::Identity::normalizeTenantId(id)
                               : Heliograph::Server::Identity::normalizeUserId(id);
        if (ok) {
            require(id == id.toLower(), "a normalized id is not lower case", input);
            QByteArray again = id;
            require(tenant ? Heliograph::Server::Identity::normalizeTenantId(again)
                           : Heliograph::Server::Identity::normalizeUserId(again),
                    "normalization is not idempotent", input);
            require(!id.contains('/') && !id.contains('\n') && !id.contains(' '),
                    "a normalized id holds a separator", input);
            require(!tenant || !id.contains(':'), "a tenant id holds ':'", input);
        }
    }
    (void)PasswordHasher::parametersOf(input);
    return 0;
}
