#include "cli/format.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "cli/command.h"
#include "shm/layout.h"

namespace servertrack::cli {

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string utc_time(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return fmt::format("@{}", unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string human_age(std::int64_t unix_seconds, std::int64_t now) {
  const std::int64_t delta = now - unix_seconds;
  const std::int64_t magnitude = delta < 0 ? -delta : delta;
  std::string amount;
  if (magnitude < 120) {
    amount = fmt::format("{} s", magnitude);
  } else if (magnitude < 2 * shm::kSecondsPerHour) {
    amount = fmt::format("{} min", magnitude / shm::kSecondsPerMinute);
  } else if (magnitude < 2 * shm::kSecondsPerDay) {
    amount = fmt::format("{} h", magnitude / shm::kSecondsPerHour);
  } else {
    amount = fmt::format("{} d", magnitude / shm::kSecondsPerDay);
  }
  return delta < 0 ? "in " + amount : amount + " ago";
}

std::int64_t parse_duration(const std::string& text) {
  std::size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = used == 0 ? "" : text.substr(used);
  if (used > 0 && unit.empty()) {
    throw ToolError("'" + text + "' has no unit: write " + text + "s, " + text + "m, " + text + "h or " + text + "d",
                    kExitUsage);
  }
  const std::int64_t scale = unit == "s" ? 1
                             : unit == "m"               ? shm::kSecondsPerMinute
                             : unit == "h"               ? shm::kSecondsPerHour
                             : unit == "d"               ? shm::kSecondsPerDay
                                                         : 0;
  if (used == 0 || value < 0 || scale == 0 || value > (std::int64_t{1} << 40)) {
    throw ToolError("'" + text + "' is not a duration such as 90s, 15m, 2h or 1d", kExitUsage);
  }
  return value * scale;
}

TextTable::TextTable(std::vector<std::string> headings, std::vector<bool> right_aligned)
    : rows_{std::move(headings)}, right_aligned_(std::move(right_aligned)) {
  right_aligned_.resize(rows_.front().size(), false);
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::render(std::string_view indent) const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  const auto& headings = rows_.front();
  const bool headless = std::all_of(headings.begin(), headings.end(), [](const auto& h) { return h.empty(); });
  for (const auto& row : rows_) {
    if (headless && &row == &headings) continue;
    std::string line(indent);
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      if (right_aligned_[i]) {
        line += fmt::format("{:>{}}", row[i], widths[i]);
      } else {
        line += last ? row[i] : fmt::format("{:<{}}", row[i], widths[i]);
      }
      if (!last) line += "  ";
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace servertrack::cli
