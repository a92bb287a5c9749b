// SPDX-License-Identifier: MIT
// Helpers for the desktop app's suites: the real heliograph-server in-process with sign-in on
// (the demo accounts, cheap password hashing), settings in a temporary folder, the push API.
#pragma once

#include "clienttestsupport.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSettings>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QSignalSpy>

namespace Heliograph::Testing {

/// The server with /auth/login on and the demo accounts seeded (alice/demo-alice-pass ...),
/// on `port` (0: a free one).
inline std::unique_ptr<Server::ServerApp>
startDesktopServer(std::chrono::seconds accessTokenLifetime = std::chrono::seconds(900),
                   quint16 port = 0)
{
    return startServer(port, [accessTokenLifetime](Server::ServeOptions &o) {
        o.auth.demo = true;
        o.auth.passwordHashing.memoryKiB = 64;
        o.auth.passwordHashing.iterations = 1;
        o.auth.accessTokenLifetime = accessTokenLifetime;
    });
}

/// QSettings (profiles, window) go to a temporary folder, away from the user's own.
inline void isolateSettings(const QTemporaryDir &dir)
{
    QCoreApplication::setOrganizationName(u"HeliographTests"_s);
    QCoreApplication::setApplicationName(u"heliograph-desktop-tests"_s);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir.path());
}

/// POSTs a notification for (tenant, user) with an Admin token of the tenant; true on 202.
inline bool pushNotification(quint16 port, const QByteArray &tenant, const QByteArray &user,
                             const QString &title, const QString &type = u"info"_s)
{
    static QNetworkAccessManager nam;
    QNetworkRequest request(
        QUrl(u"http://127.0.0.1:%1/api/tenants/%2/users/%3/notifications"_s.arg(port).arg(
            QString::fromUtf8(tenant), QString::fromUtf8(user))));
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    request.setRawHeader("Authorization", "Bearer " + token("pusher", tenant, {"Admin"}).toUtf8());
    const QJsonObject body {
        {u"title"_s, title}, {u"body"_s, QString(u"body of "_s + title)}, {u"type"_s, type}};
    QNetworkReply *reply = nam.post(request, QJsonDocument(body).toJson());
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!finished.wait(10'000))
        return false;
    reply->deleteLater();
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 202;
}

} // namespace Heliograph::Testing
