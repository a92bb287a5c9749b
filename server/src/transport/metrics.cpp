// SPDX-License-Identifier: MIT
#include "transport/metrics.h"

#include <algorithm>
#include <cmath>

namespace Heliograph::Server {

namespace {
constexpr double Bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

QByteArray number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    return QByteArray::number(v, 'g', 15);
}

QByteArray escapeLabel(QByteArrayView v)
{
    QByteArray out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}
} // namespace

Metrics &Metrics::instance()
{
    static Metrics m;
    return m;
}

QByteArray Metrics::render(const Labels &labels)
{
    if (labels.isEmpty())
        return {};
    QByteArray out = "{";
    for (qsizetype i = 0; i < labels.size(); ++i) {
        if (i)
            out += ',';
        out += labels[i].first + "=\"" + escapeLabel(labels[i].second) + '"';
    }
    return out + '}';
}

void Metrics::add(const QByteArray &name, const Labels &labels, double delta)
{
    QMutexLocker lock(&m_mutex);
    m_families[name].series[render(labels)].value += delta;
}

void Metrics::set(const QByteArray &name, const Labels &labels, double value)
{
    QMutexLocker lock(&m_mutex);
    m_families[name].series[render(labels)].value = value;
}

void Metrics::observe(const QByteArray &name, const Labels &labels, double seconds)
{
    QMutexLocker lock(&m_mutex);
    Family &f = m_families[name];
    f.type = "histogram";
    Series &s = f.series[render(labels)];
    for (size_t i = 0; i < std::size(Bounds); ++i)
        if (seconds <= Bounds[i])
            ++s.buckets[i];
    s.sum += seconds;
    ++s.count;
}

double Metrics::value(const QByteArray &name, const Labels &labels) const
{
    QMutexLocker lock(&m_mutex);
    return m_families.value(name).series.value(render(labels)).value;
}

void Metrics::describe(const QByteArray &name, const QByteArray &type, const QByteArray &help)
{
    QMutexLocker lock(&m_mutex);
    Family &f = m_families[name];
    f.type = type;
    f.help = help;
}

QByteArray Metrics::exposition() const
{
    QMutexLocker lock(&m_mutex);
    QByteArray out;
    QList<QByteArray> names = m_families.keys();
    std::sort(names.begin(), names.end());
    for (const QByteArray &name : names) {
        const Family &f = m_families[name];
        if (!f.help.isEmpty())
            out += "# HELP " + name + ' ' + f.help + '\n';
        out += "# TYPE " + name + ' ' + f.type + '\n';
        QList<QByteArray> keys = f.series.keys();
        std::sort(keys.begin(), keys.end());
        for (const QByteArray &labels : keys) {
            const Series &s = f.series[labels];
            if (f.type != "histogram") {
                out += name + labels + ' ' + number(s.value) + '\n';
                continue;
            }
            // Buckets are cumulative; labels gain "le".
            const QByteArray inner
                = labels.isEmpty() ? QByteArray() : labels.sliced(1, labels.size() - 2) + ',';
            for (size_t i = 0; i < std::size(Bounds); ++i)
                out += name + "_bucket{" + inner + "le=\"" + number(Bounds[i]) + "\"} "
                    + QByteArray::number(s.buckets[i]) + '\n';
            out += name + "_bucket{" + inner + "le=\"+Inf\"} " + QByteArray::number(s.count) + '\n';
            out += name + "_sum" + labels + ' ' + number(s.sum) + '\n';
            out += name + "_count" + labels + ' ' + QByteArray::number(s.count) + '\n';
        }
    }
    return out;
}

void Metrics::reset()
{
    QMutexLocker lock(&m_mutex);
    m_families.clear();
}

} // namespace Heliograph::Server
