// SPDX-License-Identifier: MIT
// JWT issuing for `heliograph-server token` (and tests).
#include "auth/jwt.h"
#include "auth/jwt_p.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QDateTime>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

/// One string for a single entry, an array for several (the .NET JwtSecurityTokenHandler's
/// convention for `role` and `aud`).
Value stringOrArray(const QList<QByteArray> &items)
{
    if (items.size() == 1)
        return Value::fromUtf8(items.first());
    ValueList array;
    array.reserve(items.size());
    for (const QByteArray &item : items)
        array.append(Value::fromUtf8(item));
    return Value(std::move(array));
}

bool allValidUtf8(const QList<QByteArray> &items)
{
    return std::all_of(items.cbegin(), items.cend(),
                       [](const QByteArray &s) { return s.isValidUtf8(); });
}

} // namespace

JwtSigner::JwtSigner(std::shared_ptr<const Detail::JwtKey> key)
    : m_key(std::move(key))
{ }

AuthResult<JwtSigner> JwtSigner::withSecret(QByteArray secret)
{
    auto key = Detail::secretKey(std::move(secret));
    if (!key)
        return key.error();
    return JwtSigner(std::move(*key));
}

AuthResult<JwtSigner> JwtSigner::withPrivateKeyPem(QByteArrayView pem)
{
    auto key = Detail::privateKeyFromPem(pem);
    if (!key)
        return key.error();
    return JwtSigner(std::move(*key));
}

JwtAlgorithm JwtSigner::algorithm() const noexcept
{
    return m_key->algorithm;
}

AuthResult<QByteArray> JwtSigner::sign(const TokenRequest &request) const
{
    if (request.subject.isEmpty() || request.tenantId.isEmpty())
        return AuthError {u"A token needs a subject and a tenant id."_s};
    if (!request.subject.isValidUtf8() || !request.tenantId.isValidUtf8()
        || !request.issuer.isValidUtf8() || !allValidUtf8(request.roles)
        || !allValidUtf8(request.audiences))
        return AuthError {u"Token claims must be valid UTF-8."_s};
    if (request.lifetime.count() <= 0)
        return AuthError {u"The token lifetime must be positive."_s};

    QList<QByteArray> roles;
    for (const QByteArray &role : request.roles) {
        if (role.isEmpty())
            return AuthError {u"Role names must not be empty."_s};
        if (!roles.contains(role))
            roles.append(role);
    }
    QList<QByteArray> audiences;
    for (const QByteArray &audience : request.audiences) {
        if (audience.isEmpty())
            return AuthError {u"Audiences must not be empty."_s};
        if (!audiences.contains(audience))
            audiences.append(audience);
    }

    const qint64 issuedAt = request.issuedAt.value_or(QDateTime::currentSecsSinceEpoch());
    qint64 expiresAt = 0;
    if (qAddOverflow(issuedAt, qint64(request.lifetime.count()), &expiresAt))
        return AuthError {u"The token expiry is out of range."_s};

    Value claims {ValueMap {}};
    claims.insert("sub", Value::fromUtf8(request.subject));
    claims.insert("tenant_id", Value::fromUtf8(request.tenantId));
    if (!request.name.isEmpty())
        claims.insert("name", Value(request.name));
    if (!roles.isEmpty())
        claims.insert("role", stringOrArray(roles));
    if (!request.issuer.isEmpty())
        claims.insert("iss", Value::fromUtf8(request.issuer));
    if (!audiences.isEmpty())
        claims.insert("aud", stringOrArray(audiences));
    claims.insert("iat", Value(issuedAt));
    claims.insert("exp", Value(expiresAt));
    return signClaims(claims);
}

AuthResult<QByteArray> JwtSigner::signClaims(const Value &claims) const
{
    if (!claims.isMap())
        return AuthError {u"The token claims must be a JSON object."_s};
    Value header {ValueMap {}};
    header.insert("alg", Value(jwtAlgorithmName(m_key->algorithm)));
    header.insert("typ", Value("JWT"));
    return signSegments(Json::serialize(header), Json::serialize(claims));
}

AuthResult<QByteArray> JwtSigner::signSegments(QByteArrayView headerJson,
                                               QByteArrayView payloadJson) const
{
    QByteArray token = Detail::base64UrlEncode(headerJson);
    token += '.';
    token += Detail::base64UrlEncode(payloadJson);
    const std::optional<QByteArray> signature = Detail::createSignature(*m_key, token);
    if (!signature)
        return AuthError {u"Signing the token failed."_s};
    token += '.';
    token += Detail::base64UrlEncode(*signature);
    return token;
}

} // namespace Heliograph::Server
