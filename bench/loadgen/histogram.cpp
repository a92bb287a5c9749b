// SPDX-License-Identifier: MIT
#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace Heliograph::Bench {

namespace {
constexpr unsigned LinearBits = 10; // values below 2^10 are exact
constexpr uint32_t HalfRange = 1u << (LinearBits - 1); // buckets per power of two above
// Index of the largest value: shift = 63 - (LinearBits - 1), sub-bucket up to 2 * HalfRange - 1.
constexpr uint32_t BucketCount = (63 - (LinearBits - 1)) * HalfRange + 2 * HalfRange;
} // namespace

Histogram::Histogram()
    : m_buckets(BucketCount, 0)
{ }

uint32_t Histogram::bucketIndex(uint64_t value) noexcept
{
    if (value < (uint64_t(1) << LinearBits))
        return uint32_t(value);
    // Shift so that the top LinearBits bits remain: the result lies in [HalfRange, 2*HalfRange).
    const unsigned msb = unsigned(std::bit_width(value)) - 1; // >= LinearBits
    const unsigned shift = msb - (LinearBits - 1);
    return shift * HalfRange + uint32_t(value >> shift);
}

uint64_t Histogram::bucketUpperEdge(uint32_t index) noexcept
{
    if (index < (1u << LinearBits))
        return index;
    const unsigned shift = index / HalfRange - 1;
    const uint64_t sub = index % HalfRange + HalfRange;
    const uint64_t low = sub << shift;
    return low + ((uint64_t(1) << shift) - 1);
}

void Histogram::record(uint64_t value) noexcept
{
    ++m_buckets[bucketIndex(value)];
    ++m_count;
    m_min = std::min(m_min, value);
    m_max = std::max(m_max, value);
    m_sum += value;
}

void Histogram::merge(const Histogram &other)
{
    for (size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
    m_sum += other.m_sum;
}

void Histogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
    m_min = UINT64_MAX;
    m_max = 0;
    m_sum = 0;
}

double Histogram::mean() const noexcept
{
    return m_count ? double(m_sum / m_count) : 0.0;
}

uint64_t Histogram::percentile(double percentile) const noexcept
{
    if (m_count == 0)
        return 0;
    const double wanted = std::ceil(std::clamp(percentile, 0.0, 100.0) / 100.0 * double(m_count));
    const uint64_t rank = std::max<uint64_t>(1, uint64_t(wanted));
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m_buckets.size(); ++i) {
        seen += m_buckets[i];
        if (seen >= rank)
            return std::min(bucketUpperEdge(i), m_max);
    }
    return m_max;
}

} // namespace Heliograph::Bench
