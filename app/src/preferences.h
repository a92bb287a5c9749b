// SPDX-License-Identifier: MIT
// What the window remembers between runs (QSettings): its geometry, the last view and the
// colour theme.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QRect>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Desktop {

class Preferences : public QObject {
    Q_OBJECT
    QML_ELEMENT
    /// The window's geometry (invalid the first time: the window picks a default).
    Q_PROPERTY(QRect windowGeometry READ windowGeometry WRITE setWindowGeometry NOTIFY
                   windowGeometryChanged)
    Q_PROPERTY(bool windowMaximized READ windowMaximized WRITE setWindowMaximized NOTIFY
                   windowMaximizedChanged)
    /// "notifications", "presence", "documents" or "admin".
    Q_PROPERTY(QString lastView READ lastView WRITE setLastView NOTIFY lastViewChanged)
    /// The colour theme: "system" (the default: follows the system), "light" or "dark".
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY themeChanged)
public:
    explicit Preferences(QObject *parent = nullptr);

    QRect windowGeometry() const { return m_geometry; }
    void setWindowGeometry(const QRect &geometry);
    bool windowMaximized() const { return m_maximized; }
    void setWindowMaximized(bool maximized);
    QString lastView() const { return m_lastView; }
    void setLastView(const QString &view);
    QString theme() const { return m_theme; }
    /// Anything but "light" and "dark" is "system".
    void setTheme(const QString &theme);

Q_SIGNALS:
    void windowGeometryChanged();
    void windowMaximizedChanged();
    void lastViewChanged();
    void themeChanged();

private:
    QRect m_geometry;
    bool m_maximized = false;
    QString m_lastView;
    QString m_theme;
};

} // namespace Heliograph::Desktop
