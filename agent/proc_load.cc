#include "agent/proc_load.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace servertrack::agent {
namespace {

// The whole file; /proc files report size 0, so it is read as a stream.
std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << file.rdbuf();
  return std::move(text).str();
}

// The line of `text` that starts with `prefix`, without the prefix.
std::optional<std::string_view> line_after(std::string_view text, std::string_view prefix) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.starts_with(prefix)) return line.substr(prefix.size());
    start = end + 1;
  }
  return std::nullopt;
}

// The next whitespace-separated unsigned number of `rest`, consumed.
std::optional<std::uint64_t> next_number(std::string_view& rest) {
  const std::size_t begin = rest.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(begin);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (error != std::errc() || (end != rest.data() + rest.size() && *end != ' ' && *end != '\t')) {
    return std::nullopt;
  }
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
  return value;
}

// "MemTotal:       16303472 kB" -> 16303472.
std::optional<std::uint64_t> meminfo_kib(std::string_view meminfo, std::string_view key) {
  std::optional<std::string_view> rest = line_after(meminfo, key);
  if (!rest) return std::nullopt;
  return next_number(*rest);
}

}  // namespace

std::optional<CpuTimes> parse_cpu_times(std::string_view proc_stat) {
  std::optional<std::string_view> rest = line_after(proc_stat, "cpu ");
  if (!rest) return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest guest_nice follow).
  constexpr int kCounted = 8;
  constexpr int kRequired = 4;
  std::uint64_t field[kCounted] = {};
  for (int i = 0; i < kCounted; ++i) {
    const std::optional<std::uint64_t> value = next_number(*rest);
    if (!value) {
      if (i < kRequired) return std::nullopt;
      break;
    }
    field[i] = *value;
  }
  CpuTimes times;
  for (const std::uint64_t ticks : field) times.total += ticks;
  times.busy = times.total - field[3] - field[4];
  return times;
}

std::optional<double> cpu_busy_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total) return std::nullopt;
  const double elapsed = static_cast<double>(after.total - before.total);
  // iowait may run backwards on some kernels, so busy can move more than total.
  const double busy = after.busy >= before.busy ? static_cast<double>(after.busy - before.busy) : 0;
  return std::min(100.0, 100.0 * busy / elapsed);
}

std::optional<double> parse_ram_used_percent(std::string_view meminfo) {
  const std::optional<std::uint64_t> total = meminfo_kib(meminfo, "MemTotal:");
  const std::optional<std::uint64_t> available = meminfo_kib(meminfo, "MemAvailable:");
  if (!total || !available || *total == 0) return std::nullopt;
  const double used = static_cast<double>(*total) - static_cast<double>(*available);
  return std::clamp(100.0 * used / static_cast<double>(*total), 0.0, 100.0);
}

CpuTimes read_cpu_times(const std::filesystem::path& proc_root) {
  const std::filesystem::path path = proc_root / "stat";
  const std::optional<CpuTimes> times = parse_cpu_times(read_file(path));
  if (!times) throw std::runtime_error(path.string() + " has no well-formed \"cpu\" line");
  return *times;
}

double read_ram_used_percent(const std::filesystem::path& proc_root) {
  const std::filesystem::path path = proc_root / "meminfo";
  const std::optional<double> used = parse_ram_used_percent(read_file(path));
  if (!used) {
    throw std::runtime_error(path.string() + " lacks MemTotal or MemAvailable (Linux 3.14+)");
  }
  return *used;
}

}  // namespace servertrack::agent
