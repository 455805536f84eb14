// libFuzzer target: promql::parse(), the PromQL subset of the Prometheus HTTP
// API (query/promql_parser.h), which reads whatever a client sends as
// query= and match[].
//
// Properties checked on every input (besides no crash, leak, UB or deep recursion):
// - a refusal is one sentence "<line>:<column>: parse error: <what>";
// - an accepted tree is well typed: aggregations take a vector (topk and
//   bottomk a scalar first), no operator joins two vectors, a comparison of
//   two scalars has bool, a regex matcher holds its compiled regex, a
//   selector has a matcher that does not match the empty string;
// - white space appended changes nothing (accepted stays accepted).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <re2/re2.h>

#include "query/promql_parser.h"
#include "tests/fuzz/fuzz_check.h"

using servertrack::fuzz::require;
namespace promql = servertrack::query::promql;

namespace {

// Returns the height of the tree, checked against the height each node states.
int check_tree(const promql::Expr& expr) {
  int below = 0;
  if (const auto* selector = std::get_if<promql::VectorSelector>(&expr.node)) {
    require(expr.type == promql::ValueType::vector, "a selector is a vector");
    bool non_empty = false;
    for (const auto& matcher : selector->matchers) {
      const bool regex = matcher.op == promql::MatchOp::regex || matcher.op == promql::MatchOp::not_regex;
      require(regex == (matcher.regex != nullptr), "a regex matcher holds its regex");
      non_empty = non_empty || !matcher.matches("");
    }
    require(non_empty, "a selector has a matcher that rejects the empty string");
  } else if (const auto* aggregation = std::get_if<promql::Aggregation>(&expr.node)) {
    require(expr.type == promql::ValueType::vector, "an aggregation is a vector");
    require(aggregation->operand && aggregation->operand->type == promql::ValueType::vector,
            "an aggregation takes a vector");
    const bool takes_k = aggregation->op == promql::AggregateOp::topk || aggregation->op == promql::AggregateOp::bottomk;
    require(takes_k == (aggregation->parameter != nullptr), "only topk and bottomk take a parameter");
    if (takes_k) {
      require(aggregation->parameter->type == promql::ValueType::scalar, "k is a scalar");
      below = check_tree(*aggregation->parameter);
    }
    below = std::max(below, check_tree(*aggregation->operand));
  } else if (const auto* binary = std::get_if<promql::Binary>(&expr.node)) {
    const bool left = binary->left->type == promql::ValueType::vector;
    const bool right = binary->right->type == promql::ValueType::vector;
    require(!(left && right), "no operator joins two vectors");
    require((expr.type == promql::ValueType::vector) == (left || right), "an operator's type follows its operands");
    require(left || right || !promql::is_comparison(binary->op) || binary->return_bool,
            "a comparison of scalars has bool");
    require(!binary->return_bool || promql::is_comparison(binary->op), "bool only on comparisons");
    below = std::max(check_tree(*binary->left), check_tree(*binary->right));
  } else {
    require(expr.type == promql::ValueType::scalar, "a number is a scalar");
  }
  require(expr.height == below + 1, "a node states its height");
  require(expr.height <= promql::kMaxHeight, "the tree is no higher than kMaxHeight");
  return expr.height;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  auto parsed = promql::parse(query);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    // RE2, as the parser uses: <regex> trips GCC 12's -Wmaybe-uninitialized under the sanitizers.
    static const RE2 shape("[0-9]+:[0-9]+: parse error: [^\n]+");
    require(RE2::FullMatch(*error, shape), "a refusal is \"<line>:<column>: parse error: <what>\"");
    return 0;
  }
  check_tree(*std::get<promql::ExprPtr>(parsed));
  if (size + 1 <= promql::kMaxQueryBytes) {
    require(std::holds_alternative<promql::ExprPtr>(promql::parse(query + " ")),
            "trailing white space changes nothing");
  }
  return 0;
}
