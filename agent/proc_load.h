// The host's load as servertrack-agent reports it, read from /proc:
// CPU busy % between two readings of /proc/stat, RAM used % from
// /proc/meminfo as (MemTotal - MemAvailable) / MemTotal.
//
// Called by the agent's main thread. The parse functions are pure and take
// the file's text; the read functions open, read and close one small file
// under `proc_root` (normally "/proc"; tests pass a fake one) and throw
// std::runtime_error naming the file when it is missing or malformed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace servertrack::agent {

// The aggregate "cpu" line of /proc/stat, in clock ticks since boot. Busy is
// everything but idle and iowait; guest time is already inside user and nice,
// so it is not added again.
struct CpuTimes {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};

// Nullopt when the text has no "cpu " line with at least 4 numeric fields
// (user nice system idle; iowait irq softirq steal are added when present).
std::optional<CpuTimes> parse_cpu_times(std::string_view proc_stat);

// 100 * busy ticks / all ticks between the two readings, in [0, 100];
// nullopt when no tick elapsed (or the counters went back: a new boot).
std::optional<double> cpu_busy_percent(const CpuTimes& before, const CpuTimes& after);

// Nullopt when MemTotal or MemAvailable (Linux 3.14+) is missing or
// MemTotal is 0; the result is clamped to [0, 100].
std::optional<double> parse_ram_used_percent(std::string_view meminfo);

CpuTimes read_cpu_times(const std::filesystem::path& proc_root);
double read_ram_used_percent(const std::filesystem::path& proc_root);

}  // namespace servertrack::agent
