#include "query/promql_parser.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace servertrack::query::promql {
namespace {

struct ParseError {
  std::size_t at;  // byte offset into the query
  std::string message;
};

constexpr std::array<std::pair<std::string_view, AggregateOp>, 7> kAggregations = {{
    {"sum", AggregateOp::sum},
    {"avg", AggregateOp::avg},
    {"min", AggregateOp::min},
    {"max", AggregateOp::max},
    {"count", AggregateOp::count},
    {"topk", AggregateOp::topk},
    {"bottomk", AggregateOp::bottomk},
}};

// Prometheus's own aggregations this subset leaves out: named in the error.
constexpr std::array<std::string_view, 7> kOtherAggregations = {
    "stddev", "stdvar", "quantile", "count_values", "group", "limitk", "limit_ratio"};

bool is_identifier_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool is_identifier_char(char c) { return is_identifier_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool is_label_name(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (const char c : text) {
    if (c == ':' || !is_identifier_char(c)) return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  ExprPtr parse_query() {
    if (text_.size() > kMaxQueryBytes) fail(0, "the query is longer than 16 KiB");
    skip_space();
    if (at_end()) fail(0, "no expression found in input");
    ExprPtr expr = parse_expr();
    skip_space();
    if (!at_end()) unexpected();
    return expr;
  }

 private:
  [[noreturn]] void fail(std::size_t at, std::string message) { throw ParseError{at, std::move(message)}; }

  [[noreturn]] void unexpected() {
    skip_space();
    if (at_end()) fail(pos_, "unexpected end of input");
    const std::size_t start = pos_;
    if (is_identifier_start(peek())) {
      fail(start, "unexpected identifier \"" + std::string(read_identifier()) + "\"");
    }
    fail(start, std::string("unexpected character: '") + peek() + "'");
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  void skip_space() {
    while (!at_end()) {
      const char c = peek();
      if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        return;
      }
    }
  }

  // Consumes `token` (after white space) when it comes next.
  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  void expect(std::string_view token) {
    if (!accept(token)) {
      skip_space();
      if (at_end()) fail(pos_, "unexpected end of input; expected \"" + std::string(token) + "\"");
      fail(pos_, "expected \"" + std::string(token) + "\"");
    }
  }

  std::string_view read_identifier() {
    const std::size_t start = pos_;
    while (!at_end() && is_identifier_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // The next identifier without consuming it ("" when none comes next).
  std::string_view peek_identifier() {
    skip_space();
    const std::size_t start = pos_;
    if (at_end() || !is_identifier_start(peek())) return {};
    std::string_view word = read_identifier();
    pos_ = start;
    return word;
  }

  void enter() {
    if (++depth_ > kMaxNesting) fail(pos_, "the expression nests deeper than 64 levels");
  }

  ExprPtr parse_expr() {
    enter();
    ExprPtr expr = parse_comparison();
    --depth_;
    return expr;
  }

  ExprPtr parse_comparison() {
    ExprPtr left = parse_additive();
    while (true) {
      reject_set_operators();
      skip_space();
      const std::size_t at = pos_;
      BinaryOp op;
      if (accept("==")) {
        op = BinaryOp::equal;
      } else if (accept("!=")) {
        op = BinaryOp::not_equal;
      } else if (accept(">=")) {
        op = BinaryOp::greater_equal;
      } else if (accept("<=")) {
        op = BinaryOp::less_equal;
      } else if (accept(">")) {
        op = BinaryOp::greater;
      } else if (accept("<")) {
        op = BinaryOp::less;
      } else {
        return left;
      }
      const bool return_bool = lower(peek_identifier()) == "bool";
      if (return_bool) accept("bool");
      left = make_binary(at, op, return_bool, std::move(left), parse_additive());
    }
  }

  ExprPtr parse_additive() {
    ExprPtr left = parse_multiplicative();
    while (true) {
      skip_space();
      const std::size_t at = pos_;
      BinaryOp op;
      if (accept("+")) {
        op = BinaryOp::add;
      } else if (peek() == '-') {
        ++pos_;
        op = BinaryOp::subtract;
      } else {
        return left;
      }
      reject_bool(at);
      left = make_binary(at, op, false, std::move(left), parse_multiplicative());
    }
  }

  ExprPtr parse_multiplicative() {
    ExprPtr left = parse_unary();
    while (true) {
      reject_other_operators();
      skip_space();
      const std::size_t at = pos_;
      BinaryOp op;
      if (accept("*")) {
        op = BinaryOp::multiply;
      } else if (accept("/")) {
        op = BinaryOp::divide;
      } else {
        return left;
      }
      reject_bool(at);
      left = make_binary(at, op, false, std::move(left), parse_unary());
    }
  }

  ExprPtr parse_unary() {
    skip_space();
    const std::size_t at = pos_;
    if (accept("-")) {
      enter();
      ExprPtr operand = parse_unary();
      --depth_;
      if (auto* number = std::get_if<NumberLiteral>(&operand->node)) {
        number->value = -number->value;
        return operand;
      }
      return make_binary(at, BinaryOp::subtract, false, number_literal(0), std::move(operand));
    }
    if (accept("+")) {
      enter();
      ExprPtr operand = parse_unary();
      --depth_;
      return operand;
    }
    ExprPtr expr = parse_primary();
    reject_selector_modifiers();
    return expr;
  }

  void reject_bool(std::size_t at) {
    if (lower(peek_identifier()) == "bool") fail(at, "bool modifier can only be used on comparison operators");
  }

  void reject_set_operators() {
    const std::string word = lower(peek_identifier());
    if (word == "and" || word == "or" || word == "unless") {
      fail(pos_, "the " + word + " operator is not supported");
    }
  }

  void reject_other_operators() {
    skip_space();
    if (peek() == '%' || peek() == '^') fail(pos_, std::string("the ") + peek() + " operator is not supported");
    if (lower(peek_identifier()) == "atan2") fail(pos_, "the atan2 operator is not supported");
  }

  void reject_selector_modifiers() {
    skip_space();
    if (peek() == '[') {
      fail(pos_, "range selectors and subqueries ([5m]) are not supported; the values are already "
                 "minute and hour means");
    }
    if (peek() == '@') fail(pos_, "the @ modifier is not supported");
    if (lower(peek_identifier()) == "offset") fail(pos_, "the offset modifier is not supported");
  }

  ExprPtr make_binary(std::size_t at, BinaryOp op, bool return_bool, ExprPtr left, ExprPtr right) {
    reject_selector_modifiers();
    if (left->type == ValueType::vector && right->type == ValueType::vector) {
      fail(at, "binary operators between two vectors are not supported; one side must be a number");
    }
    if (is_comparison(op) && !return_bool && left->type == ValueType::scalar &&
        right->type == ValueType::scalar) {
      fail(at, "comparisons between scalars must use BOOL modifier");
    }
    auto expr = std::make_unique<Expr>();
    expr->type = left->type == ValueType::vector || right->type == ValueType::vector ? ValueType::vector
                                                                                      : ValueType::scalar;
    expr->height = height_above(at, *left, *right);
    expr->node = Binary{op, return_bool, std::move(left), std::move(right)};
    return expr;
  }

  // The height of a node over these children, refused past kMaxHeight.
  int height_above(std::size_t at, const Expr& first, const Expr& second) {
    const int height = 1 + std::max(first.height, second.height);
    if (height > kMaxHeight) fail(at, "the expression is deeper than 256 operators");
    return height;
  }

  static ExprPtr number_literal(double value) {
    auto expr = std::make_unique<Expr>();
    expr->node = NumberLiteral{value};
    expr->type = ValueType::scalar;
    return expr;
  }

  ExprPtr parse_primary() {
    skip_space();
    if (at_end()) fail(pos_, "unexpected end of input");
    const char c = peek();
    if (c == '(') {
      ++pos_;
      ExprPtr inner = parse_expr();
      expect(")");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
      return parse_number();
    }
    if (c == '"' || c == '\'' || c == '`') fail(pos_, "string literals are not supported");
    if (c == '{') return parse_selector({}, pos_);
    if (!is_identifier_start(c)) unexpected();
    const std::size_t start = pos_;
    const std::string_view word = read_identifier();
    const std::string keyword = lower(word);
    for (const auto& [name, op] : kAggregations) {
      if (keyword == name) return parse_aggregation(op);
    }
    for (const std::string_view name : kOtherAggregations) {
      if (keyword == name) fail(start, "the aggregation " + keyword + " is not supported");
    }
    if (keyword == "inf") return number_literal(std::numeric_limits<double>::infinity());
    if (keyword == "nan") return number_literal(std::numeric_limits<double>::quiet_NaN());
    if (keyword == "on" || keyword == "ignoring" || keyword == "group_left" || keyword == "group_right") {
      fail(start, "vector matching (" + keyword + ") is not supported");
    }
    skip_space();
    if (peek() == '(') fail(start, "the function " + std::string(word) + "() is not supported");
    if (keyword == "by" || keyword == "without" || keyword == "bool" || keyword == "offset" ||
        keyword == "and" || keyword == "or" || keyword == "unless") {
      fail(start, "unexpected keyword \"" + std::string(word) + "\"");
    }
    return parse_selector(std::string(word), start);
  }

  ExprPtr parse_number() {
    const std::size_t start = pos_;
    while (!at_end() && (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '.')) ++pos_;
    if (peek() == 'e' || peek() == 'E') {
      const std::size_t mark = pos_;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (std::isdigit(static_cast<unsigned char>(peek()))) {
        while (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
      } else {
        pos_ = mark;
      }
    }
    if (!at_end() && is_identifier_char(peek())) {
      fail(start, "bad number or duration syntax: \"" + std::string(text_.substr(start, pos_ - start + 1)) + "\"");
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    const auto [end, error] = std::from_chars(first, last, value);
    if (error == std::errc::result_out_of_range) {
      value = std::numeric_limits<double>::infinity();
    } else if (error != std::errc() || end != last) {
      fail(start, "bad number: \"" + std::string(first, last) + "\"");
    }
    return number_literal(value);
  }

  ExprPtr parse_selector(std::string metric, std::size_t start) {
    VectorSelector selector;
    if (!metric.empty()) selector.matchers.push_back({"__name__", MatchOp::equal, std::move(metric), nullptr});
    bool named = !selector.matchers.empty();
    skip_space();
    if (accept("{")) {
      while (!accept("}")) {
        skip_space();
        const std::size_t label_at = pos_;
        if (at_end()) fail(pos_, "unexpected end of input inside braces");
        if (!is_identifier_start(peek())) unexpected();
        const std::string label(read_identifier());
        if (!is_label_name(label)) fail(label_at, "invalid label name \"" + label + "\"");
        LabelMatcher matcher;
        matcher.label = label;
        skip_space();
        if (accept("=~")) {
          matcher.op = MatchOp::regex;
        } else if (accept("!~")) {
          matcher.op = MatchOp::not_regex;
        } else if (accept("!=")) {
          matcher.op = MatchOp::not_equal;
        } else if (accept("=")) {
          matcher.op = MatchOp::equal;
        } else {
          fail(pos_, "expected a label matching operator (=, !=, =~ or !~) after \"" + label + "\"");
        }
        matcher.value = parse_string();
        if (matcher.op == MatchOp::regex || matcher.op == MatchOp::not_regex) {
          RE2::Options options;
          options.set_log_errors(false);
          auto regex = std::make_shared<const re2::RE2>("(?:" + matcher.value + ")", options);
          if (!regex->ok()) {
            fail(label_at, "invalid regular expression \"" + matcher.value + "\": " + regex->error());
          }
          matcher.regex = std::move(regex);
        }
        if (label == "__name__") {
          if (named) fail(label_at, "metric name must not be set twice");
          named = true;
        }
        selector.matchers.push_back(std::move(matcher));
        if (!accept(",")) {
          expect("}");
          break;
        }
      }
    }
    bool any_non_empty = false;
    for (const LabelMatcher& matcher : selector.matchers) any_non_empty |= !matcher.matches("");
    if (!any_non_empty) fail(start, "vector selector must contain at least one non-empty matcher");
    auto expr = std::make_unique<Expr>();
    expr->node = std::move(selector);
    expr->type = ValueType::vector;
    return expr;
  }

  // A quoted string: "..." and '...' with Go's escapes (\x, \u and octal
  // excepted), or `...` taken as it is.
  std::string parse_string() {
    skip_space();
    const std::size_t start = pos_;
    const char quote = peek();
    if (quote != '"' && quote != '\'' && quote != '`') fail(pos_, "expected a quoted string");
    ++pos_;
    std::string out;
    while (true) {
      if (at_end()) fail(start, "unterminated quoted string");
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (quote == '`') {
        out.push_back(c);
        continue;
      }
      if (c == '\n') fail(start, "unterminated quoted string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_end()) fail(start, "unterminated quoted string");
      const char escaped = text_[pos_++];
      switch (escaped) {
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case '\\': out.push_back('\\'); break;
        case '"':
        case '\'':
          if (escaped != quote) fail(pos_ - 2, "unknown escape sequence");
          out.push_back(escaped);
          break;
        default: fail(pos_ - 2, std::string("unsupported escape sequence \\") + escaped);
      }
    }
  }

  std::vector<std::string> parse_grouping() {
    std::vector<std::string> labels;
    expect("(");
    while (!accept(")")) {
      skip_space();
      const std::size_t at = pos_;
      if (at_end() || !is_identifier_start(peek())) unexpected();
      const std::string label(read_identifier());
      if (!is_label_name(label)) fail(at, "invalid label name \"" + label + "\" in grouping");
      labels.push_back(label);
      if (!accept(",")) {
        expect(")");
        break;
      }
    }
    return labels;
  }

  // After by/without: true (and the labels read) when a grouping comes next.
  bool accept_grouping(Aggregation& aggregation) {
    const std::string word = lower(peek_identifier());
    if (word != "by" && word != "without") return false;
    accept(peek_identifier());
    aggregation.without = word == "without";
    aggregation.labels = parse_grouping();
    return true;
  }

  ExprPtr parse_aggregation(AggregateOp op) {
    enter();
    Aggregation aggregation;
    aggregation.op = op;
    const bool grouped_before = accept_grouping(aggregation);
    skip_space();
    const std::size_t open_at = pos_;
    expect("(");
    if (op == AggregateOp::topk || op == AggregateOp::bottomk) {
      aggregation.parameter = parse_expr();
      if (aggregation.parameter->type != ValueType::scalar) {
        fail(open_at, "expected type scalar in aggregation parameter, got instant vector");
      }
      expect(",");
    }
    skip_space();
    const std::size_t operand_at = pos_;
    aggregation.operand = parse_expr();
    if (aggregation.operand->type != ValueType::vector) {
      fail(operand_at, "expected type instant vector in aggregation expression, got scalar");
    }
    accept(",");
    expect(")");
    if (!grouped_before) accept_grouping(aggregation);
    --depth_;
    auto expr = std::make_unique<Expr>();
    expr->height = height_above(open_at, *aggregation.operand,
                                aggregation.parameter ? *aggregation.parameter : *aggregation.operand);
    expr->node = std::move(aggregation);
    expr->type = ValueType::vector;
    return expr;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

bool LabelMatcher::matches(std::string_view label_value) const {
  switch (op) {
    case MatchOp::equal: return label_value == value;
    case MatchOp::not_equal: return label_value != value;
    case MatchOp::regex: return re2::RE2::FullMatch(label_value, *regex);
    case MatchOp::not_regex: return !re2::RE2::FullMatch(label_value, *regex);
  }
  return false;
}

bool is_comparison(BinaryOp op) noexcept {
  switch (op) {
    case BinaryOp::equal:
    case BinaryOp::not_equal:
    case BinaryOp::greater:
    case BinaryOp::less:
    case BinaryOp::greater_equal:
    case BinaryOp::less_equal:
      return true;
    default:
      return false;
  }
}

std::variant<ExprPtr, std::string> parse(std::string_view query) {
  try {
    return Parser(query).parse_query();
  } catch (const ParseError& error) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < error.at && i < query.size(); ++i) {
      if (query[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    // Quoted query text may hold any byte: the sentence stays one printable line.
    std::string message = std::to_string(line) + ":" + std::to_string(column) + ": parse error: ";
    for (const char c : error.message) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte < 0x7f) {
        message.push_back(c);
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        message += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
      }
    }
    return message;
  }
}

}  // namespace servertrack::query::promql
