// SPDX-License-Identifier: MIT
// The refresh token in the OS keychain (QtKeychain: Secret Service / KWallet on Linux, the
// Keychain on macOS, the Credential Store on Windows), never in a file: the insecure plain
// text fallback stays off. Every operation is an asynchronous QtKeychain job.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>

namespace Heliograph::Desktop {

class RefreshTokenStore : public QObject {
    Q_OBJECT
public:
    enum class Status {
        Ok,
        NotFound, ///< nothing stored under that key
        Unavailable, ///< no keychain backend, or access denied
    };
    using ReadCallback
        = std::function<void(Status status, const QString &token, const QString &why)>;
    using WriteCallback = std::function<void(Status status, const QString &why)>;

    explicit RefreshTokenStore(QObject *parent = nullptr);

    /// The key of one profile: the server URL and the username.
    static QString keyFor(const QString &serverUrl, const QString &username);

    void read(const QString &key, ReadCallback done);
    void write(const QString &key, const QString &token, WriteCallback done);
    void remove(const QString &key);

private:
    QString m_service;
};

} // namespace Heliograph::Desktop
