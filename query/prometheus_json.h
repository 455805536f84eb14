// The JSON of the Prometheus HTTP API (query/prometheus_api.h), in
// Prometheus's envelopes: {"status":"success","data":...} or
// {"status":"error","errorType":"bad_data","error":"..."}. Sample values are
// strings ("12.5", "NaN", "+Inf"), timestamps unix seconds with up to three
// decimals; series are listed sorted by their labels.
//
// Pure functions of their arguments; any thread; append to the caller's buffer.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "query/promql_eval.h"

namespace servertrack::query {

// An instant query: a "scalar" or a "vector" of the series with a value.
void append_instant_json(const promql::Value& value, std::int64_t time_ms, fmt::memory_buffer& out);
// A range query: a "matrix" of the series with at least one value (a scalar is
// one series without labels).
void append_range_json(const promql::Value& value, const promql::Times& times, fmt::memory_buffer& out);
// /api/v1/series: the label sets.
void append_series_json(const std::vector<promql::Labels>& series, fmt::memory_buffer& out);
// /api/v1/labels and /api/v1/label/<name>/values: the strings.
void append_strings_json(const std::vector<std::string>& strings, fmt::memory_buffer& out);
void append_error_json(const promql::QueryError& error, fmt::memory_buffer& out);

// A sample value as Prometheus writes one: shortest round-trip digits, NaN, +Inf, -Inf.
void append_sample_value(double value, fmt::memory_buffer& out);

}  // namespace servertrack::query
