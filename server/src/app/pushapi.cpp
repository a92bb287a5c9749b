// SPDX-License-Identifier: MIT
#include "app/pushapi.h"

#include "notifications/notificationhub.h"
#include "signalr/identity.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcPush, "heliograph.server.push", QtInfoMsg)

namespace Heliograph::Server {

namespace {
constexpr qsizetype MaxTitle = 500;
constexpr qsizetype MaxBody = 16 * 1024;

HttpResponse json(int status, const Value &body)
{
    HttpResponse r(status);
    r.setBody(Json::serialize(body), "application/json");
    return r;
}

/// A string member of a JSON body: absent -> `fallback`; present but not a string -> error.
bool stringMember(const Value &body, QByteArrayView key, QString &out, QString &error,
                  qsizetype maxLength, bool required, const QString &fallback = {})
{
    const Value *v = body.find(key, Qt::CaseInsensitive);
    if (!v || v->isNull()) {
        if (required) {
            error = u"'%1' is required."_s.arg(QString::fromLatin1(key));
            return false;
        }
        out = fallback;
        return true;
    }
    if (!v->isString()) {
        error = u"'%1' must be a string."_s.arg(QString::fromLatin1(key));
        return false;
    }
    out = v->toString();
    if (required && out.trimmed().isEmpty()) {
        error = u"'%1' must not be empty."_s.arg(QString::fromLatin1(key));
        return false;
    }
    if (out.size() > maxLength) {
        error
            = u"'%1' is longer than %2 characters."_s.arg(QString::fromLatin1(key)).arg(maxLength);
        return false;
    }
    return true;
}
} // namespace

PushApi::PushApi(JwtValidator validator, NotificationService &service, Presence &presence)
    : m_validator(std::move(validator))
    , m_service(service)
    , m_presence(presence)
{ }

HttpResponse PushApi::problem(int status, const QString &detail)
{
    ValueMap m;
    m.append({Value("type"), Value("about:blank")});
    m.append({Value("title"), Value::fromUtf8(HttpResponse::reasonPhrase(status).toByteArray())});
    m.append({Value("status"), Value(status)});
    m.append({Value("detail"), Value(detail)});
    HttpResponse r(status);
    r.setBody(Json::serialize(Value(std::move(m))), "application/problem+json");
    if (status == 401)
        r.setHeader("WWW-Authenticate", "Bearer");
    return r;
}

HttpResponse PushApi::handle(const RouteRequest &request) const
{
    // /api/tenants/{tenant}/users/{user}/notifications | /alerts | /presence
    const QList<QByteArray> parts = request.http.path.split('/');
    if (parts.size() < 5 || !parts[0].isEmpty() || parts[1] != "api" || parts[2] != "tenants"
        || parts[3].isEmpty())
        return problem(404, u"No such resource."_s);
    QByteArray tenant = QueryString::decode(parts[3], false);
    enum { Notifications, Alerts, PresenceList } kind;
    QByteArray user;
    if (parts.size() == 7 && parts[4] == "users" && !parts[5].isEmpty()
        && parts[6] == "notifications") {
        kind = Notifications;
        user = QueryString::decode(parts[5], false);
    } else if (parts.size() == 5 && parts[4] == "alerts") {
        kind = Alerts;
    } else if (parts.size() == 5 && parts[4] == "presence") {
        kind = PresenceList;
    } else {
        return problem(404, u"No such resource."_s);
    }
    const QByteArrayView wantedMethod = kind == PresenceList ? "GET" : "POST";
    if (request.http.method != wantedMethod) {
        HttpResponse r = problem(405, u"Use %1."_s.arg(QString::fromLatin1(wantedMethod)));
        r.setHeader("Allow", wantedMethod);
        return r;
    }

    // Ids as everywhere else (signalr/identity.h): a notification for "Carol" is carol's, and
    // an id nobody can sign in with is refused rather than stored for no one.
    QString invalid;
    if (!Identity::normalizeTenantId(tenant, &invalid)
        || (kind == Notifications && !Identity::normalizeUserId(user, &invalid)))
        return problem(400, invalid);
    if (request.bearerToken.isEmpty())
        return problem(401, u"A bearer token is required."_s);
    auto claims = m_validator.validate(request.bearerToken);
    if (!claims) {
        qCInfo(lcPush) << "push API: token rejected from" << request.remoteAddress
                       << claims.error().message;
        return problem(401, u"The bearer token is not valid."_s);
    }
    const bool service = claims->hasRole("Service");
    QByteArray callerTenant = claims->tenantId;
    const bool admin = claims->hasRole("Admin") && Identity::normalizeTenantId(callerTenant)
        && callerTenant == tenant;
    if (!service && !admin) {
        qCInfo(lcPush) << "push API: user" << claims->subject << "of tenant" << claims->tenantId
                       << "may not act on tenant" << tenant;
        return problem(403, u"Role Admin of this tenant, or role Service, is required."_s);
    }

    if (kind == PresenceList)
        return json(200, toValue(m_presence.online(tenant)));

    const QByteArrayView contentType = request.http.header("content-type");
    if (!contentType.isEmpty() && !contentType.startsWith("application/json")
        && !QByteArrayView(contentType).contains("+json"))
        return problem(415, u"The body must be application/json."_s);
    auto body = Json::parse(request.http.body, 16);
    if (!body)
        return problem(400, u"The body is not valid JSON: %1"_s.arg(body.error().message));
    if (!body->isMap())
        return problem(400, u"The body must be a JSON object."_s);

    if (m_unavailable) {
        if (const QString why = m_unavailable(); !why.isEmpty()) {
            HttpResponse r = problem(503, why + u"; nothing was accepted."_s);
            r.setHeader("Retry-After", "1");
            return r;
        }
    }
    QString error;
    if (kind == Notifications) {
        QString title, text, type;
        if (!stringMember(*body, "title", title, error, MaxTitle, true)
            || !stringMember(*body, "body", text, error, MaxBody, false)
            || !stringMember(*body, "type", type, error, 64, false, u"info"_s))
            return problem(400, error);
        auto stored = m_service.push(tenant, user, title, text, type);
        if (!stored) {
            qCWarning(lcPush) << "push API: storage failed:" << stored.error().message;
            return problem(503, u"The notification could not be stored; nothing was accepted."_s);
        }
        ValueMap m;
        m.append({Value("id"), Value::fromUtf8(stored->id)});
        m.append({Value("sequence"), Value(stored->sequence)});
        return json(202, Value(std::move(m)));
    }

    QString level, message;
    if (!stringMember(*body, "message", message, error, MaxBody, true)
        || !stringMember(*body, "level", level, error, 32, false, u"info"_s))
        return problem(400, error);
    auto audit = m_service.audit(tenant, claims->subject, "BroadcastSystemAlert", message);
    if (!audit)
        return problem(503, u"The alert could not be recorded; nothing was sent."_s);
    m_service.broadcast(Groups::tenant(tenant), "ReceiveSystemAlert",
                        {toValue(SystemAlertDto {level, message})});
    ValueMap m;
    m.append({Value("id"), Value(audit->id)});
    return json(202, Value(std::move(m)));
}

} // namespace Heliograph::Server
