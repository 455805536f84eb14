// Text helpers for shmtool's human output: units, UTC times, aligned tables
// (JSON strings come from common/json_string.h). Pure functions (TextTable holds
// its rows); any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace servertrack::cli {

// "38.0 KiB", "270.1 MiB": binary units, one decimal; below 1 KiB "512 B".
std::string human_bytes(std::uint64_t bytes);

// "2026-11-28 23:28:00 UTC".
std::string utc_time(std::int64_t unix_seconds);

// "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 3 s" for the future.
std::string human_age(std::int64_t unix_seconds, std::int64_t now);

// "90s", "15m", "2h", "1d" -> seconds. Throws ToolError (usage) otherwise,
// also for a bare number, whose unit would be a guess.
std::int64_t parse_duration(const std::string& text);

// Columns padded to their widest cell; `right_aligned[i]` for numbers.
// All-empty headings print no heading line.
class TextTable {
 public:
  TextTable(std::vector<std::string> headings, std::vector<bool> right_aligned);
  void add_row(std::vector<std::string> cells);
  std::string render(std::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_aligned_;
};

}  // namespace servertrack::cli
