#include "ingest/ingest_routes.h"

#include <fmt/format.h>

#include <iterator>
#include <optional>
#include <unordered_set>

#include "http/bearer_token.h"
#include "http/clock.h"
#include "http/json_error.h"
#include "http/json_string.h"
#include "http/metrics.h"
#include "http/request_body.h"
#include "http/server_path.h"
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

// The body, read after the token check passed; nullptr when the response is set.
Connection* read_authorized_body(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader, const std::string& token) {
  thread_local Connection connection;
  if (!http::read_request_body(reader, res, connection.body)) {
    if (http::check_bearer_token(req, res, token)) {
      http::worker_metrics().count_rejected(http::Rejection::unreadable_body);
    }
    return nullptr;
  }
  if (!http::check_bearer_token(req, res, token)) return nullptr;
  return &connection;
}

void record_one(shm::Segment& segment, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader, const std::string& token) {
  Connection* connection = read_authorized_body(req, res, reader, token);
  if (connection == nullptr) return;
  const ParsedSample parsed = connection->parser.parse(connection->body.view());
  const auto refusal =
      record_sample(segment, http::server_name(req), parsed, http::wall_clock_unix_seconds());
  if (refusal) {
    if (refusal->http_status == 503) res.set_header("Retry-After", "1");
    http::set_json_error(res, refusal->http_status, refusal->message);
  } else {
    res.status = 204;
  }
}

void record_batch(shm::Segment& segment, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader, const std::string& token) {
  Connection* connection = read_authorized_body(req, res, reader, token);
  if (connection == nullptr) return;
  simdjson::dom::element root;
  if (const auto error = connection->parser.parse_document(connection->body.view(), root)) {
    const Refusal refusal =
        refuse_body(400, http::Rejection::invalid_json,
                    std::string("the body is not valid JSON (") + simdjson::error_message(error) +
                        ")" + kBatchExample);
    http::set_json_error(res, refusal.http_status, refusal.message);
    return;
  }
  simdjson::dom::object entries;
  if (root.get(entries) != simdjson::SUCCESS) {
    const Refusal refusal = refuse_body(
        400, http::Rejection::invalid_json,
        std::string("the body is ") + json_type_name(root.type()) + ", not a JSON object" +
            kBatchExample);
    http::set_json_error(res, refusal.http_status, refusal.message);
    return;
  }
  thread_local std::unordered_set<std::string_view> seen;
  thread_local fmt::memory_buffer answer;
  seen.clear();
  answer.clear();
  auto out = std::back_inserter(answer);
  const std::int64_t now = http::wall_clock_unix_seconds();
  std::size_t recorded = 0;
  std::size_t rejected = 0;
  // One refused sample: "index" only for an item of an array of samples.
  const auto report = [&](std::string_view name, std::optional<std::size_t> index, const Refusal& refusal) {
    fmt::format_to(out, "{}{{\"name\":{},", rejected++ ? "," : "", http::json_string(name));
    if (index) fmt::format_to(out, "\"index\":{},", *index);
    fmt::format_to(out, "\"reason\":\"{}\",\"error\":{}}}", http::rejection_label(refusal.reason),
                   http::json_string(refusal.message));
  };
  const auto record = [&](std::string_view name, std::optional<std::size_t> index, simdjson::dom::element value) {
    if (auto refusal = record_sample(segment, name, sample_from_json(value), now)) {
      report(name, index, *refusal);
    } else {
      ++recorded;
    }
  };
  fmt::format_to(out, "{{\"rejected\":[");
  for (const auto entry : entries) {
    if (!seen.insert(entry.key).second) {
      http::worker_metrics().count_rejected(http::Rejection::duplicate_name);
      report(entry.key, std::nullopt,
             Refusal{400, http::Rejection::duplicate_name,
                     "the name appears more than once in this batch; only its first entry "
                     "was considered"});
      continue;
    }
    simdjson::dom::array samples;
    if (entry.value.get(samples) != simdjson::SUCCESS) {
      record(entry.key, std::nullopt, entry.value);
      continue;
    }
    std::size_t index = 0;
    for (const auto item : samples) record(entry.key, index++, item);
  }
  fmt::format_to(out, "],\"recorded\":{}}}", recorded);
  res.set_content(answer.data(), answer.size(), "application/json");
}

// DELETE /server/<name>: the server and its data are gone, its slot free.
void forget_one(shm::Segment& segment, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader, const std::string& token) {
  if (read_authorized_body(req, res, reader, token) == nullptr) return;
  const std::string_view name = http::server_name(req);
  switch (segment.forget(name, http::wall_clock_unix_seconds())) {
    case shm::Status::ok:
      res.status = 204;
      return;
    case shm::Status::invalid_name:
      http::set_json_error(res, 400, http::kInvalidNameMessage);
      return;
    case shm::Status::not_found:
      http::set_json_error(res, 404, "no server named " + http::json_string(name) + " is being tracked");
      return;
    case shm::Status::busy:
      res.set_header("Retry-After", "1");
      http::set_json_error(res, 503, shm::describe(shm::Status::busy));
      return;
    default:
      http::set_json_error(res, 500, "the segment refused the delete");
  }
}

}  // namespace

void add_ingest_routes(httplib::Server& server, shm::Segment& segment, std::string ingest_token) {
  http::add_metrics_route(server, segment);
  server.Post(http::kServerRoute,
              [&segment, ingest_token](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
                record_one(segment, req, res, reader, ingest_token);
              });
  server.Post("/servers", [&segment, ingest_token](const httplib::Request& req,
                                                   httplib::Response& res,
                                                   const httplib::ContentReader& reader) {
    record_batch(segment, req, res, reader, ingest_token);
  });
  server.Delete(http::kServerRoute,
                [&segment, ingest_token](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
                  forget_one(segment, req, res, reader, ingest_token);
                });
}

}  // namespace servertrack::ingest
