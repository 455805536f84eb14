#include "ingest/foreign_batch.h"

#include <fmt/format.h>

#include <iterator>

#include "common/json_string.h"
#include "ingest/sample_recorder.h"

namespace servertrack::ingest {

ForeignBatch::ForeignBatch(Ingest& ingest, std::string_view prefix, std::int64_t now, const char* item_kind)
    : ingest_(ingest), prefix_(prefix), now_(now), item_kind_(item_kind) {}

void ForeignBatch::record(std::size_t item, std::string_view name, const Sample& sample) {
  if (!name.starts_with(prefix_)) {
    refuse(item, Rejection::forbidden_name,
           fmt::format("this token may only write samples for servers whose names start with {}; it "
                       "names {}",
                       common::json_string(prefix_), common::json_string(name)));
    return;
  }
  ParsedSample parsed;
  parsed.ok = true;
  parsed.sample = sample;
  const auto refusal = record_sample(ingest_.segment, ingest_.counters, name, parsed, now_);
  if (!refusal) {
    ++written_;
    return;
  }
  ++dropped_;
  later_ = later_ || refusal->http_status == 503;
  if (first_refusal_.empty()) {
    first_refusal_ = fmt::format("{} {} (host {}): {}", item_kind_, item, common::json_string(name), refusal->message);
  }
}

void ForeignBatch::refuse(std::size_t item, Rejection reason, std::string_view message) {
  ingest_.counters.count_rejected(reason);
  ++dropped_;
  if (first_refusal_.empty()) first_refusal_ = fmt::format("{} {}: {}", item_kind_, item, message);
}

http::Answer ForeignBatch::answer(std::string_view message_member, std::string_view extra_members) {
  if (dropped_ == 0) {
    http::Answer written;
    written.status = 204;
    return written;
  }
  thread_local std::string body;
  body.clear();
  fmt::format_to(std::back_inserter(body), "{{{}\"{}\":{},\"written\":{},\"dropped\":{}}}", extra_members,
                 message_member,
                 common::json_string(fmt::format("partial write: {} dropped={}", first_refusal_, dropped_)),
                 written_, dropped_);
  return http::Answer{.status = later_ ? 503 : 400, .body = body, .content_type = "application/json",
                      .retry_after = later_, .authenticate = {}};
}

}  // namespace servertrack::ingest
