// SPDX-License-Identifier: MIT
// A real redis-server for the cluster suites: on a free loopback port, in a temporary folder,
// stopped (and its data kept or not) by the test. Missing redis-server fails the test; it is
// an installed dependency (./dev deps), never a reason to skip.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <memory>

namespace Heliograph::Testing {

class RedisServer {
public:
    RedisServer() = default;
    ~RedisServer() { stop(); }
    Q_DISABLE_COPY_MOVE(RedisServer)

    /// Starts it (on `port`, 0: a free one) and waits until it accepts connections.
    bool start(quint16 port = 0, bool appendOnly = false)
    {
        const QString binary = QStandardPaths::findExecutable(QStringLiteral("redis-server"));
        if (binary.isEmpty()) {
            qWarning("redis-server is not installed (./dev deps installs it)");
            return false;
        }
        if (port == 0)
            port = freePort();
        m_port = port;
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setWorkingDirectory(m_dir.path());
        m_process->start(binary,
                         {QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
                          QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                          QStringLiteral("--appendonly"),
                          appendOnly ? QStringLiteral("yes") : QStringLiteral("no"),
                          QStringLiteral("--dir"), m_dir.path()});
        QByteArray out;
        const bool ready = QTest::qWaitFor(
            [&] {
                out += m_process->readAll();
                return out.contains("Ready to accept connections")
                    || m_process->state() == QProcess::NotRunning;
            },
            10'000);
        if (!ready || !out.contains("Ready to accept connections")) {
            qWarning("redis-server did not start: %s", out.constData());
            return false;
        }
        return true;
    }
    /// Stops it (SIGTERM: with appendonly on, what it acknowledged is on disk).
    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(10'000))
            m_process->kill();
        m_process->waitForFinished(5'000);
        m_process.reset();
    }
    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("redis://127.0.0.1:%1").arg(m_port); }

    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
};

} // namespace Heliograph::Testing
