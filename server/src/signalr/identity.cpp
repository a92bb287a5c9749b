// SPDX-License-Identifier: MIT
#include "signalr/identity.h"

using namespace Qt::StringLiterals;

namespace Heliograph::Server::Identity {

namespace {
bool normalize(QByteArray &id, qsizetype maxSize, QByteArrayView extra, const QString &what,
               QString *why)
{
    if (id.isEmpty() || id.size() > maxSize) {
        if (why)
            *why = u"A %1 id must have 1 to %2 characters."_s.arg(what).arg(maxSize);
        return false;
    }
    for (const char c : std::as_const(id)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || extra.contains(c);
        if (!ok) {
            if (why)
                *why = u"A %1 id may only contain letters, digits and %2."_s.arg(
                    what, QString::fromLatin1(extra));
            return false;
        }
    }
    id = std::move(id).toLower();
    return true;
}
} // namespace

bool normalizeTenantId(QByteArray &tenant, QString *why)
{
    return normalize(tenant, MaxTenantIdSize, "._-", u"tenant"_s, why);
}

bool normalizeUserId(QByteArray &user, QString *why)
{
    return normalize(user, MaxUserIdSize, "._@|:+-", u"user"_s, why);
}

} // namespace Heliograph::Server::Identity
