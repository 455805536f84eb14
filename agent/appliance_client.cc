#include "agent/appliance_client.h"

#include <simdjson.h>

#include <algorithm>
#include <stdexcept>

#include "common/json_string.h"

namespace servertrack::agent {
namespace {

constexpr std::size_t kQuotedErrorBytes = 300;

bool retry_later(int status) { return status >= 500 || status == 408 || status == 429; }

// The {"error": "..."} sentence of an answer, or its first bytes.
std::string error_text(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view sentence;
  if (parser.parse(body).get_object()["error"].get_string().get(sentence) == simdjson::SUCCESS) {
    return std::string(sentence.substr(0, kQuotedErrorBytes));
  }
  return body.substr(0, kQuotedErrorBytes);
}

// The "rejected" items of a batch answer: [{"name", "index", "reason", "error"}, ...].
std::vector<RefusedItem> refused_items(const std::string& body) {
  std::vector<RefusedItem> items;
  simdjson::dom::parser parser;
  simdjson::dom::array rejected;
  if (parser.parse(body).get_object()["rejected"].get_array().get(rejected) != simdjson::SUCCESS) {
    return items;
  }
  for (simdjson::dom::element entry : rejected) {
    RefusedItem item;
    std::uint64_t index = 0;
    std::string_view text;
    if (entry["index"].get_uint64().get(index) == simdjson::SUCCESS) item.index = index;
    if (entry["reason"].get_string().get(text) == simdjson::SUCCESS) item.reason = text;
    if (entry["error"].get_string().get(text) == simdjson::SUCCESS) item.error = text;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

ApplianceClient::ApplianceClient(const std::string& base_url, const std::string& token,
                                 const std::string& ca_file)
    : base_url_(base_url) {
  const std::size_t scheme_end = base_url.find("://");
  const std::string scheme = base_url.substr(0, scheme_end);
  if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https")) {
    throw std::invalid_argument("--url must start with http:// or https://, e.g. "
                                "http://appliance.example.com:8889");
  }
  const std::size_t authority_start = scheme_end + 3;
  std::size_t path_start = base_url.find('/', authority_start);
  if (path_start == std::string::npos) path_start = base_url.size();
  const std::string authority = base_url.substr(authority_start, path_start - authority_start);
  path_prefix_ = base_url.substr(path_start);
  while (!path_prefix_.empty() && path_prefix_.back() == '/') path_prefix_.pop_back();
  if (authority.empty() || authority.find_first_of("@?#") != std::string::npos ||
      path_prefix_.find_first_of("?#") != std::string::npos) {
    throw std::invalid_argument("--url must be an origin with an optional path, e.g. "
                                "https://track.example.com or http://10.0.0.5:8889; got " + base_url);
  }
  client_ = std::make_unique<httplib::Client>(scheme + "://" + authority);
  if (!client_->is_valid()) throw std::invalid_argument("--url cannot be used: " + base_url);
  client_->set_connection_timeout(5, 0);
  client_->set_read_timeout(10, 0);
  client_->set_write_timeout(10, 0);
  // The query port answers POSTs with 307 to the ingest port; follow it.
  client_->set_follow_location(true);
  if (!token.empty()) client_->set_bearer_token_auth(token);
  if (!ca_file.empty()) client_->set_ca_cert_path(ca_file);
}

DeliveryResult ApplianceClient::post(const std::string& path, const std::string& body) {
  const httplib::Result result = client_->Post(path_prefix_ + path, body, "application/json");
  if (!result) {
    return {Delivery::unavailable,
            "cannot reach " + base_url_ + " (" + httplib::to_string(result.error()) + " error)", {}};
  }
  const int status = result->status;
  if (status >= 200 && status < 300) {
    DeliveryResult accepted{Delivery::accepted, std::to_string(status), refused_items(result->body)};
    const bool table_full = std::any_of(accepted.refused.begin(), accepted.refused.end(),
                                        [](const RefusedItem& item) { return item.reason == "table_full"; });
    if (table_full) {
      return {Delivery::unavailable, "the appliance has no free slot for this name now (table_full)", {}};
    }
    return accepted;
  }
  const std::string detail = std::to_string(status) + " " + error_text(result->body);
  return {retry_later(status) ? Delivery::unavailable : Delivery::refused, detail, {}};
}

DeliveryResult ApplianceClient::post_sample(std::string_view name, const Sample& sample) {
  return post("/server/" + std::string(name), sample_json(sample));
}

DeliveryResult ApplianceClient::post_batch(std::string_view name, std::span<const Sample> samples) {
  std::string body = "{" + common::json_string(name) + ":[";
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) body += ',';
    body += sample_json(samples[i]);
  }
  body += "]}";
  return post("/servers", body);
}

}  // namespace servertrack::agent
