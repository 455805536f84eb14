#include "query/prometheus_params.h"
#include "shm/layout.h"

#include <charconv>
#include <cmath>
#include <ctime>

namespace servertrack::query {
namespace {

constexpr double kMaxMs = 10'000.0 * 366 * shm::kSecondsPerDay * 1000;

// Seconds written as a decimal number.
std::optional<std::int64_t> seconds_ms(std::string_view text) {
  if (text.empty() || text.front() == '+') return std::nullopt;
  double seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds)) return std::nullopt;
  const double ms = seconds * 1000;
  if (std::fabs(ms) > kMaxMs) return std::nullopt;
  return static_cast<std::int64_t>(ms);
}

// `count` digits at `at` as a number, or -1.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
std::optional<std::int64_t> rfc3339_ms(std::string_view text) {
  const int year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const int hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (text.size() < 20 || year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 || text[4] != '-' ||
      text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (text[at] == '.') {
    ++at;
    const std::size_t first = at;
    std::int64_t scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      ms += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    offset = 0;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    const int offset_hours = digits(text, at + 1, 2), offset_minutes = digits(text, at + 4, 2);
    if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) return std::nullopt;
    offset = (offset_hours * shm::kSecondsPerHour + offset_minutes * shm::kSecondsPerMinute) * (text[at] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm fields{};
  fields.tm_year = year - 1900;
  fields.tm_mon = month - 1;
  fields.tm_mday = day;
  fields.tm_hour = hour;
  fields.tm_min = minute;
  fields.tm_sec = second;
  const std::int64_t unix = static_cast<std::int64_t>(timegm(&fields)) - offset;
  return unix * 1000 + ms;
}

}  // namespace

std::optional<std::int64_t> parse_time_ms(std::string_view text) {
  if (auto ms = seconds_ms(text)) return ms;
  return rfc3339_ms(text);
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  if (auto ms = seconds_ms(text)) return ms;
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    std::int64_t count = 0;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      count = count * 10 + (text[at] - '0');
      if (count > 1'000'000'000'000) return std::nullopt;
      ++at;
    }
    if (at == first) return std::nullopt;
    std::size_t unit_end = at;
    while (unit_end < text.size() && text[unit_end] >= 'a' && text[unit_end] <= 'z') ++unit_end;
    const std::string_view unit = text.substr(at, unit_end - at);
    double unit_ms = 0;
    if (unit == "ms") {
      unit_ms = 1;
    } else if (unit == "s") {
      unit_ms = 1000;
    } else if (unit == "m") {
      unit_ms = 60'000;
    } else if (unit == "h") {
      unit_ms = 3'600'000;
    } else if (unit == "d") {
      unit_ms = 86'400'000;
    } else if (unit == "w") {
      unit_ms = 7 * 86'400'000.0;
    } else if (unit == "y") {
      unit_ms = 365 * 86'400'000.0;
    } else {
      return std::nullopt;
    }
    total += static_cast<double>(count) * unit_ms;
    at = unit_end;
  }
  if (total > kMaxMs) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

}  // namespace servertrack::query
