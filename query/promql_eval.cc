#include "query/promql_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include "query/prometheus_values.h"

namespace servertrack::query::promql {
namespace {

constexpr std::string_view kNameLabel = "__name__";

struct EvalError {
  QueryError error;
};

[[noreturn]] void fail(const char* type, int status, std::string message) {
  throw EvalError{{type, status, std::move(message)}};
}

std::int64_t floor_seconds(std::int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

// A server the selector's label matchers accept, with the metrics its
// __name__ matchers accept.
struct Selected {
  std::string server;
  shm::Slot* slot;
};

struct Selection {
  std::vector<const MetricInfo*> metrics;
  std::vector<Selected> servers;
};

Selection select(const VectorSelector& selector, shm::Segment& segment, std::int64_t now, std::int64_t since,
                 std::string_view name_prefix) {
  Selection selection;
  for (const MetricInfo& info : kMetrics) {
    bool accepted = true;
    for (const LabelMatcher& matcher : selector.matchers) {
      if (matcher.label == kNameLabel) accepted = accepted && matcher.matches(info.name);
    }
    if (accepted) selection.metrics.push_back(&info);
  }
  if (selection.metrics.empty()) return selection;
  bool too_many = false;
  segment.for_each_server(
      [&](const shm::ServerEntry& entry) {
        if (too_many || entry.last_sample_unix <= 0 || entry.last_sample_unix < since) return;
        if (!entry.name.starts_with(name_prefix)) return;
        for (const LabelMatcher& matcher : selector.matchers) {
          if (matcher.label == kNameLabel) continue;
          if (!matcher.matches(matcher.label == kServerLabel ? entry.name : std::string_view())) return;
        }
        if (selection.servers.size() == kMaxSelectedServers) {
          too_many = true;
          return;
        }
        selection.servers.push_back({std::string(entry.name), entry.slot});
      },
      now);
  if (too_many) {
    fail("bad_data", 400,
         fmt::format("the selector matches more than {} servers; narrow it with a server matcher "
                     "(server=~\"web-.*\"), or let Prometheus scrape /export/prometheus",
                     kMaxSelectedServers));
  }
  return selection;
}

Labels series_labels(std::string_view metric, std::string_view server) {
  return {{std::string(kNameLabel), std::string(metric)}, {std::string(kServerLabel), std::string(server)}};
}

class Evaluator {
 public:
  Evaluator(shm::Segment& segment, const Times& times, std::int64_t now, std::string_view name_prefix)
      : segment_(segment), times_(times), now_(now), name_prefix_(name_prefix) {}

  Value eval(const Expr& expr) {
    return std::visit([this](const auto& node) { return eval_node(node); }, expr.node);
  }

 private:
  Value eval_node(const NumberLiteral& number) { return std::vector<double>(times_.count, number.value); }

  Value eval_node(const VectorSelector& selector) {
    const Selection selection = select(selector, segment_, now_, 0, name_prefix_);
    const std::size_t points = selection.servers.size() * selection.metrics.size() * times_.count;
    loaded_points_ += points;
    if (loaded_points_ > kMaxLoadedPoints) {
      fail("bad_data", 400,
           fmt::format("the query would load more than {} points ({} series x {} steps); narrow the "
                       "selector or raise the step",
                       kMaxLoadedPoints, selection.servers.size() * selection.metrics.size(), times_.count));
    }
    std::vector<Series> out;
    out.reserve(selection.servers.size() * selection.metrics.size());
    for (const Selected& server : selection.servers) {
      shm::SlotCopy copy;
      const shm::Status status = segment_.copy_slot(*server.slot, copy);
      if (status == shm::Status::busy) {
        fail("unavailable", 503, "the segment stayed busy reading server " + server.server + "; retry");
      }
      if (status != shm::Status::ok || copy.name_view() != server.server) continue;  // deleted or reused
      const shm::Snapshot snapshot = shm::make_snapshot(copy, now_);
      for (const MetricInfo* metric : selection.metrics) {
        Series series{series_labels(metric->name, server.server), {}};
        series.values.reserve(times_.count);
        for (std::size_t i = 0; i < times_.count; ++i) {
          series.values.push_back(value_at(snapshot, metric->metric, floor_seconds(times_.at(i))));
        }
        out.push_back(std::move(series));
      }
    }
    return out;
  }

  static Labels group_labels(const Aggregation& aggregation, const Labels& labels) {
    Labels out;
    for (const auto& pair : labels) {
      const bool listed = std::find(aggregation.labels.begin(), aggregation.labels.end(), pair.first) !=
                          aggregation.labels.end();
      if (aggregation.without ? (!listed && pair.first != kNameLabel) : listed) out.push_back(pair);
    }
    return out;
  }

  Value eval_node(const Aggregation& aggregation) {
    std::vector<Series> input = std::get<std::vector<Series>>(eval(*aggregation.operand));
    std::map<Labels, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < input.size(); ++i) groups[group_labels(aggregation, input[i].labels)].push_back(i);
    if (aggregation.op == AggregateOp::topk || aggregation.op == AggregateOp::bottomk) {
      return select_k(aggregation, std::move(input), groups);
    }
    std::vector<Series> out;
    for (const auto& [labels, members] : groups) {
      Series series{labels, std::vector<std::optional<double>>(times_.count)};
      for (std::size_t t = 0; t < times_.count; ++t) {
        double sum = 0, low = 0, high = 0;
        std::size_t count = 0;
        for (const std::size_t member : members) {
          const std::optional<double>& value = input[member].values[t];
          if (!value) continue;
          sum += *value;
          low = count == 0 ? *value : std::min(low, *value);
          high = count == 0 ? *value : std::max(high, *value);
          ++count;
        }
        if (count == 0) continue;
        switch (aggregation.op) {
          case AggregateOp::sum: series.values[t] = sum; break;
          case AggregateOp::avg: series.values[t] = sum / static_cast<double>(count); break;
          case AggregateOp::min: series.values[t] = low; break;
          case AggregateOp::max: series.values[t] = high; break;
          case AggregateOp::count: series.values[t] = static_cast<double>(count); break;
          default: break;
        }
      }
      out.push_back(std::move(series));
    }
    return out;
  }

  // topk and bottomk: each input series keeps its labels and the values at
  // the times it is among the k largest (smallest) of its group.
  Value select_k(const Aggregation& aggregation, std::vector<Series> input,
                 const std::map<Labels, std::vector<std::size_t>>& groups) {
    const std::vector<double> k_values = std::get<std::vector<double>>(eval(*aggregation.parameter));
    std::vector<Series> out;
    out.reserve(input.size());
    for (const Series& series : input) out.push_back({series.labels, std::vector<std::optional<double>>(times_.count)});
    const bool largest = aggregation.op == AggregateOp::topk;
    std::vector<std::pair<double, std::size_t>> ranked;
    for (std::size_t t = 0; t < times_.count; ++t) {
      const double k_value = k_values[t];
      if (std::isnan(k_value) || k_value < 1) continue;
      const std::size_t k = k_value >= 1e9 ? input.size() : static_cast<std::size_t>(k_value);
      for (const auto& [labels, members] : groups) {
        ranked.clear();
        for (const std::size_t member : members) {
          if (input[member].values[t]) ranked.emplace_back(*input[member].values[t], member);
        }
        const std::size_t keep = std::min(k, ranked.size());
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(),
                          [largest](const auto& a, const auto& b) {
                            return largest ? a.first > b.first : a.first < b.first;
                          });
        for (std::size_t i = 0; i < keep; ++i) out[ranked[i].second].values[t] = ranked[i].first;
      }
    }
    return out;
  }

  static double arithmetic(BinaryOp op, double left, double right) {
    switch (op) {
      case BinaryOp::add: return left + right;
      case BinaryOp::subtract: return left - right;
      case BinaryOp::multiply: return left * right;
      case BinaryOp::divide: return left / right;
      default: return 0;
    }
  }

  static bool compare(BinaryOp op, double left, double right) {
    switch (op) {
      case BinaryOp::equal: return left == right;
      case BinaryOp::not_equal: return left != right;
      case BinaryOp::greater: return left > right;
      case BinaryOp::less: return left < right;
      case BinaryOp::greater_equal: return left >= right;
      case BinaryOp::less_equal: return left <= right;
      default: return false;
    }
  }

  // The value of `left op right`, or nullopt when a comparison filters it out.
  static std::optional<double> apply(const Binary& binary, double left, double right, double vector_side) {
    if (!is_comparison(binary.op)) return arithmetic(binary.op, left, right);
    const bool holds = compare(binary.op, left, right);
    if (binary.return_bool) return holds ? 1.0 : 0.0;
    return holds ? std::optional<double>(vector_side) : std::nullopt;
  }

  Value eval_node(const Binary& binary) {
    Value left = eval(*binary.left);
    Value right = eval(*binary.right);
    if (auto* left_scalar = std::get_if<std::vector<double>>(&left)) {
      if (auto* right_scalar = std::get_if<std::vector<double>>(&right)) {
        for (std::size_t t = 0; t < times_.count; ++t) {
          (*left_scalar)[t] = *apply(binary, (*left_scalar)[t], (*right_scalar)[t], 0);
        }
        return left;
      }
    }
    const bool vector_left = std::holds_alternative<std::vector<Series>>(left);
    std::vector<Series> series = std::move(std::get<std::vector<Series>>(vector_left ? left : right));
    const std::vector<double>& scalar = std::get<std::vector<double>>(vector_left ? right : left);
    const bool keeps_name = is_comparison(binary.op) && !binary.return_bool;
    for (Series& one : series) {
      if (!keeps_name && !one.labels.empty() && one.labels.front().first == kNameLabel) {
        one.labels.erase(one.labels.begin());
      }
      for (std::size_t t = 0; t < times_.count; ++t) {
        if (!one.values[t]) continue;
        const double value = *one.values[t];
        one.values[t] = vector_left ? apply(binary, value, scalar[t], value) : apply(binary, scalar[t], value, value);
      }
    }
    if (!keeps_name) reject_duplicate_labels(series);
    return series;
  }

  static void reject_duplicate_labels(const std::vector<Series>& series) {
    std::vector<const Labels*> sorted;
    sorted.reserve(series.size());
    for (const Series& one : series) sorted.push_back(&one.labels);
    std::sort(sorted.begin(), sorted.end(), [](const Labels* a, const Labels* b) { return *a < *b; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      if (*sorted[i] == *sorted[i - 1]) {
        fail("execution", 422,
             "vector cannot contain metrics with the same labelset (an operator dropped the metric name "
             "of series that differ by it alone; select one metric)");
      }
    }
  }

  shm::Segment& segment_;
  const Times& times_;
  std::int64_t now_;
  std::string_view name_prefix_;
  std::size_t loaded_points_ = 0;
};

}  // namespace

std::variant<Value, QueryError> evaluate(const Expr& expr, shm::Segment& segment, const Times& times,
                                         std::int64_t now, std::string_view name_prefix) {
  try {
    return Evaluator(segment, times, now, name_prefix).eval(expr);
  } catch (const EvalError& error) {
    return error.error;
  }
}

std::variant<std::vector<Labels>, QueryError> select_series(const VectorSelector& selector,
                                                            shm::Segment& segment, std::int64_t now,
                                                            std::int64_t since, std::string_view name_prefix) {
  try {
    const Selection selection = select(selector, segment, now, since, name_prefix);
    std::vector<Labels> out;
    out.reserve(selection.servers.size() * selection.metrics.size());
    for (const MetricInfo* metric : selection.metrics) {
      for (const Selected& server : selection.servers) out.push_back(series_labels(metric->name, server.server));
    }
    std::sort(out.begin(), out.end());
    return out;
  } catch (const EvalError& error) {
    return error.error;
  }
}

}  // namespace servertrack::query::promql
