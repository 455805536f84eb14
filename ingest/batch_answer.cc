#include "ingest/batch_answer.h"

#include <fmt/format.h>

#include <iterator>

#include "common/json_string.h"

namespace servertrack::ingest {
namespace {

fmt::memory_buffer& this_thread_body() {
  thread_local fmt::memory_buffer body;
  return body;
}

bool means_later(Rejection reason) {
  return reason == Rejection::slot_busy || reason == Rejection::table_full;
}

}  // namespace

BatchAnswer::BatchAnswer(shm::Segment& segment, IngestCounters& counters, std::int64_t now)
    : segment_(segment), counters_(counters), now_(now) {
  this_thread_body().clear();
  fmt::format_to(std::back_inserter(this_thread_body()), "{{\"rejected\":[");
}

std::optional<Refusal> BatchAnswer::record_item(std::string_view name, simdjson::dom::element value) {
  std::optional<Refusal> refusal = record_sample(segment_, counters_, name, sample_from_json(value), now_);
  if (!refusal) ++recorded_;
  return refusal;
}

void BatchAnswer::record(std::string_view name, simdjson::dom::element value) {
  simdjson::dom::array items;
  if (value.get(items) != simdjson::SUCCESS) {
    if (const auto refusal = record_item(name, value)) report(name, std::nullopt, *refusal);
    return;
  }
  std::size_t index = 0;
  std::optional<std::size_t> stopped_at;
  Rejection stopped_reason{};
  for (const simdjson::dom::element item : items) {
    if (stopped_at) {
      counters_.count_rejected(stopped_reason);
      report(name, index++,
             Refusal{503, stopped_reason,
                     fmt::format("not tried: item {} of this array was refused ({}); send the "
                                 "array again from that item",
                                 *stopped_at, rejection_label(stopped_reason))});
      continue;
    }
    if (const auto refusal = record_item(name, item)) {
      report(name, index, *refusal);
      if (means_later(refusal->reason)) {
        stopped_at = index;
        stopped_reason = refusal->reason;
      }
    }
    ++index;
  }
}

void BatchAnswer::refuse(std::string_view name, const Refusal& refusal) {
  report(name, std::nullopt, refusal);
}

void BatchAnswer::report(std::string_view name, std::optional<std::size_t> index, const Refusal& refusal) {
  auto out = std::back_inserter(this_thread_body());
  fmt::format_to(out, "{}{{\"name\":{},", rejected_++ ? "," : "", common::json_string(name));
  if (index) fmt::format_to(out, "\"index\":{},", *index);
  fmt::format_to(out, "\"reason\":\"{}\",\"error\":{}}}", rejection_label(refusal.reason),
                 common::json_string(refusal.message));
}

http::Answer BatchAnswer::answer() {
  fmt::memory_buffer& body = this_thread_body();
  fmt::format_to(std::back_inserter(body), "],\"recorded\":{}}}", recorded_);
  return http::Answer{.status = 200, .body = std::string_view(body.data(), body.size()),
                      .content_type = "application/json", .retry_after = false, .authenticate = {}};
}

}  // namespace servertrack::ingest
