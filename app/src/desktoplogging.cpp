// SPDX-License-Identifier: MIT
#include "desktoplogging.h"

#include <QtCore/QDir>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace Heliograph::Desktop {
namespace {

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray text = message.toUtf8();
    const char *category = context.category ? context.category : "default";
    spdlog::level::level_enum level = spdlog::level::info;
    switch (type) {
    case QtDebugMsg:
        level = spdlog::level::debug;
        break;
    case QtInfoMsg:
        level = spdlog::level::info;
        break;
    case QtWarningMsg:
        level = spdlog::level::warn;
        break;
    case QtCriticalMsg:
        level = spdlog::level::err;
        break;
    case QtFatalMsg:
        level = spdlog::level::critical;
        break;
    }
    spdlog::log(level, "[{}] {}", category, text.constData());
    if (type == QtFatalMsg) {
        spdlog::shutdown();
        std::abort();
    }
}

} // namespace

QString readableName(const char *enumKey)
{
    const QString key = QString::fromLatin1(enumKey);
    QString out;
    out.reserve(key.size() + 4);
    for (qsizetype i = 0; i < key.size(); ++i) {
        const QChar c = key.at(i);
        if (c.isUpper() && i > 0)
            out += u' ';
        out += c.toLower();
    }
    return out;
}

QString installDesktopLogging(const QString &logDirectory)
{
    std::vector<spdlog::sink_ptr> sinks;
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    QString path;
    if (QDir().mkpath(logDirectory)) {
        path = QDir(logDirectory).filePath(QStringLiteral("heliograph-desktop.log"));
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                path.toStdString(), 1024 * 1024, 3));
        } catch (const spdlog::spdlog_ex &) {
            path.clear();
        }
    }
    auto logger = std::make_shared<spdlog::logger>("desktop", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(2));
    qInstallMessageHandler(handler);
    return path;
}

} // namespace Heliograph::Desktop
