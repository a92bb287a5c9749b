// SPDX-License-Identifier: MIT
// TestServer (import HeliographTest): what the Qt Quick Test suites of the Heliograph.Client
// QML module know about the in-process server: its URLs and tokens. A QML module of its own
// (tests/qml/CMakeLists.txt), so that qmllint knows the singleton.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtQml/qqmlregistration.h>

class TestServer : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(QString baseUrl READ baseUrl CONSTANT)
    Q_PROPERTY(QString benchUrl READ benchUrl CONSTANT)
    Q_PROPERTY(QString notificationsUrl READ notificationsUrl CONSTANT)
public:
    /// The port of the server the runner started (before the first QML engine).
    static void setPort(quint16 port);

    QString baseUrl() const;
    QString benchUrl() const;
    QString notificationsUrl() const;
    /// A token for the notification hub and the push API (role Service: any tenant).
    Q_INVOKABLE QString token(const QString &user, const QString &tenant,
                              const QStringList &roles = {}) const;
};
