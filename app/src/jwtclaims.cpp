// SPDX-License-Identifier: MIT
#include "jwtclaims.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace Heliograph::Desktop {

std::optional<JwtClaims> decodeJwtClaims(const QString &token)
{
    const QStringList parts = token.split(u'.');
    if (parts.size() != 3)
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(
        parts.at(1).toLatin1(),
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
            | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(*decoded);
    if (!doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    JwtClaims claims;
    claims.subject = o.value(u"sub").toString();
    claims.tenant = o.value(u"tenant").toString(o.value(u"tenant_id").toString());
    claims.name = o.value(u"name").toString(claims.subject);
    for (const QLatin1StringView key : {QLatin1StringView("role"), QLatin1StringView("roles")}) {
        const QJsonValue v = o.value(key);
        if (v.isString())
            claims.roles.append(v.toString());
        const QJsonArray roles = v.toArray();
        for (const QJsonValueConstRef r : roles)
            claims.roles.append(r.toString());
    }
    claims.roles.removeDuplicates();
    if (o.value(u"exp").isDouble())
        claims.expiresAt
            = QDateTime::fromSecsSinceEpoch(qint64(o.value(u"exp").toDouble()), Qt::UTC);
    return claims;
}

} // namespace Heliograph::Desktop
