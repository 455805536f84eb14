#include "ingest/ingest_routes.h"

#include <memory>
#include <optional>
#include <unordered_set>

#include "http/answer.h"
#include "http/worker_log.h"
#include "common/clock.h"
#include "common/json_string.h"
#include "http/metrics.h"
#include "ingest/batch_answer.h"
#include "ingest/ingest_counters.h"
#include "ingest/ingest_state.h"
#include "ingest/collectd_route.h"
#include "ingest/line_protocol_routes.h"
#include "http/request_body.h"
#include "http/server_path.h"
#include "http/status_answers.h"
#include "shm/name.h"
#include "ingest/sample_parser.h"
#include "ingest/sample_recorder.h"

namespace servertrack::ingest {
namespace {

constexpr const char* kBatchExample =
    R"(; send an object like {"web-01": {"cpu": 12.5, "ram": 40.1}, "db-2": [{"cpu": 3, "ram": 71, "time": 1767225600}]})";

struct Connection {
  http::RequestBody body{kParserPadding};
  SampleParser parser;
};

Connection& this_thread_connection() {
  thread_local Connection connection;
  return connection;
}

// The body; nullptr when the response is set.
Connection* read_body(Ingest& ingest, httplib::Response& res, const httplib::ContentReader& reader) {
  Connection& connection = this_thread_connection();
  if (!http::read_request_body(reader, res, connection.body)) {
    ingest.counters.count_rejected(Rejection::unreadable_body);
    return nullptr;
  }
  return &connection;
}

// POST /server/<name> once its body is read (the token was checked before), on
// either path: one sample (204), or an array of that server's samples (200, BatchAnswer).
http::Answer answer_sample(Ingest& ingest, std::string_view name, Connection& connection) {
  simdjson::dom::element root;
  const simdjson::error_code error = connection.parser.parse_document(connection.body.view(), root);
  const std::int64_t now = common::wall_clock_unix_seconds();
  std::optional<Refusal> refusal;
  if (!error && root.type() == simdjson::dom::element_type::ARRAY) {
    if (shm::is_valid_name(name)) {
      BatchAnswer batch(ingest.segment, ingest.counters, now);
      batch.record(name, root);
      return batch.answer();
    }
    refusal = refuse_body(ingest.counters, 400, Rejection::invalid_name, http::kInvalidNameMessage);
  } else {
    refusal = record_sample(ingest.segment, ingest.counters, name, sample_from_document(error, root), now);
  }
  if (!refusal) {
    http::Answer recorded;
    recorded.status = 204;
    return recorded;
  }
  return refusal->http_status == 503 ? http::retry_later(refusal->message)
                                     : http::json_error(refusal->http_status, refusal->message);
}

void record_one(Ingest& ingest, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader) {
  Connection* connection = read_body(ingest, res, reader);
  if (connection != nullptr) http::set_answer(res, answer_sample(ingest, http::server_name(req), *connection));
}

// The fast path's POST /server/<name> (the fast path has checked the token).
std::optional<http::Answer> record_one_fast(Ingest& ingest, const http::FastRequest& request) {
  Connection& connection = this_thread_connection();
  connection.body.clear();
  if (!connection.body.append(request.body.data(), request.body.size())) return std::nullopt;
  return answer_sample(ingest, request.name, connection);
}

void record_batch(Ingest& ingest, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  Connection* connection = read_body(ingest, res, reader);
  if (connection == nullptr) return;
  simdjson::dom::element root;
  if (const auto error = connection->parser.parse_document(connection->body.view(), root)) {
    const Refusal refusal =
        refuse_body(ingest.counters, 400, Rejection::invalid_json,
                    std::string("the body is not valid JSON (") + simdjson::error_message(error) +
                        ")" + kBatchExample);
    http::set_json_error(res, refusal.http_status, refusal.message);
    return;
  }
  simdjson::dom::object entries;
  if (root.get(entries) != simdjson::SUCCESS) {
    const Refusal refusal = refuse_body(
        ingest.counters, 400, Rejection::invalid_json,
        std::string("the body is ") + json_type_name(root.type()) + ", not a JSON object" +
            kBatchExample);
    http::set_json_error(res, refusal.http_status, refusal.message);
    return;
  }
  http::AccessDecision access = ingest.access.decide(req);
  for (const auto entry : entries) {
    if (!entry.key.starts_with(access.prefix)) {
      const std::string message = "this token may only write samples for servers whose names start with " +
                                  common::json_string(access.prefix) + "; nothing was recorded";
      access.status = 403;
      access.message = message;
      access.name = entry.key;
      http::log_refusal(access, req.method);
      http::set_answer(res, http::refusal_answer(access));
      return;
    }
  }
  thread_local std::unordered_set<std::string_view> seen;
  seen.clear();
  BatchAnswer batch(ingest.segment, ingest.counters, common::wall_clock_unix_seconds());
  for (const auto entry : entries) {
    if (seen.insert(entry.key).second) {
      batch.record(entry.key, entry.value);
      continue;
    }
    ingest.counters.count_rejected(Rejection::duplicate_name);
    batch.refuse(entry.key, Refusal{400, Rejection::duplicate_name,
                                    "the name appears more than once in this batch; only its first "
                                    "entry was considered"});
  }
  http::set_answer(res, batch.answer());
}

// DELETE /server/<name>: the server and its data are gone, its slot free.
void forget_one(Ingest& ingest, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader) {
  if (read_body(ingest, res, reader) == nullptr) return;
  const std::string_view name = http::server_name(req);
  const shm::Status status = ingest.segment.forget(name, common::wall_clock_unix_seconds());
  const http::AccessDecision access = ingest.access.decide(req);
  http::log_line("DELETE /server/<name> name {}, token {}: {}", common::json_string(name),
                 access.label.empty() ? std::string("none (no token needed)") : common::json_string(access.label),
                 shm::describe(status));
  if (status == shm::Status::ok) {
    res.status = 204;
    return;
  }
  http::set_answer(res, http::status_answer(status, {.name = name, .days = ingest.segment.days()}));
}

}  // namespace

void add_ingest_routes(httplib::Server& server, http::FastRoutes& fast, shm::Segment& segment,
                       http::WorkerMetrics& metrics, const http::AccessPolicy& access) {
  auto ingest = std::make_shared<Ingest>(segment, access);
  fast.post_server = [ingest](const http::FastRequest& request) { return record_one_fast(*ingest, request); };
  metrics.add_families([ingest](std::string& out) { ingest->counters.render(out); });
  server.Post(http::kServerRoute, [ingest](const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader) {
    record_one(*ingest, req, res, reader);
  });
  server.Post("/servers", [ingest](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
    record_batch(*ingest, req, res, reader);
  });
  add_line_protocol_routes(server, ingest);
  add_collectd_route(server, ingest);
  server.Delete(http::kServerRoute, [ingest](const httplib::Request& req, httplib::Response& res,
                                             const httplib::ContentReader& reader) {
    forget_one(*ingest, req, res, reader);
  });
}

}  // namespace servertrack::ingest
