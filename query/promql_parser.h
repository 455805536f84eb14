// The PromQL subset the Prometheus HTTP API answers (README, "Grafana and
// Prometheus"; query/prometheus_api.h): its syntax tree and its parser.
//
//   selectors   servertrack_cpu_percent{server=~"web-.*"}, {__name__="...", ...}
//               with = != =~ !~ (regexes in RE2 syntax, anchored, as Prometheus)
//   numbers     12, 0.5, 1e3, Inf, NaN
//   aggregation sum avg min max count, topk bottomk (k first), with
//               `by (labels)` or `without (labels)` before or after the operands
//   arithmetic  + - * / between two scalars or a vector and a scalar
//   comparison  == != > < >= <= between a vector and a scalar (a filter, or 0/1
//               with `bool`), or two scalars with `bool`; parentheses, unary minus
// Anything else (functions, range selectors, offset, @, vector-vector
// operators, and/or/unless) is refused with a sentence naming what is not
// supported; so are types Prometheus itself refuses (sum(1), 1 > 2 without bool).
//
// Pure: parse() may be called from any thread; it allocates the tree and
// compiles each regex once (RE2, linear-time matching). Cost O(length of the
// query); input is bounded by kMaxQueryBytes, the parser's recursion by
// kMaxNesting and the tree's height by kMaxHeight (a chain 1+1+1+... nests no
// parenthesis but deepens the tree that evaluation and destruction walk), so a
// hostile query can neither take long nor exhaust the stack.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace servertrack::query::promql {

inline constexpr std::size_t kMaxQueryBytes = 16 * 1024;
inline constexpr int kMaxNesting = 64;
inline constexpr int kMaxHeight = 256;

enum class MatchOp { equal, not_equal, regex, not_regex };

struct LabelMatcher {
  std::string label;
  MatchOp op = MatchOp::equal;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // for regex and not_regex
  bool matches(std::string_view label_value) const;
};

enum class ValueType { scalar, vector };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral {
  double value = 0;
};

// Every matcher applies; the metric name is a matcher on __name__.
struct VectorSelector {
  std::vector<LabelMatcher> matchers;
};

enum class AggregateOp { sum, avg, min, max, count, topk, bottomk };

struct Aggregation {
  AggregateOp op = AggregateOp::sum;
  bool without = false;                // labels lists what to drop, not what to keep
  std::vector<std::string> labels;     // by (...) or without (...); empty by () = one group
  ExprPtr parameter;                   // k of topk and bottomk, a scalar; null otherwise
  ExprPtr operand;                     // a vector
};

enum class BinaryOp { add, subtract, multiply, divide, equal, not_equal, greater, less, greater_equal, less_equal };

struct Binary {
  BinaryOp op = BinaryOp::add;
  bool return_bool = false;  // a comparison with `bool`: 0 or 1 instead of a filter
  ExprPtr left, right;       // at most one is a vector
};

struct Expr {
  std::variant<NumberLiteral, VectorSelector, Aggregation, Binary> node;
  ValueType type = ValueType::scalar;
  int height = 1;  // nodes on the longest path down to a leaf, at most kMaxHeight
};

bool is_comparison(BinaryOp op) noexcept;

// The tree, or the sentence for a bad_data error ("1:14: parse error: ...",
// the column counted in bytes from 1 as Prometheus does).
std::variant<ExprPtr, std::string> parse(std::string_view query);

}  // namespace servertrack::query::promql
