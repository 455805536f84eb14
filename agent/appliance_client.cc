#include "agent/appliance_client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace servertrack::agent {
namespace {

constexpr std::size_t kQuotedErrorBytes = 300;
constexpr const char* kTableFullRemedy =
    "the appliance has no free slot for a new server: delete servers or recreate its segment larger";

// The {"error": "..."} sentence of an answer, or its first bytes.
std::string error_text(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view sentence;
  if (parser.parse(body).get_object()["error"].get_string().get(sentence) == simdjson::SUCCESS) {
    return std::string(sentence.substr(0, kQuotedErrorBytes));
  }
  return body.substr(0, kQuotedErrorBytes);
}

// The "rejected" items of an array's answer {"rejected": [{"name", "index",
// "reason", "error"}, ...], "recorded": N}, by index; nullopt unless it is such
// an answer for `count` samples.
std::optional<std::vector<RefusedItem>> refused_items(const std::string& body, std::size_t count) {
  simdjson::dom::parser parser;
  simdjson::dom::object answer;
  simdjson::dom::array rejected;
  std::uint64_t recorded = 0;
  if (parser.parse(body).get(answer) != simdjson::SUCCESS ||
      answer["rejected"].get_array().get(rejected) != simdjson::SUCCESS ||
      answer["recorded"].get_uint64().get(recorded) != simdjson::SUCCESS ||
      recorded + rejected.size() != count) {
    return std::nullopt;
  }
  std::vector<RefusedItem> items;
  for (simdjson::dom::element entry : rejected) {
    RefusedItem item;
    std::uint64_t index = 0;
    std::string_view text;
    if (entry["index"].get_uint64().get(index) != simdjson::SUCCESS || index >= count) return std::nullopt;
    item.index = index;
    if (entry["reason"].get_string().get(text) == simdjson::SUCCESS) item.reason = text;
    if (entry["error"].get_string().get(text) == simdjson::SUCCESS) item.error = text;
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(),
            [](const RefusedItem& a, const RefusedItem& b) { return a.index < b.index; });
  return items;
}

// The class of a request that got no HTTP answer.
DeliveryResult without_answer(httplib::Error error, const std::string& url, bool has_ca_file) {
  const std::string detail = "no answer from " + url + " (" + httplib::to_string(error) + " error)";
  switch (error) {
    case httplib::Error::SSLServerVerification:
      return {Delivery::untrusted,
              "the TLS certificate of " + url + " is not trusted (" + httplib::to_string(error) + " error)",
              has_ca_file ? "it is not signed by a CA in --ca-file, or does not name the host of --url: "
                            "give --ca-file the CA that signed it, or fix --url"
                          : "give --ca-file the CA that signed it (a PEM file), or add that CA to the "
                            "system's trust store",
              {}};
    case httplib::Error::SSLLoadingCerts:
      return {Delivery::untrusted, detail,
              has_ca_file ? "--ca-file holds no PEM certificate that can be loaded"
                          : "the system's trust store cannot be loaded; give --ca-file",
              {}};
    case httplib::Error::SSLConnection:
      return {Delivery::misdirected, detail,
              "the TLS handshake failed: is --url an https:// server? (the appliance itself speaks "
              "plain http://; HTTPS is its reverse proxy's)",
              {}};
    case httplib::Error::ExceedRedirectCount:
      return {Delivery::misdirected, detail, "--url redirects in a loop: point it at the appliance", {}};
    default:
      return {Delivery::unavailable, detail, "the appliance or the network is down", {}};
  }
}

// The class and remedy of an answer that is not 2xx.
// `array_size`: 0 for one sample.
DeliveryResult refusal(int status, const httplib::Response& response, const std::string& url,
                       std::size_t array_size, bool has_token) {
  const bool array = array_size > 0;
  DeliveryResult result{Delivery::misdirected,
                        std::to_string(status) + " " + error_text(response.body), {}, {}};
  if (status >= 300 && status < 400) {
    result.remedy = "redirected to " + response.get_header_value("Location") +
                    ", which is not followed for a POST: point --url there";
  } else if (status == 400 && !array) {
    result.delivery = Delivery::invalid;
  } else if (status == 400) {
    result.remedy = url + " does not take an array of samples at POST /server/<name>: upgrade the appliance";
  } else if (status == 401) {
    result.delivery = Delivery::unauthorized;
    result.remedy = has_token ? "the appliance does not accept the token: put its ingest token in the first "
                                "line of --token-file"
                              : "the appliance requires a token: give --token-file with its ingest token";
  } else if (status == 403) {
    result.delivery = Delivery::unauthorized;
    result.remedy = "forbidden: a rule of the appliance or of a proxy in front of it refuses this host or "
                    "token; fix the rule or the token";
  } else if (status == 404) {
    result.remedy = url + " has no POST /server/<name>: point --url at the appliance's ingest or query "
                    "worker or at its balancer (check the path after the host)";
  } else if (status == 405) {
    result.remedy = url + " does not take POST there: point --url at the appliance, not at a read-only "
                    "proxy or another site";
  } else if (status == 413) {
    result.delivery = Delivery::too_large;
    result.remedy = array_size > 1 ? "the array is over the body limit of the appliance or a proxy"
                                   : "one sample is over the body limit of a proxy in front of the "
                                     "appliance: raise it (the appliance takes 64 KiB)";
  } else if (status == 408 || status == 429) {
    result.delivery = Delivery::unavailable;
    result.remedy = status == 408 ? "the request timed out on its way (a slow network or proxy); it is sent "
                                    "again"
                                  : "a rate limit of the appliance or a proxy: raise it for agents";
  } else if (status == 507) {
    result.delivery = Delivery::unavailable;
    result.remedy = kTableFullRemedy;
  } else if (status >= 500) {
    result.delivery = Delivery::unavailable;
    result.remedy = "the appliance (or, for a node that is down, its balancer) cannot take samples now";
  } else {
    result.remedy = url + " answers this status to a sample: point --url at the appliance";
  }
  return result;
}

}  // namespace

DeliveryResult refused_for_now(const RefusedItem& item, std::int64_t sample_time) {
  return {Delivery::unavailable,
          fmt::format("the appliance refused the spooled sample of {} for now ({}: {})", sample_time,
                      item.reason, item.error),
          item.reason == "table_full" ? kTableFullRemedy : "it is sent again at the next sample", {}};
}

bool RefusedItem::invalid() const {
  return reason == "invalid_value" || reason == "invalid_time" || reason == "invalid_name";
}

ApplianceClient::ApplianceClient(const std::string& base_url, const std::string& token,
                                 const std::string& ca_file)
    : base_url_(base_url), has_token_(!token.empty()), has_ca_file_(!ca_file.empty()) {
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

DeliveryResult ApplianceClient::post(std::string_view name, const std::string& body,
                                     std::size_t array_size) {
  const httplib::Result result =
      client_->Post(path_prefix_ + "/server/" + std::string(name), body, "application/json");
  if (!result) return without_answer(result.error(), base_url_, has_ca_file_);
  const int status = result->status;
  if (status < 200 || status >= 300) return refusal(status, *result, base_url_, array_size, has_token_);
  DeliveryResult accepted{Delivery::accepted, std::to_string(status), {}, {}};
  if (array_size == 0) return accepted;
  std::optional<std::vector<RefusedItem>> refused = refused_items(result->body, array_size);
  if (!refused) {
    return {Delivery::misdirected, std::to_string(status) + " " + error_text(result->body),
            base_url_ + " answered an array of samples, but not as the appliance does: point --url "
                        "at the appliance (or upgrade it)",
            {}};
  }
  accepted.refused = std::move(*refused);
  return accepted;
}

DeliveryResult ApplianceClient::post_sample(std::string_view name, const Sample& sample) {
  return post(name, sample_json(sample), 0);
}

DeliveryResult ApplianceClient::post_samples(std::string_view name, std::span<const Sample> samples) {
  return post(name, samples_json(samples), samples.size());
}

}  // namespace servertrack::agent
