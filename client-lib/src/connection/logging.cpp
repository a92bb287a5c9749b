// SPDX-License-Identifier: MIT
#include "logging_p.h"

#include <QtCore/QRegularExpression>
#include <QtCore/QUrlQuery>

using namespace Qt::StringLiterals;

namespace Heliograph::Detail {

Q_LOGGING_CATEGORY(lcHubConnection, "heliograph.client.connection", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHubTransport, "heliograph.client.transport", QtInfoMsg)

QString redacted(const QUrl &url)
{
    QUrl out = url;
    if (!out.userInfo().isEmpty())
        out.setUserInfo(u"redacted"_s);
    QUrlQuery query(out);
    bool changed = false;
    QList<std::pair<QString, QString>> items = query.queryItems(QUrl::FullyEncoded);
    for (auto &[name, value] : items) {
        if (name.compare(u"access_token"_s, Qt::CaseInsensitive) == 0) {
            value = u"redacted"_s;
            changed = true;
        }
    }
    if (changed) {
        query.setQueryItems(items);
        out.setQuery(query);
    }
    return out.toString(QUrl::FullyEncoded);
}

QString redacted(QString text)
{
    static const QRegularExpression token(u"(access_token=)[^&#\\s]*"_s,
                                          QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression bearer(u"(Bearer\\s+)[^\\s,;]+"_s,
                                           QRegularExpression::CaseInsensitiveOption);
    text.replace(token, u"\\1redacted"_s);
    text.replace(bearer, u"\\1redacted"_s);
    return text;
}

} // namespace Heliograph::Detail
