// The alert rules file (alert/rules.h): what reads, and the line and sentence
// of every kind of mistake.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <variant>

#include "alert/rules.h"

namespace servertrack::alert {
namespace {

std::vector<Rule> good(std::string_view text) {
  auto parsed = parse_rules(text, "r.ini");
  if (auto* error = std::get_if<std::string>(&parsed)) ADD_FAILURE() << *error;
  return std::holds_alternative<std::vector<Rule>>(parsed) ? std::get<std::vector<Rule>>(parsed) : std::vector<Rule>{};
}

std::string bad(std::string_view text) {
  auto parsed = parse_rules(text, "r.ini");
  EXPECT_TRUE(std::holds_alternative<std::string>(parsed)) << "accepted: " << text;
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

TEST(Rules, ReadsEveryCondition) {
  const auto rules = good(
      "# a comment\n"
      "[cpu-high]\n"
      "severity = critical\n"
      "prefix = web-\n"
      "when = cpu above 90 for 5 minutes\n"
      "\n"
      "[ram-low]\r\n"
      "severity=warning\r\n"
      "when =  ram   below 2.5 over 1 hour\r\n"
      "[quiet]\n"
      "  ; another comment\n"
      "severity = page\n"
      "when = silent for 1440 minutes\n");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].name, "cpu-high");
  EXPECT_EQ(rules[0].severity, "critical");
  EXPECT_EQ(rules[0].prefix, "web-");
  EXPECT_EQ(rules[0].kind, Kind::minutes);
  EXPECT_EQ(rules[0].metric, Metric::cpu);
  EXPECT_TRUE(rules[0].above);
  EXPECT_EQ(rules[0].threshold, 90);
  EXPECT_EQ(rules[0].count, 5);
  EXPECT_EQ(rules[0].line, 2);
  EXPECT_EQ(rules[1].kind, Kind::hours);
  EXPECT_EQ(rules[1].metric, Metric::ram);
  EXPECT_FALSE(rules[1].above);
  EXPECT_EQ(rules[1].threshold, 2.5);
  EXPECT_EQ(rules[1].count, 1);
  EXPECT_EQ(rules[1].prefix, "");
  EXPECT_EQ(rules[2].kind, Kind::silent);
  EXPECT_EQ(rules[2].count, 1440);
  EXPECT_EQ(describe_condition(rules[0]), "cpu above 90 for 5 minutes");
  EXPECT_EQ(describe_condition(rules[1]), "ram below 2.5 over 1 hour");
  EXPECT_EQ(describe_condition(rules[2]), "silent for 1440 minutes");
}

TEST(Rules, NamesTheLineAndTheProblem) {
  const std::string head = "[a]\nseverity = x\n";
  EXPECT_EQ(bad(""), "r.ini: no rule (a rule is `[name]`, `severity = ...`, `when = ...`)");
  EXPECT_EQ(bad("severity = x\n"), "r.ini:1: `severity` before the first [rule-name]");
  EXPECT_EQ(bad("[a\n"), "r.ini:1: a section line is `[rule-name]`");
  EXPECT_EQ(bad("[a b]\n"), "r.ini:1: rule name 'a b': 1 to 64 characters of A-Z, a-z, 0-9, _, . and -");
  EXPECT_EQ(bad(head + "when = silent for 5 minutes\n[a]\n"), "r.ini:4: rule [a] is defined twice");
  EXPECT_EQ(bad("[a]\nwhen = silent for 5 minutes\n"), "r.ini:1: rule [a] has no `severity = ...`");
  EXPECT_EQ(bad(head + "\n[b]\n"), "r.ini:1: rule [a] has no `when = ...` condition");
  EXPECT_EQ(bad(head + "when = cpu above 90 for 61 minutes\n"),
            "r.ini:3: for 61 minutes: N must be 1 to 59 (complete minutes of the 60-minute window)");
  EXPECT_EQ(bad(head + "when = cpu above 90 for 60 minutes\n"),
            "r.ini:3: for 60 minutes: N must be 1 to 59 (complete minutes of the 60-minute window)");
  EXPECT_EQ(good(head + "when = cpu above 90 for 59 minutes\n").at(0).count, 59);
  EXPECT_EQ(bad(head + "when = cpu above 90 for 0 minutes\n"),
            "r.ini:3: for 0 minutes: N must be 1 to 59 (complete minutes of the 60-minute window)");
  EXPECT_EQ(bad(head + "when = ram below 9 over 24 hours\n"),
            "r.ini:3: over 24 hours: N must be 1 to 23 (complete hours of the 24-hour window)");
  EXPECT_EQ(bad(head + "when = silent for 1441 minutes\n"), "r.ini:3: silent for 1441 minutes: N must be 1 to 1440");
  EXPECT_EQ(bad(head + "when = disk above 9 for 5 minutes\n"), "r.ini:3: unknown metric 'disk': cpu or ram");
  EXPECT_EQ(bad(head + "when = cpu over 9 for 5 minutes\n"), "r.ini:3: 'over': above or below");
  EXPECT_EQ(bad(head + "when = cpu above -1 for 5 minutes\n"), "r.ini:3: threshold '-1' is not a number of 0 or more");
  EXPECT_EQ(bad(head + "when = cpu above nan for 5 minutes\n"), "r.ini:3: threshold 'nan' is not a number of 0 or more");
  EXPECT_EQ(bad(head + "when = cpu above 9 for 5 hours\n"),
            "r.ini:3: expected `for N minutes` or `over N hours` after the threshold, not `for hours`");
  EXPECT_EQ(bad(head + "when = cpu > 90\n"),
            "r.ini:3: not a condition: expected `cpu|ram above|below X for N minutes`, "
            "`cpu|ram above|below X over N hours` or `silent for N minutes`");
  EXPECT_EQ(bad(head + "severity = y\n"), "r.ini:3: `severity` given twice");
  EXPECT_EQ(bad(head + "colour = red\n"), "r.ini:3: unknown key 'colour': severity, prefix or when");
  EXPECT_EQ(bad(head + "just words\n"), "r.ini:3: expected `key = value` or `[rule-name]`");
  EXPECT_EQ(bad(head + "prefix = web 01\n"), "r.ini:3: prefix: the start of server names (A-Z, a-z, 0-9, _, . and -)");
  EXPECT_EQ(bad("[a]\nseverity = very bad\n"),
            "r.ini:2: severity: one word of A-Z, a-z, 0-9, _, . and - (e.g. critical)");
}

TEST(Rules, ReadsTheExampleFileAndNamesAMissingOne) {
  auto parsed = read_rules_file(std::string(SOURCE_DIR) + "/deploy/alerts/rules.ini");
  ASSERT_TRUE(std::holds_alternative<std::vector<Rule>>(parsed)) << std::get<std::string>(parsed);
  EXPECT_EQ(std::get<std::vector<Rule>>(parsed).size(), 4u);
  auto missing = read_rules_file("/nonexistent/rules.ini");
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_EQ(std::get<std::string>(missing), "/nonexistent/rules.ini: cannot read: No such file or directory");
}

}  // namespace
}  // namespace servertrack::alert
