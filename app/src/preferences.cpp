// SPDX-License-Identifier: MIT
#include "preferences.h"

#include <QtCore/QSettings>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Preferences::Preferences(QObject *parent)
    : QObject(parent)
{
    QSettings settings;
    m_geometry = settings.value(u"window/geometry"_s).toRect();
    m_maximized = settings.value(u"window/maximized"_s, false).toBool();
    m_lastView = settings.value(u"window/lastView"_s, u"notifications"_s).toString();
    const QString theme = settings.value(u"window/theme"_s).toString();
    m_theme = theme == u"light"_s || theme == u"dark"_s ? theme : u"system"_s;
}

void Preferences::setWindowGeometry(const QRect &geometry)
{
    if (geometry == m_geometry || !geometry.isValid())
        return;
    m_geometry = geometry;
    QSettings().setValue(u"window/geometry"_s, geometry);
    Q_EMIT windowGeometryChanged();
}

void Preferences::setWindowMaximized(bool maximized)
{
    if (maximized == m_maximized)
        return;
    m_maximized = maximized;
    QSettings().setValue(u"window/maximized"_s, maximized);
    Q_EMIT windowMaximizedChanged();
}

void Preferences::setLastView(const QString &view)
{
    if (view == m_lastView)
        return;
    m_lastView = view;
    QSettings().setValue(u"window/lastView"_s, view);
    Q_EMIT lastViewChanged();
}

void Preferences::setTheme(const QString &theme)
{
    const QString value = theme == u"light"_s || theme == u"dark"_s ? theme : u"system"_s;
    if (value == m_theme)
        return;
    m_theme = value;
    QSettings().setValue(u"window/theme"_s, value);
    Q_EMIT themeChanged();
}

} // namespace Heliograph::Desktop
