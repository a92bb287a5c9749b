// SPDX-License-Identifier: MIT
// The settings of `heliograph-server serve`, in one table: each row is a name (the flag
// `--name`, the config file key `name`, the environment variable HELIOGRAPH_NAME), what its
// value looks like, its default, its help text and how it applies to ServeOptions. The flag
// parser, the config-file reader, the environment, `serve --help` and the tables in
// docs/configuration.md (tst_settings checks that they match) all come from it.
#pragma once

#include <QtCore/QString>

#include <span>

namespace Heliograph::Server {

struct ServeOptions;

struct Setting {
    /// Where the setting is documented (docs/configuration.md has a section per group).
    enum class Group : quint8 { Server, Tokens, SignIn, Cluster };

    // UTF-8; help and defaultValue are Markdown (backticks), as docs/configuration.md shows them.
    const char *name = "";
    /// What the value looks like in --help ("HOST:PORT", "SECONDS"); empty for a switch.
    const char *valueName = "";
    const char *defaultValue = ""; ///< as documented; the code's default is ServeOptions'
    const char *help = "";
    Group group = Group::Server;
    /// A switch: `--name` alone means true (`--name=false` still works).
    bool isSwitch = false;
    /// Parses `value` into `options`; false with `error` set if it is not valid (the error
    /// names the setting: `self`, the row itself).
    bool (*apply)(const Setting &self, const QString &value, ServeOptions &options, QString &error)
        = nullptr;

    /// HELIOGRAPH_ + the name in upper case with '-' as '_'.
    QString environmentVariable() const;
};

/// Every setting of `serve`, in the order of --help and the docs.
std::span<const Setting> serveSettings();
/// The row named `name`, or null.
const Setting *findSetting(QStringView name);
/// The settings part of `serve --help`: one block per setting, wrapped for a terminal.
QString settingsHelp();
/// The table of one group for docs/configuration.md (setting | default | meaning).
QString settingsMarkdown(Setting::Group group);

} // namespace Heliograph::Server
