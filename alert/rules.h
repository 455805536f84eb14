// The alert rules file (README, "Alerts"; docs/design.md, "Alerts"): what a
// rule is and the parser that reads one file into rules, or says which line
// is wrong and why.
//
// Called by servertrack-alert at start (and by --check-rules, the
// supervisor's check before anything starts); pure, any thread. O(file size).
//
// The format is INI-like, one section per rule:
//
//   # comment
//   [web-cpu-high]                         the rule's name
//   severity = critical                    required: a word, sent as a label
//   prefix = web-                          optional: only servers named so
//   when = cpu above 90 for 5 minutes      required: the condition
//
// Conditions: `cpu|ram above|below X for N minutes` (each of N consecutive
// complete minutes, N 1..59), `cpu|ram above|below X over N hours` (the
// mean of the last N complete hours, N 1..23), `silent for N minutes` (no
// sample for N minutes, N 1..1440). The rings hold 60 minutes and 24 hours,
// the newest of each still filling: 59 and 23 are the complete ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace servertrack::alert {

enum class Metric { cpu, ram };
enum class Kind { minutes, hours, silent };

struct Rule {
  std::string name;
  std::string severity;
  std::string prefix;  // "" = every server
  Kind kind = Kind::minutes;
  Metric metric = Metric::cpu;  // minutes and hours
  bool above = true;            // minutes and hours: above (>) or below (<) the threshold
  double threshold = 0;
  int count = 1;  // N: minutes (1..60), hours (1..24) or silent minutes (1..1440)
  int line = 0;   // the line of its [name], for messages
};

inline constexpr int kMaxRules = 1000;
inline constexpr int kMaxMinutes = 59;
inline constexpr int kMaxHours = 23;
inline constexpr int kMaxSilentMinutes = 1440;
inline constexpr std::size_t kMaxRuleName = 64;

// The rules of `text` (a file's content; `file` names it in messages), or
// "FILE:LINE: problem" for the first line that is wrong. A file with no
// rule is an error too: an alert process with nothing to watch is a mistake.
std::variant<std::vector<Rule>, std::string> parse_rules(std::string_view text, std::string_view file);

// The same for a file on disk: also "FILE: cannot read: reason".
std::variant<std::vector<Rule>, std::string> read_rules_file(const std::string& path);

// The condition as the file states it, e.g. "cpu above 90 for 5 minutes".
std::string describe_condition(const Rule& rule);

}  // namespace servertrack::alert
