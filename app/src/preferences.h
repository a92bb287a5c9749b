// SPDX-License-Identifier: MIT
// What the window remembers between runs (QSettings): its geometry and the last view.
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
public:
    explicit Preferences(QObject *parent = nullptr);

    QRect windowGeometry() const { return m_geometry; }
    void setWindowGeometry(const QRect &geometry);
    bool windowMaximized() const { return m_maximized; }
    void setWindowMaximized(bool maximized);
    QString lastView() const { return m_lastView; }
    void setLastView(const QString &view);

Q_SIGNALS:
    void windowGeometryChanged();
    void windowMaximizedChanged();
    void lastViewChanged();

private:
    QRect m_geometry;
    bool m_maximized = false;
    QString m_lastView;
};

} // namespace Heliograph::Desktop
