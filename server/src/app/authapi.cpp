// SPDX-License-Identifier: MIT
#include "app/authapi.h"

#include "app/pushapi.h"

#include <heliograph/protocol/json.h>

#include <limits>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

/// A required, non-empty string member of at most `maxSize` bytes.
bool stringMember(const Value &body, QByteArrayView key, qsizetype maxSize, QByteArray &out,
                  QString &error)
{
    const Value *v = body.find(key, Qt::CaseInsensitive);
    const QString name = QString::fromLatin1(key);
    if (!v || v->isNull()) {
        error = u"'%1' is required."_s.arg(name);
        return false;
    }
    if (!v->isString()) {
        error = u"'%1' must be a string."_s.arg(name);
        return false;
    }
    if (v->bytes().isEmpty()) {
        error = u"'%1' must not be empty."_s.arg(name);
        return false;
    }
    if (v->bytes().size() > maxSize) {
        error = u"'%1' is longer than %2 bytes."_s.arg(name).arg(maxSize);
        return false;
    }
    out = v->bytes();
    return true;
}

bool parseObject(QByteArrayView body, Value &out, QString &error)
{
    if (body.size() > MaxAuthBodySize) {
        error = u"The body is larger than %1 bytes."_s.arg(MaxAuthBodySize);
        return false;
    }
    auto parsed = Json::parse(body, 8);
    if (!parsed) {
        // The parser's message quotes no input, only positions.
        error = u"The body is not valid JSON: %1"_s.arg(parsed.error().message);
        return false;
    }
    if (!parsed->isMap()) {
        error = u"The body must be a JSON object."_s;
        return false;
    }
    out = std::move(*parsed);
    return true;
}

QByteArray isoUtc(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODate).toUtf8();
}

HttpResponse tokensResponse(const IssuedTokens &t)
{
    ValueList roles;
    for (const QByteArray &role : t.user.roles)
        roles.append(Value::fromUtf8(role));
    Value user {ValueMap {}};
    user.insert("id", Value::fromUtf8(t.user.username));
    user.insert("tenant", Value::fromUtf8(t.user.tenant));
    user.insert("name", Value(t.user.displayName));
    user.insert("roles", Value(std::move(roles)));
    Value body {ValueMap {}};
    body.insert("accessToken", Value::fromUtf8(t.accessToken));
    body.insert("tokenType", Value("Bearer"));
    body.insert("expiresAt", Value::fromUtf8(isoUtc(t.expiresAt)));
    body.insert("refreshToken", Value::fromUtf8(t.refreshToken));
    body.insert("refreshExpiresAt", Value::fromUtf8(isoUtc(t.refreshExpiresAt)));
    body.insert("user", std::move(user));
    HttpResponse r(200);
    r.setBody(Json::serialize(body), "application/json");
    r.setHeader("Cache-Control", "no-store");
    r.setHeader("Pragma", "no-cache");
    return r;
}

HttpResponse errorResponse(const SignInError &e)
{
    int status = 401;
    switch (e.code) {
    case SignInError::InvalidCredentials:
    case SignInError::InvalidRefreshToken:
        status = 401;
        break;
    case SignInError::Disabled:
        status = 403;
        break;
    case SignInError::RateLimited:
        status = 429;
        break;
    case SignInError::Unavailable:
    case SignInError::Busy:
        status = 503;
        break;
    }
    HttpResponse r = PushApi::problem(status, e.message);
    if (status == 401) // not a bearer challenge: these endpoints take credentials in the body
        r.removeHeader("WWW-Authenticate");
    if (e.retryAfterSeconds > 0)
        r.setHeader("Retry-After", QByteArray::number(e.retryAfterSeconds));
    r.setHeader("Cache-Control", "no-store");
    return r;
}

} // namespace

bool parseLoginBody(QByteArrayView body, LoginBody &out, QString &error)
{
    Value v;
    if (!parseObject(body, v, error))
        return false;
    return stringMember(v, "username", MaxLoginUsernameSize, out.username, error)
        && stringMember(v, "password", PasswordHasher::MaxPasswordSize, out.password, error);
}

bool parseRefreshBody(QByteArrayView body, QByteArray &refreshToken, QString &error)
{
    Value v;
    return parseObject(body, v, error)
        && stringMember(v, "refreshToken", MaxRefreshTokenSize, refreshToken, error);
}

AuthApi::AuthApi(AuthService &service)
    : m_service(service)
{ }

HttpResponse AuthApi::handle(const RouteRequest &request) const
{
    const QByteArrayView path = request.http.path;
    enum { Login, Refresh, Logout } kind;
    if (path == "/auth/login")
        kind = Login;
    else if (path == "/auth/refresh")
        kind = Refresh;
    else if (path == "/auth/logout")
        kind = Logout;
    else
        return PushApi::problem(404, u"No such resource."_s);
    if (request.http.method != "POST") {
        HttpResponse r = PushApi::problem(405, u"Use POST."_s);
        r.setHeader("Allow", "POST");
        return r;
    }
    const QByteArrayView contentType = request.http.header("content-type");
    if (!contentType.isEmpty() && !contentType.startsWith("application/json")
        && !contentType.contains("+json"))
        return PushApi::problem(415, u"The body must be application/json."_s);
    if (request.http.body.size() > MaxAuthBodySize)
        return PushApi::problem(413, u"The body is larger than %1 bytes."_s.arg(MaxAuthBodySize));

    QString error;
    if (kind == Login) {
        LoginBody body;
        if (!parseLoginBody(request.http.body, body, error))
            return PushApi::problem(400, error);
        if (!request.defer) { // not served by HubServer: no other requests to hold up
            auto tokens = m_service.login(body.username, body.password, request.remoteAddress);
            return tokens ? tokensResponse(*tokens) : errorResponse(tokens.error());
        }
        // The password check takes a hashing thread for a while: this thread serves the other
        // requests of its connections meanwhile, and answers when the check is done.
        m_service.loginAsync(body.username, body.password, request.remoteAddress,
                             [respond = request.defer()](SignInResult<IssuedTokens> tokens) {
                                 respond(tokens ? tokensResponse(*tokens)
                                                : errorResponse(tokens.error()));
                             });
        return HttpResponse(); // ignored: the responder answers
    }
    QByteArray refreshToken;
    if (!parseRefreshBody(request.http.body, refreshToken, error))
        return PushApi::problem(400, error);
    if (kind == Logout) {
        m_service.logout(refreshToken);
        HttpResponse r(204);
        r.setHeader("Cache-Control", "no-store");
        return r;
    }
    auto tokens = m_service.refresh(refreshToken);
    return tokens ? tokensResponse(*tokens) : errorResponse(tokens.error());
}

} // namespace Heliograph::Server
