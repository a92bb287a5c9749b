// SPDX-License-Identifier: MIT
// DesktopTestServer (import HeliographDesktopTest): what the desktop app's Qt Quick Test
// suites know about the in-process server: its URL, tokens, and the push API. A QML module of
// its own (tests/app/CMakeLists.txt), so that qmllint knows the singleton.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtNetwork/QTcpServer>
#include <QtQml/qqmlregistration.h>

class DesktopTestServer : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(QString url READ url CONSTANT)
    /// A loopback port that accepts connections and never answers (a server that hangs).
    Q_PROPERTY(QString silentUrl READ silentUrl CONSTANT)
public:
    /// The port of the server the runner started (before the first QML engine).
    static void setPort(quint16 port);

    QString url() const;
    QString silentUrl();
    /// The port of the real server.
    Q_INVOKABLE int port() const;
    Q_INVOKABLE QString token(const QString &user, const QString &tenant,
                              const QStringList &roles = {}) const;
    /// A token with a display name (the `name` claim), which the admin console shows.
    Q_INVOKABLE QString namedToken(const QString &user, const QString &tenant, const QString &name,
                                   const QStringList &roles = {}) const;
    /// Pushes a notification to (tenant, user); true once the server stored it.
    Q_INVOKABLE bool push(const QString &tenant, const QString &user, const QString &title,
                          const QString &type = QStringLiteral("info")) const;

private:
    QTcpServer m_silent;
};
