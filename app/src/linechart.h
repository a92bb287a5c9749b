// SPDX-License-Identifier: MIT
// A line chart of MetricsHistory series over the last `windowSeconds`, drawn with QPainter so
// it looks the same on every scene graph backend (the screenshot test runs the software one).
//
//   LineChart {
//       history: admin.history; tenant: admin.selectedTenant
//       metrics: ["messagesIn", "messagesOut"]; colors: [Theme.accent, Theme.ok]
//   }
#pragma once

#include "adminmodels.h"

#include <QtCore/QPointer>
#include <QtGui/QColor>
#include <QtQuick/QQuickPaintedItem>

namespace Heliograph::Desktop {

class LineChart : public QQuickPaintedItem {
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Heliograph::Desktop::MetricsHistory *history READ history WRITE setHistory NOTIFY
                   historyChanged)
    /// The tenant whose series are drawn; empty: every tenant summed.
    Q_PROPERTY(QString tenant READ tenant WRITE setTenant NOTIFY tenantChanged)
    /// Metric names: connections, onlineUsers, messagesIn, messagesOut, activeDocuments.
    Q_PROPERTY(QStringList metrics READ metrics WRITE setMetrics NOTIFY metricsChanged)
    /// One colour per metric.
    Q_PROPERTY(QList<QColor> colors READ colors WRITE setColors NOTIFY colorsChanged)
    Q_PROPERTY(QColor gridColor MEMBER m_gridColor NOTIFY styleChanged)
    Q_PROPERTY(QColor textColor MEMBER m_textColor NOTIFY styleChanged)
    /// The span of the x axis, ending at the newest snapshot. Default 900 (15 minutes).
    Q_PROPERTY(int windowSeconds MEMBER m_windowSeconds NOTIFY styleChanged)
    /// The top of the y axis: a round number at least the largest value shown (at least 1).
    Q_PROPERTY(double maximum READ maximum NOTIFY pointsChanged)
    /// The newest value of each metric.
    Q_PROPERTY(QList<double> latest READ latest NOTIFY pointsChanged)
public:
    explicit LineChart(QQuickItem *parent = nullptr);

    MetricsHistory *history() const { return m_history; }
    void setHistory(MetricsHistory *history);
    QString tenant() const { return m_tenant; }
    void setTenant(const QString &tenant);
    QStringList metrics() const { return m_metrics; }
    void setMetrics(const QStringList &metrics);
    QList<QColor> colors() const { return m_colors; }
    void setColors(const QList<QColor> &colors);
    double maximum() const { return m_maximum; }
    QList<double> latest() const;

    void paint(QPainter *painter) override;

Q_SIGNALS:
    void historyChanged();
    void tenantChanged();
    void metricsChanged();
    void colorsChanged();
    void styleChanged();
    void pointsChanged();

private:
    void reload();

    QPointer<MetricsHistory> m_history;
    QString m_tenant;
    QStringList m_metrics;
    QList<QColor> m_colors;
    QColor m_gridColor {0, 0, 0, 40};
    QColor m_textColor {0, 0, 0, 160};
    int m_windowSeconds = 900;
    QList<QList<QPointF>> m_series;
    double m_maximum = 1;
};

} // namespace Heliograph::Desktop
