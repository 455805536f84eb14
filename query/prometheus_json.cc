#include "query/prometheus_json.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "common/json_string.h"

namespace servertrack::query {
namespace {

void append_timestamp(std::int64_t ms, fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  const char* sign = ms < 0 ? "-" : "";
  const std::int64_t magnitude = ms < 0 ? -ms : ms;
  fmt::format_to(it, "{}{}", sign, magnitude / 1000);
  std::int64_t fraction = magnitude % 1000;
  if (fraction == 0) return;
  int width = 3;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --width;
  }
  fmt::format_to(it, ".{:0{}}", fraction, width);
}

void append_point(std::int64_t ms, double value, fmt::memory_buffer& out) {
  out.push_back('[');
  append_timestamp(ms, out);
  out.append(std::string_view(",\""));
  append_sample_value(value, out);
  out.append(std::string_view("\"]"));
}

void append_labels(const promql::Labels& labels, fmt::memory_buffer& out) {
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(out), "{}:{}", common::json_string(name), common::json_string(value));
  }
  out.push_back('}');
}

void append_success_start(const char* result_type, fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), "{{\"status\":\"success\",\"data\":{{\"resultType\":\"{}\",\"result\":",
                 result_type);
}

std::vector<const promql::Series*> sorted_series(const std::vector<promql::Series>& series) {
  std::vector<const promql::Series*> sorted;
  sorted.reserve(series.size());
  for (const promql::Series& one : series) sorted.push_back(&one);
  std::sort(sorted.begin(), sorted.end(),
            [](const promql::Series* a, const promql::Series* b) { return a->labels < b->labels; });
  return sorted;
}

}  // namespace

void append_sample_value(double value, fmt::memory_buffer& out) {
  if (std::isnan(value)) {
    out.append(std::string_view("NaN"));
  } else if (std::isinf(value)) {
    out.append(std::string_view(value > 0 ? "+Inf" : "-Inf"));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void append_instant_json(const promql::Value& value, std::int64_t time_ms, fmt::memory_buffer& out) {
  if (const auto* scalar = std::get_if<std::vector<double>>(&value)) {
    append_success_start("scalar", out);
    append_point(time_ms, scalar->front(), out);
  } else {
    append_success_start("vector", out);
    out.push_back('[');
    bool first = true;
    for (const promql::Series* series : sorted_series(std::get<std::vector<promql::Series>>(value))) {
      if (!series->values.front()) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(std::string_view("{\"metric\":"));
      append_labels(series->labels, out);
      out.append(std::string_view(",\"value\":"));
      append_point(time_ms, *series->values.front(), out);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.append(std::string_view("}}"));
}

void append_range_json(const promql::Value& value, const promql::Times& times, fmt::memory_buffer& out) {
  append_success_start("matrix", out);
  out.push_back('[');
  const auto append_values = [&](const auto& value_at) {
    out.append(std::string_view(",\"values\":["));
    bool first = true;
    for (std::size_t t = 0; t < times.count; ++t) {
      const std::optional<double> point = value_at(t);
      if (!point) continue;
      if (!first) out.push_back(',');
      first = false;
      append_point(times.at(t), *point, out);
    }
    out.append(std::string_view("]}"));
  };
  if (const auto* scalar = std::get_if<std::vector<double>>(&value)) {
    out.append(std::string_view("{\"metric\":{}"));
    append_values([scalar](std::size_t t) { return std::optional<double>((*scalar)[t]); });
  } else {
    bool first = true;
    for (const promql::Series* series : sorted_series(std::get<std::vector<promql::Series>>(value))) {
      if (std::none_of(series->values.begin(), series->values.end(), [](const auto& v) { return v.has_value(); })) {
        continue;
      }
      if (!first) out.push_back(',');
      first = false;
      out.append(std::string_view("{\"metric\":"));
      append_labels(series->labels, out);
      append_values([series](std::size_t t) { return series->values[t]; });
    }
  }
  out.append(std::string_view("]}}"));
}

void append_series_json(const std::vector<promql::Labels>& series, fmt::memory_buffer& out) {
  out.append(std::string_view("{\"status\":\"success\",\"data\":["));
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_labels(series[i], out);
  }
  out.append(std::string_view("]}"));
}

void append_strings_json(const std::vector<std::string>& strings, fmt::memory_buffer& out) {
  out.append(std::string_view("{\"status\":\"success\",\"data\":["));
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(common::json_string(strings[i]));
  }
  out.append(std::string_view("]}"));
}

void append_error_json(const promql::QueryError& error, fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), "{{\"status\":\"error\",\"errorType\":\"{}\",\"error\":{}}}", error.type,
                 common::json_string(error.message));
}

}  // namespace servertrack::query
