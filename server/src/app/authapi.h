// SPDX-License-Identifier: MIT
// The sign-in endpoints: POST /auth/login {username, password}, POST /auth/refresh
// {refreshToken}, POST /auth/logout {refreshToken}. Successful logins and refreshes answer
// {accessToken, expiresAt, refreshToken, refreshExpiresAt, user: {id, tenant, name, roles}}
// with Cache-Control: no-store; errors are RFC 9457 problem details like the push API's. The
// password of a login is checked on the sign-in service's hashing threads (the answer is
// deferred), never on the thread of the request's connection.
#pragma once

#include "auth/authservice.h"
#include "transport/hubserver.h"

#include <QtCore/QStringList>

#include <optional>

namespace Heliograph::Server {

struct LoginBody {
    QByteArray username; ///< UTF-8, as sent
    QByteArray password; ///< UTF-8, as sent
};

/// The body limits: larger bodies get 413 before they are parsed.
inline constexpr qsizetype MaxAuthBodySize = 8 * 1024;
inline constexpr qsizetype MaxLoginUsernameSize = 256;
inline constexpr qsizetype MaxRefreshTokenSize = 512;

/// Parses a login body: a JSON object with string members `username` and `password` (any
/// member case, like the push API); other members are ignored. False with a message for a
/// problem+json 400 otherwise (the message never contains the password).
bool parseLoginBody(QByteArrayView body, LoginBody &out, QString &error);
/// Parses a refresh or logout body: {refreshToken: string}.
bool parseRefreshBody(QByteArrayView body, QByteArray &refreshToken, QString &error);

class AuthApi {
public:
    explicit AuthApi(AuthService &service);
    /// For HubServer::addRoute("*", "/auth/", ...).
    HttpResponse handle(const RouteRequest &request) const;

private:
    AuthService &m_service;
};

} // namespace Heliograph::Server
