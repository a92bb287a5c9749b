// SPDX-License-Identifier: MIT
#include "linechart.h"

#include "adminmodels.h"

#include <QtGui/QFontMetrics>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>

#include <cmath>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

namespace {

// 1, 2, 5, 10, 20, 50, ...: the smallest at least `v` (and at least 1).
double roundUp(double v)
{
    if (!(v > 1))
        return 1;
    const double decade = std::pow(10.0, std::floor(std::log10(v)));
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * decade >= v)
            return m * decade;
    }
    return 10 * decade;
}

QString axisLabel(double v)
{
    return v >= 10'000 ? u"%1k"_s.arg(v / 1000, 0, 'g', 3) : QString::number(v, 'g', 4);
}

} // namespace

LineChart::LineChart(QQuickItem *parent)
    : QQuickPaintedItem(parent)
{
    setAntialiasing(true);
    connect(this, &LineChart::styleChanged, this, [this] { update(); });
}

void LineChart::setHistory(MetricsHistory *history)
{
    if (history == m_history)
        return;
    if (m_history)
        m_history->disconnect(this);
    m_history = history;
    if (m_history)
        connect(m_history, &MetricsHistory::changed, this, &LineChart::reload);
    Q_EMIT historyChanged();
    reload();
}

void LineChart::setTenant(const QString &tenant)
{
    if (tenant == m_tenant)
        return;
    m_tenant = tenant;
    Q_EMIT tenantChanged();
    reload();
}

void LineChart::setMetrics(const QStringList &metrics)
{
    if (metrics == m_metrics)
        return;
    m_metrics = metrics;
    Q_EMIT metricsChanged();
    reload();
}

void LineChart::setColors(const QList<QColor> &colors)
{
    if (colors == m_colors)
        return;
    m_colors = colors;
    Q_EMIT colorsChanged();
    update();
}

QList<double> LineChart::latest() const
{
    QList<double> out;
    for (const QList<QPointF> &s : m_series)
        out.append(s.isEmpty() ? 0.0 : s.constLast().y());
    return out;
}

void LineChart::reload()
{
    m_series.clear();
    double top = 0;
    if (m_history) {
        for (const QString &name : std::as_const(m_metrics)) {
            const std::optional<MetricsHistory::Metric> metric
                = MetricsHistory::metricFromName(name);
            m_series.append(metric ? m_history->series(m_tenant, *metric) : QList<QPointF>());
            for (const QPointF &p : std::as_const(m_series.constLast()))
                top = std::max(top, p.y());
        }
    }
    m_maximum = roundUp(top);
    Q_EMIT pointsChanged();
    update();
}

void LineChart::paint(QPainter *painter)
{
    const QFontMetrics fm(painter->font());
    const double labelWidth = std::max(fm.horizontalAdvance(axisLabel(m_maximum)),
                                       fm.horizontalAdvance(axisLabel(m_maximum / 2)))
        + 6;
    const QRectF plot(labelWidth, fm.height() / 2.0, width() - labelWidth - 2,
                      height() - fm.height() * 2.0);
    if (plot.width() < 10 || plot.height() < 10)
        return;

    painter->setRenderHint(QPainter::Antialiasing, true);
    for (int i = 0; i <= 2; ++i) {
        const double y = plot.bottom() - plot.height() * i / 2.0;
        painter->setPen(QPen(m_gridColor, 1));
        painter->drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        painter->setPen(m_textColor);
        painter->drawText(QRectF(0, y - fm.height() / 2.0, labelWidth - 4, fm.height()),
                          Qt::AlignRight | Qt::AlignVCenter, axisLabel(m_maximum * i / 2.0));
    }
    const int minutes = std::max(1, m_windowSeconds / 60);
    painter->drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), fm.height()),
                      Qt::AlignLeft | Qt::AlignTop, tr("-%n min", "", minutes));
    painter->drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), fm.height()),
                      Qt::AlignRight | Qt::AlignTop, tr("now"));

    if (!m_history || m_history->count() == 0)
        return;
    const double end = double(m_history->last().toMSecsSinceEpoch());
    const double span = m_windowSeconds * 1000.0;
    const double start = end - span;
    for (qsizetype s = 0; s < m_series.size(); ++s) {
        QPainterPath path;
        bool begun = false;
        for (const QPointF &p : std::as_const(m_series.at(s))) {
            if (p.x() < start)
                continue;
            const QPointF at(plot.left() + (p.x() - start) / span * plot.width(),
                             plot.bottom() - p.y() / m_maximum * plot.height());
            if (begun) {
                path.lineTo(at);
            } else {
                path.moveTo(at);
                begun = true;
            }
        }
        const QColor colour = m_colors.value(s, m_textColor);
        painter->setPen(QPen(colour, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter->drawPath(path);
    }
}

} // namespace Heliograph::Desktop
