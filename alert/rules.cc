// The alert rules file: see alert/rules.h.
#include "alert/rules.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace servertrack::alert {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    s = trim(s);
    if (s.empty()) return out;
    const auto end = s.find_first_of(" \t");
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) return out;
    s.remove_prefix(end);
  }
}

bool is_word(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::optional<int> whole(std::string_view s) {
  int value = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<double> number(std::string_view s) {
  double value = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

constexpr const char* kConditionForms =
    "`cpu|ram above|below X for N minutes`, `cpu|ram above|below X over N hours` or `silent for N minutes`";

// Reads `when`'s value into rule; the problem, or "" when it reads.
std::string parse_condition(std::string_view value, Rule& rule) {
  const auto w = words(value);
  auto unit = [](std::string_view word, std::string_view singular) {
    return word == singular || (word.size() == singular.size() + 1 && word.starts_with(singular) && word.back() == 's');
  };
  if (w.size() == 3 && w[0] == "silent" && w[1] == "for") return "silent needs a unit: `silent for N minutes`";
  if (w.size() == 4 && w[0] == "silent") {
    if (w[1] != "for" || !unit(w[3], "minute")) return fmt::format("not a condition: expected {}", kConditionForms);
    const auto n = whole(w[2]);
    if (!n || *n < 1 || *n > kMaxSilentMinutes) return fmt::format("silent for {} minutes: N must be 1 to {}", w[2], kMaxSilentMinutes);
    rule.kind = Kind::silent;
    rule.count = *n;
    return "";
  }
  if (w.size() != 6) return fmt::format("not a condition: expected {}", kConditionForms);
  if (w[0] == "cpu") rule.metric = Metric::cpu;
  else if (w[0] == "ram") rule.metric = Metric::ram;
  else return fmt::format("unknown metric '{}': cpu or ram", w[0]);
  if (w[1] == "above") rule.above = true;
  else if (w[1] == "below") rule.above = false;
  else return fmt::format("'{}': above or below", w[1]);
  const auto threshold = number(w[2]);
  if (!threshold) return fmt::format("threshold '{}' is not a number of 0 or more", w[2]);
  rule.threshold = *threshold;
  const auto n = whole(w[4]);
  if (w[3] == "for" && unit(w[5], "minute")) {
    if (!n || *n < 1 || *n > kMaxMinutes) {
      return fmt::format("for {} minutes: N must be 1 to {} (complete minutes of the 60-minute window)", w[4], kMaxMinutes);
    }
    rule.kind = Kind::minutes;
  } else if (w[3] == "over" && unit(w[5], "hour")) {
    if (!n || *n < 1 || *n > kMaxHours) {
      return fmt::format("over {} hours: N must be 1 to {} (complete hours of the 24-hour window)", w[4], kMaxHours);
    }
    rule.kind = Kind::hours;
  } else {
    return fmt::format("expected `for N minutes` or `over N hours` after the threshold, not `{} {}`", w[3], w[5]);
  }
  rule.count = *n;
  return "";
}

}  // namespace

std::variant<std::vector<Rule>, std::string> parse_rules(std::string_view text, std::string_view file) {
  std::vector<Rule> rules;
  std::set<std::string, std::less<>> names;
  bool has_when = false;
  int line_number = 0;
  auto error = [&](int line, const std::string& problem) { return fmt::format("{}:{}: {}", file, line, problem); };
  // The rule just finished: what it lacks, or "".
  auto incomplete = [&]() -> std::string {
    if (rules.empty()) return "";
    const Rule& rule = rules.back();
    if (rule.severity.empty()) return error(rule.line, fmt::format("rule [{}] has no `severity = ...`", rule.name));
    if (!has_when) return error(rule.line, fmt::format("rule [{}] has no `when = ...` condition", rule.name));
    return "";
  };
  std::set<std::string, std::less<>> keys;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    const std::string_view raw = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (auto problem = incomplete(); !problem.empty()) return problem;
      if (line.back() != ']') return error(line_number, "a section line is `[rule-name]`");
      const std::string_view name = trim(line.substr(1, line.size() - 2));
      if (!is_word(name, kMaxRuleName)) {
        return error(line_number, fmt::format("rule name '{}': 1 to {} characters of A-Z, a-z, 0-9, _, . and -",
                                              name, kMaxRuleName));
      }
      if (!names.insert(std::string(name)).second) {
        return error(line_number, fmt::format("rule [{}] is defined twice", name));
      }
      if (rules.size() == kMaxRules) return error(line_number, fmt::format("more than {} rules", kMaxRules));
      Rule& rule = rules.emplace_back();
      rule.name = std::string(name);
      rule.line = line_number;
      has_when = false;
      keys.clear();
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) return error(line_number, "expected `key = value` or `[rule-name]`");
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (rules.empty()) return error(line_number, fmt::format("`{}` before the first [rule-name]", key));
    if (!keys.insert(std::string(key)).second) return error(line_number, fmt::format("`{}` given twice", key));
    Rule& rule = rules.back();
    if (key == "severity") {
      if (!is_word(value, 32)) return error(line_number, "severity: one word of A-Z, a-z, 0-9, _, . and - (e.g. critical)");
      rule.severity = std::string(value);
    } else if (key == "prefix") {
      if (!is_word(value, 253)) return error(line_number, "prefix: the start of server names (A-Z, a-z, 0-9, _, . and -)");
      rule.prefix = std::string(value);
    } else if (key == "when") {
      if (auto problem = parse_condition(value, rule); !problem.empty()) return error(line_number, problem);
      has_when = true;
    } else {
      return error(line_number, fmt::format("unknown key '{}': severity, prefix or when", key));
    }
  }
  if (auto problem = incomplete(); !problem.empty()) return problem;
  if (rules.empty()) return fmt::format("{}: no rule (a rule is `[name]`, `severity = ...`, `when = ...`)", file);
  return rules;
}

std::variant<std::vector<Rule>, std::string> read_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("{}: cannot read: {}", path, std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (content.str().size() > 1 << 20) return fmt::format("{}: larger than 1 MiB", path);
  return parse_rules(content.str(), path);
}

std::string describe_condition(const Rule& rule) {
  const char* metric = rule.metric == Metric::cpu ? "cpu" : "ram";
  const char* side = rule.above ? "above" : "below";
  switch (rule.kind) {
    case Kind::minutes:
      return fmt::format("{} {} {:g} for {} minute{}", metric, side, rule.threshold, rule.count, rule.count == 1 ? "" : "s");
    case Kind::hours:
      return fmt::format("{} {} {:g} over {} hour{}", metric, side, rule.threshold, rule.count, rule.count == 1 ? "" : "s");
    case Kind::silent:
      return fmt::format("silent for {} minute{}", rule.count, rule.count == 1 ? "" : "s");
  }
  return "";
}

}  // namespace servertrack::alert
