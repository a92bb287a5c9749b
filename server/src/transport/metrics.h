// SPDX-License-Identifier: MIT
// Counters, gauges and histograms for /metrics (Prometheus text format 0.0.4). Thread-safe;
// label sets are created on first use and kept (their number is bounded by what the server
// serves: methods, transports, protocols, tenants).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMutex>

#include <array>
#include <atomic>
#include <memory>

namespace Heliograph::Server {

class Metrics {
public:
    using Labels = QList<std::pair<QByteArray, QByteArray>>;

    static Metrics &instance();

    void add(const QByteArray &name, const Labels &labels, double delta = 1);
    void set(const QByteArray &name, const Labels &labels, double value);
    /// Observes a duration in seconds into a histogram with fixed buckets (1 ms .. 10 s).
    void observe(const QByteArray &name, const Labels &labels, double seconds);
    double value(const QByteArray &name, const Labels &labels) const;

    /// Declares HELP and TYPE for a metric (counter, gauge, histogram).
    void describe(const QByteArray &name, const QByteArray &type, const QByteArray &help);
    QByteArray exposition() const;
    void reset(); ///< tests

private:
    struct Series {
        double value = 0;
        std::array<quint64, 12> buckets {};
        double sum = 0;
        quint64 count = 0;
    };
    struct Family {
        QByteArray type = "gauge";
        QByteArray help;
        QHash<QByteArray, Series> series; ///< by rendered label set
    };
    static QByteArray render(const Labels &labels);
    mutable QMutex m_mutex;
    QHash<QByteArray, Family> m_families;
};

} // namespace Heliograph::Server
