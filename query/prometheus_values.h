// The three series ServerTrack offers Prometheus and Grafana, and the one
// place that reads a value out of a snapshot's windows (README, "Grafana and
// Prometheus"): the scrape endpoint (query/prometheus_export.h) and the PromQL
// evaluator (query/promql_eval.h) both read through it.
//
//   servertrack_cpu_percent{server="web-01"}  a bucket's mean cpu
//   servertrack_ram_percent{server="web-01"}  a bucket's mean ram
//   servertrack_cpu_samples{server="web-01"}  how many cpu values the bucket counts
//   servertrack_ram_samples{server="web-01"}  how many ram values the bucket counts
// (a sample may carry cpu, ram or both, so each metric counts its own).
//
// The value of a series at time t is its bucket that holds t: the minute
// bucket inside the last 60 minutes, the hour bucket inside the last 24 hours,
// the UTC day bucket inside the segment's day window, nothing before (or after
// the current minute). A bucket without a value of the metric has no value
// (not 0). Pure functions; any thread; no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "shm/segment.h"

namespace servertrack::query {

enum class Metric { cpu, ram, cpu_samples, ram_samples };

struct MetricInfo {
  Metric metric;
  std::string_view name;
  std::string_view help;
};

inline constexpr std::array<MetricInfo, 4> kMetrics = {{
    {Metric::cpu, "servertrack_cpu_percent", "Mean cpu use reported by the server over the bucket, in percent."},
    {Metric::ram, "servertrack_ram_percent", "Mean ram use reported by the server over the bucket, in percent."},
    {Metric::cpu_samples, "servertrack_cpu_samples", "Samples with a cpu value the server reported in the bucket."},
    {Metric::ram_samples, "servertrack_ram_samples", "Samples with a ram value the server reported in the bucket."},
}};

// The label every series carries besides __name__.
inline constexpr std::string_view kServerLabel = "server";

// One bucket's value of `metric`; nullopt when it holds no value of that metric.
std::optional<double> bucket_value(const shm::BucketMean& bucket, Metric metric) noexcept;

// The value of `metric` at unix second `t` in a snapshot taken at any time:
// the minute bucket holding t, else the hour bucket, else the day bucket, else
// nullopt.
std::optional<double> value_at(const shm::Snapshot& snapshot, Metric metric, std::int64_t t) noexcept;

}  // namespace servertrack::query
