#include "ingest/line_protocol.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace servertrack::ingest {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The end of a line at `at`: '\n', "\r\n", a '\r' ending the body, or the body's end.
bool line_ends_at(std::string_view text, std::size_t at) {
  if (at >= text.size()) return true;
  if (text[at] == '\n') return true;
  return text[at] == '\r' && (at + 1 == text.size() || text[at + 1] == '\n');
}

// From `at`, the first position holding one of the stops (not escaped by a
// backslash) or ending the line. The stops are compared one by one: this is
// the reader's inner loop.
std::size_t scan(std::string_view text, std::size_t at, char stop, char second_stop, char third_stop) {
  while (!line_ends_at(text, at)) {
    const char c = text[at];
    if (c == '\\' && !line_ends_at(text, at + 1)) {
      at += 2;
      continue;
    }
    if (c == stop || c == second_stop || c == third_stop) return at;
    ++at;
  }
  return at;
}

// Within a part of a line already read (a tag set): the next unescaped `stop`,
// or the part's end. Unlike scan(), a '\r' at the part's end is a character
// of the part, not the end of the line, as the reader took it.
std::size_t scan_part(std::string_view part, std::size_t at, char stop) {
  while (at < part.size()) {
    if (part[at] == '\\' && at + 1 < part.size()) {
      at += 2;
      continue;
    }
    if (part[at] == stop) return at;
    ++at;
  }
  return at;
}

// From `at` just after an opening quote: the position of the closing quote, or
// npos. A backslash escapes the next character; newlines may be inside.
std::size_t closing_quote(std::string_view text, std::size_t at) {
  while (at < text.size()) {
    if (text[at] == '\\') {
      at += 2;
      continue;
    }
    if (text[at] == '"') return at;
    ++at;
  }
  return std::string_view::npos;
}

template <typename Number>
bool whole_number(std::string_view digits, Number& out) {
  if (digits.empty()) return false;
  const char* end = digits.data() + digits.size();
  const auto [stop, error] = std::from_chars(digits.data(), end, out);
  return error == std::errc() && stop == end;
}

// The number of a float, integer or unsigned field into `field`; the reason
// when it does not read.
const char* parse_number(LineField& field) {
  const std::string_view value = field.value;
  const std::string_view digits = value.substr(0, value.size() - 1);
  switch (field.type) {
    case FieldType::integer:
      if (!whole_number(digits, field.integer)) return "invalid integer (a whole number from -2^63 to 2^63-1 before 'i')";
      field.number = static_cast<double>(field.integer);
      return nullptr;
    case FieldType::unsigned_integer:
      if (!whole_number(digits, field.unsigned_value)) return "invalid unsigned integer (a whole number from 0 to 2^64-1 before 'u')";
      field.number = static_cast<double>(field.unsigned_value);
      return nullptr;
    case FieldType::float_number: {
      const char* end = value.data() + value.size();
      const auto [stop, error] = std::from_chars(value.data(), end, field.number, std::chars_format::general);
      if (error != std::errc() || stop != end || !std::isfinite(field.number)) {
        return "invalid number (a finite decimal number such as 12.5 or 1e3)";
      }
      return nullptr;
    }
    default:
      return nullptr;
  }
}

// The unquoted value `value` read into `field`: its type, a boolean's value,
// and with `with_number` a number's value; the reason when it is none of the types.
const char* read_unquoted(std::string_view value, LineField& field, bool with_number) {
  if (value.empty()) return "missing field value";
  field.value = value;
  static constexpr std::string_view kTrue[] = {"t", "T", "true", "True", "TRUE"};
  static constexpr std::string_view kFalse[] = {"f", "F", "false", "False", "FALSE"};
  for (const std::string_view word : kTrue) {
    if (value == word) {
      field.type = FieldType::boolean;
      field.boolean = true;
      return nullptr;
    }
  }
  for (const std::string_view word : kFalse) {
    if (value == word) {
      field.type = FieldType::boolean;
      field.boolean = false;
      return nullptr;
    }
  }
  if (value.back() == 'i') {
    field.type = FieldType::integer;
  } else if (value.back() == 'u') {
    field.type = FieldType::unsigned_integer;
  } else {
    field.type = FieldType::float_number;
    const char first = value[0] == '-' && value.size() > 1 ? value[1] : value[0];
    if (!((first >= '0' && first <= '9') || first == '.')) {
      return "invalid field value (a number, 12i, 12u, true, false or a \"quoted string\")";
    }
  }
  return with_number ? parse_number(field) : nullptr;
}

// The field starting at `at` of a line: into `field`, and where it ends (its
// ',' or the end of the field set); `reason` set when it is not a field.
std::size_t read_field(std::string_view text, std::size_t at, LineField& field, const char*& reason,
                       bool with_number) {
  const std::size_t equals = scan(text, at, ',', '=', ' ');
  if (line_ends_at(text, equals) || text[equals] != '=') {
    reason = "invalid field format (key=value)";
    return equals;
  }
  if (equals == at) {
    reason = "missing field key";
    return equals;
  }
  field = LineField{};
  field.key = text.substr(at, equals - at);
  const std::size_t value_at = equals + 1;
  if (value_at < text.size() && text[value_at] == '"') {
    const std::size_t quote = closing_quote(text, value_at + 1);
    if (quote == std::string_view::npos) {
      reason = "unterminated string (a string field ends with an unescaped \")";
      return text.size();
    }
    field.type = FieldType::string;
    field.value = text.substr(value_at + 1, quote - value_at - 1);
    return quote + 1;
  }
  const std::size_t end = scan(text, value_at, ',', ' ', ' ');
  reason = read_unquoted(text.substr(value_at, end - value_at), field, with_number);
  return end;
}

}  // namespace

void read_number(LineField& field) { parse_number(field); }

bool TagCursor::next(LineTag& tag) {
  if (rest_.empty()) return false;
  const std::size_t equals = scan_part(rest_, 0, '=');
  const std::size_t end = scan_part(rest_, equals + 1, ',');
  tag.key = rest_.substr(0, equals);
  tag.value = rest_.substr(equals + 1, end - equals - 1);
  rest_.remove_prefix(std::min(end + 1, rest_.size()));
  return true;
}

bool FieldCursor::next(LineField& field) {
  if (rest_.empty()) return false;
  const char* reason = nullptr;
  const std::size_t end = read_field(rest_, 0, field, reason, false);
  rest_.remove_prefix(std::min(end + 1, rest_.size()));
  return true;
}

LineReader::Next LineReader::next(Line& line, LineError& error) {
  for (;;) {
    std::size_t at = 0;
    while (at < rest_.size() && is_blank(rest_[at])) ++at;
    if (at == rest_.size()) {
      rest_ = {};
      return Next::end;
    }
    ++number_;
    const std::size_t start = at;
    // Skips the rest of the line from `from` (comments, errors).
    const auto skip_line = [this](std::size_t from) {
      const std::size_t newline = rest_.find('\n', from);
      const std::string_view text = rest_.substr(0, newline);
      for (const char c : text) number_ += c == '\n' ? 1 : 0;  // inside string fields
      rest_.remove_prefix(newline == std::string_view::npos ? rest_.size() : newline + 1);
      return text;
    };
    if (line_ends_at(rest_, at) || rest_[at] == '#') {
      skip_line(at);
      continue;
    }
    const auto fail = [&](std::size_t from, const char* reason) {
      error.number = number_;
      const std::string_view text = skip_line(from);
      error.text = text.substr(start);
      if (!error.text.empty() && error.text.back() == '\r') error.text.remove_suffix(1);
      error.reason = reason;
      return Next::error;
    };
    const std::size_t measurement_end = scan(rest_, at, ',', ' ', ' ');
    if (measurement_end == at) return fail(at, "missing measurement");
    line = Line{};
    line.number = number_;
    line.measurement = rest_.substr(at, measurement_end - at);
    at = measurement_end;
    if (line_ends_at(rest_, at)) return fail(at, "missing fields");
    if (rest_[at] == ',') {
      const std::size_t tags_start = at + 1;
      for (;;) {
        const std::size_t key_start = at + 1;
        const std::size_t equals = scan(rest_, key_start, ',', '=', ' ');
        if (line_ends_at(rest_, equals) || rest_[equals] != '=') return fail(equals, "invalid tag format (key=value)");
        if (equals == key_start) return fail(equals, "missing tag key");
        const std::size_t value_end = scan(rest_, equals + 1, ',', '=', ' ');
        if (value_end == equals + 1) return fail(value_end, "missing tag value");
        at = value_end;
        if (line_ends_at(rest_, at)) return fail(at, "missing fields");
        if (rest_[at] == '=') return fail(at, "invalid tag format (an '=' in a tag value must be escaped: \\=)");
        if (rest_[at] == ' ') break;
      }
      line.tags = rest_.substr(tags_start, at - tags_start);
    }
    while (at < rest_.size() && rest_[at] == ' ') ++at;
    if (line_ends_at(rest_, at)) return fail(at, "missing fields");
    const std::size_t fields_start = at;
    LineField field;
    for (;;) {
      const char* reason = nullptr;
      at = read_field(rest_, at, field, reason, true);
      if (reason != nullptr) return fail(at, reason);
      if (line_ends_at(rest_, at) || rest_[at] != ',') break;
      ++at;
    }
    line.fields = rest_.substr(fields_start, at - fields_start);
    if (!line_ends_at(rest_, at) && rest_[at] != ' ') return fail(at, "invalid field format (fields end with a space or the line)");
    while (at < rest_.size() && is_blank(rest_[at])) ++at;
    if (!line_ends_at(rest_, at)) {
      std::size_t end = at;
      while (!line_ends_at(rest_, end) && !is_blank(rest_[end])) ++end;
      std::int64_t timestamp = 0;
      if (!whole_number(rest_.substr(at, end - at), timestamp)) {
        return fail(at, "invalid timestamp (a whole number in the request's precision)");
      }
      line.timestamp = timestamp;
      at = end;
      while (at < rest_.size() && is_blank(rest_[at])) ++at;
      if (!line_ends_at(rest_, at)) return fail(at, "unexpected text after the timestamp");
    }
    std::size_t text_end = at;
    while (text_end > start && (is_blank(rest_[text_end - 1]))) --text_end;
    line.text = rest_.substr(start, text_end - start);
    for (const char c : rest_.substr(start, at - start)) number_ += c == '\n' ? 1 : 0;  // inside string fields
    if (at < rest_.size() && rest_[at] == '\r') ++at;
    rest_.remove_prefix(std::min(at + 1, rest_.size()));
    return Next::line;
  }
}

void unescape(std::string_view text, Escaped part, std::string& out) {
  out.clear();
  std::string_view escapable = part == Escaped::measurement      ? std::string_view(", ")
                               : part == Escaped::key_or_tag_value ? std::string_view(",= ")
                                                                   : std::string_view("\"\\");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && escapable.find(text[i + 1]) != std::string_view::npos) {
      out.push_back(text[++i]);
    } else {
      out.push_back(text[i]);
    }
  }
}

std::optional<Precision> precision_from_name(std::string_view name) {
  if (name == "ns" || name == "n") return Precision::ns;
  if (name == "us" || name == "u") return Precision::us;
  if (name == "ms") return Precision::ms;
  if (name == "s") return Precision::s;
  if (name == "m") return Precision::m;
  if (name == "h") return Precision::h;
  return std::nullopt;
}

std::optional<std::int64_t> timestamp_to_ms(std::int64_t timestamp, Precision precision) {
  const auto divided = [timestamp](std::int64_t divisor) {
    // Rounded to the nearest, halves away from zero.
    const std::int64_t quotient = timestamp / divisor;
    const std::int64_t remainder = timestamp % divisor;
    if (2 * remainder >= divisor) return quotient + 1;
    if (2 * remainder <= -divisor) return quotient - 1;
    return quotient;
  };
  const auto multiplied = [timestamp](std::int64_t factor) -> std::optional<std::int64_t> {
    std::int64_t product = 0;
    if (__builtin_mul_overflow(timestamp, factor, &product)) return std::nullopt;
    return product;
  };
  switch (precision) {
    case Precision::ns: return divided(1'000'000);
    case Precision::us: return divided(1'000);
    case Precision::ms: return timestamp;
    case Precision::s: return multiplied(1'000);
    case Precision::m: return multiplied(60'000);
    case Precision::h: return multiplied(3'600'000);
  }
  return std::nullopt;
}

}  // namespace servertrack::ingest
