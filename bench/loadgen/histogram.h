// SPDX-License-Identifier: MIT
// A log-linear latency histogram in the manner of HdrHistogram: values below 1024 get a bucket
// each, and every power-of-two range above is split into 512 equal buckets, so a recorded
// value is known to within 0.2 % over the whole 64-bit range. Recording is an index
// computation and an increment; one histogram per thread, merged at the end.
#pragma once

#include <cstdint>
#include <vector>

namespace Heliograph::Bench {

class Histogram {
public:
    Histogram();

    void record(uint64_t value) noexcept;
    void merge(const Histogram &other);
    void clear();

    uint64_t count() const noexcept { return m_count; }
    uint64_t min() const noexcept { return m_count ? m_min : 0; }
    uint64_t max() const noexcept { return m_max; }
    double mean() const noexcept;
    /// The value below which `percentile` % of the recorded values lie (0 < percentile <= 100),
    /// as the upper edge of its bucket (capped at max()): never below the true value.
    uint64_t percentile(double percentile) const noexcept;

    // Exposed for the self-test.
    static uint32_t bucketIndex(uint64_t value) noexcept;
    static uint64_t bucketUpperEdge(uint32_t index) noexcept; ///< largest value in the bucket

private:
    std::vector<uint64_t> m_buckets;
    uint64_t m_count = 0;
    uint64_t m_min = UINT64_MAX;
    uint64_t m_max = 0;
    long double m_sum = 0;
};

} // namespace Heliograph::Bench
