#include "ingest/line_protocol_routes.h"

#include <fmt/format.h>

#include <cctype>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/json_string.h"
#include "http/answer.h"
#include "http/request_body.h"
#include "ingest/foreign_batch.h"
#include "ingest/line_protocol.h"
#include "ingest/line_sample.h"

namespace servertrack::ingest {
namespace {

constexpr const char* kTooLarge =
    "the body is larger than 64 KiB, or 1 MiB once inflated; send fewer lines per request "
    "(Telegraf: metric_batch_size) or gzip them (content_encoding = \"gzip\")";

enum class Api { v1, v2 };

// The error body of each API: v1 {"error": ...}, v2 {"code": "invalid", "message": ...}.
http::Answer api_error(Api api, int status, std::string_view message) {
  if (api == Api::v1) return http::json_error(status, message);
  thread_local std::string body;
  body = fmt::format("{{\"code\":\"invalid\",\"message\":{}}}", common::json_string(message));
  return http::Answer{.status = status, .body = body, .content_type = "application/json",
                      .retry_after = false, .authenticate = {}};
}

// "line 3: unable to parse 'cpu v=abc': invalid field value (...)", the line cut at 200 bytes.
std::string parse_refusal(const LineError& error) {
  constexpr std::size_t kShown = 200;
  const std::string_view shown = error.text.substr(0, kShown);
  return fmt::format("unable to parse '{}{}': {}", shown, error.text.size() > kShown ? "..." : "",
                     error.reason);
}

http::Answer write_lines(Ingest& ingest, Api api, const httplib::Request& req, std::string_view body) {
  const std::string precision_name = req.has_param("precision") ? req.get_param_value("precision") : "ns";
  const auto precision = precision_from_name(precision_name);
  if (!precision) {
    return api_error(api, 400,
                     fmt::format("precision {} is not one of ns, u (us), ms, s, m, h",
                                 common::json_string(precision_name)));
  }
  const http::AccessDecision access = ingest.access.decide(req);
  ForeignBatch batch(ingest, access.prefix, common::wall_clock_unix_seconds(), "line");
  LineReader reader(body);
  Line line;
  LineError error;
  std::uint64_t ignored = 0;
  for (;;) {
    const LineReader::Next next = reader.next(line, error);
    if (next == LineReader::Next::end) break;
    if (next == LineReader::Next::error) {
      batch.refuse(error.number, Rejection::invalid_line, parse_refusal(error));
      continue;
    }
    const LineSample mapped = line_sample(line, *precision);
    switch (mapped.kind) {
      case LineSample::Kind::ignored: ++ignored; break;
      case LineSample::Kind::refused: batch.refuse(line.number, mapped.reason, mapped.message); break;
      case LineSample::Kind::sample: batch.record(line.number, mapped.name, mapped.sample); break;
    }
  }
  ingest.counters.count_ignored_lines(ignored);
  return api == Api::v1 ? batch.answer("error", "") : batch.answer("message", "\"code\":\"invalid\",");
}

void write(Ingest& ingest, Api api, const httplib::Request& req, httplib::Response& res,
           const httplib::ContentReader& reader) {
  thread_local http::RequestBody body(0, kMaxLineProtocolBytes, kTooLarge);
  if (!http::read_request_body(reader, res, body)) {
    ingest.counters.count_rejected(Rejection::unreadable_body);
    if (api == Api::v2) http::set_answer(res, api_error(api, res.status, res.status == 413 ? kTooLarge : "the body could not be read completely; send it again"));
    return;
  }
  http::set_answer(res, write_lines(ingest, api, req, body.view()));
}

bool is_create_database(std::string_view query) {
  while (!query.empty() && std::isspace(static_cast<unsigned char>(query.front()))) query.remove_prefix(1);
  constexpr std::string_view kCreate = "create database ";
  if (query.size() <= kCreate.size()) return false;
  for (std::size_t i = 0; i < kCreate.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(query[i])) != kCreate[i]) return false;
  }
  return true;
}

// /query: CREATE DATABASE answered as InfluxDB 1.x does; nothing else. `q`
// is in the query string, or in a POST's form body.
void query(Ingest& ingest, const httplib::Request& req, httplib::Response& res,
           const httplib::ContentReader* reader) {
  std::string q = req.get_param_value("q");
  if (reader != nullptr) {
    thread_local http::RequestBody body(0);
    if (!http::read_request_body(*reader, res, body)) {
      ingest.counters.count_rejected(Rejection::unreadable_body);
      return;
    }
    httplib::Params form;
    httplib::detail::parse_query_text(std::string(body.view()), form);
    if (const auto found = form.find("q"); found != form.end()) q = found->second;
  }
  if (is_create_database(q)) {
    res.status = 200;
    res.set_content(R"({"results":[{"statement_id":0}]})", "application/json");
    return;
  }
  http::set_json_error(res, 400,
                       "this is ServerTrack's ingest port: /query answers only CREATE DATABASE (for "
                       "clients that create theirs); read samples from the query port's GET "
                       "/server/<name>");
}

void ping(const httplib::Request&, httplib::Response& res) {
  res.status = 204;
  // The version of InfluxDB's API answered here (clients print it).
  res.set_header("X-Influxdb-Version", "1.8.10");
}

}  // namespace

void add_line_protocol_routes(httplib::Server& server, std::shared_ptr<Ingest> ingest) {
  server.Post("/write", [ingest](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
    write(*ingest, Api::v1, req, res, reader);
  });
  server.Post("/api/v2/write", [ingest](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    write(*ingest, Api::v2, req, res, reader);
  });
  server.Get("/ping", ping);
  server.Get("/query", [ingest](const httplib::Request& req, httplib::Response& res) {
    query(*ingest, req, res, nullptr);
  });
  server.Post("/query", [ingest](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) { query(*ingest, req, res, &reader); });
}

}  // namespace servertrack::ingest
