// SPDX-License-Identifier: MIT
// The push API: POST notifications and alerts into a tenant, GET its presence. Bearer JWT with
// role Admin of that tenant, or role Service for any tenant. Errors are RFC 9457 problem
// details; a 2xx means the notification is durably stored.
#pragma once

#include "auth/jwt.h"
#include "transport/hubserver.h"

#include <functional>

namespace Heliograph::Server {

class NotificationService;
class Presence;

class PushApi {
public:
    PushApi(JwtValidator validator, NotificationService &service, Presence &presence);
    /// For HubServer::addRoute("*", "/api/tenants/", ...).
    HttpResponse handle(const RouteRequest &request) const;

    static HttpResponse problem(int status, const QString &detail);

    /// Sends wait for this to say "" (e.g. the backplane's Redis is up); otherwise they get 503
    /// with Retry-After and the reason, before anything is stored.
    void setAvailabilityCheck(std::function<QString()> check) { m_unavailable = std::move(check); }

private:
    std::function<QString()> m_unavailable;
    JwtValidator m_validator;
    NotificationService &m_service;
    Presence &m_presence;
};

} // namespace Heliograph::Server
