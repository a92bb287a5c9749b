// SPDX-License-Identifier: MIT
// What /proc tells about a process: CPU time (utime + stime) and resident set size.
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace Heliograph::Bench {

struct ProcSample {
    double cpuSeconds = 0; ///< utime + stime, all threads
    uint64_t rssKb = 0; ///< VmRSS
};

/// Reads /proc/PID/stat and /proc/PID/status; std::nullopt if the process is gone.
std::optional<ProcSample> sampleProcess(pid_t pid);

/// CPU seconds this process has used (all threads) from getrusage.
double ownCpuSeconds();

/// Nanoseconds of CLOCK_MONOTONIC (steady_clock), the clock written into payloads.
int64_t nowNs() noexcept;
/// Nanoseconds of CLOCK_REALTIME (the clock of kernel receive timestamps).
int64_t realtimeNs() noexcept;

} // namespace Heliograph::Bench
