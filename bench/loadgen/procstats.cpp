// SPDX-License-Identifier: MIT
#include "procstats.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/resource.h>
#include <unistd.h>

namespace Heliograph::Bench {

namespace {

bool readFile(const char *path, char *buf, size_t size)
{
    FILE *f = std::fopen(path, "re");
    if (!f)
        return false;
    const size_t n = std::fread(buf, 1, size - 1, f);
    std::fclose(f);
    buf[n] = 0;
    return n > 0;
}

} // namespace

std::optional<ProcSample> sampleProcess(pid_t pid)
{
    char path[64];
    char buf[4096];
    ProcSample s;

    std::snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
    if (!readFile(path, buf, sizeof buf))
        return std::nullopt;
    // The command name is in parentheses and may contain spaces: fields count from the last ')'.
    const char *p = std::strrchr(buf, ')');
    if (!p)
        return std::nullopt;
    ++p;
    // After ')' come field 3 (state) onwards; utime and stime are fields 14 and 15.
    unsigned long long utime = 0, stime = 0;
    int field = 2;
    while (*p && field < 15) {
        while (*p == ' ')
            ++p;
        ++field;
        if (field == 14)
            utime = std::strtoull(p, nullptr, 10);
        else if (field == 15)
            stime = std::strtoull(p, nullptr, 10);
        while (*p && *p != ' ')
            ++p;
    }
    if (field < 15)
        return std::nullopt;
    static const long ticks = sysconf(_SC_CLK_TCK);
    s.cpuSeconds = double(utime + stime) / double(ticks > 0 ? ticks : 100);

    std::snprintf(path, sizeof path, "/proc/%d/status", int(pid));
    if (!readFile(path, buf, sizeof buf))
        return std::nullopt;
    if (const char *rss = std::strstr(buf, "VmRSS:"))
        s.rssKb = std::strtoull(rss + 6, nullptr, 10);
    return s;
}

double ownCpuSeconds()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
        + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t nowNs() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t realtimeNs() noexcept
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace Heliograph::Bench
