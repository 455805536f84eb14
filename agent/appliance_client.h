// Sending samples to the appliance's ingest worker over HTTP or HTTPS
// (cpp-httplib's blocking client; Debian's compiled 0.11.4, so every setting
// goes through its setters). One sample goes to POST /server/<name> as an
// object, spooled ones as an array of that server's samples to the same path,
// so a balancer that routes by name passes both (docs/design.md, "The agent").
//
// The answer is classified by what the agent must do with the samples; only
// `invalid` lets it drop one. Everything else keeps the samples:
//   accepted      2xx (an array's answer may refuse some items, listed); for
//                 an array, only the appliance's answer for that many samples
//   invalid       400 for one sample: the appliance judged it and refused it
//   unavailable   no answer, 5xx, 408, 429, 507: the appliance is away or busy
//   unauthorized  401, 403: the token is not accepted
//   misdirected   404, 405, any other 4xx, 400 for an array, a 3xx not
//                 followed, a redirect loop, a TLS handshake that failed, a
//                 2xx to an array that is not the appliance's answer: --url
//                 reaches something that does not take samples
//   too_large     413: the body is over the limit of the appliance or a proxy
//   untrusted     the TLS certificate was not verified (or --ca-file unusable)
// A refused array item is invalid when its reason is invalid_value,
// invalid_time or invalid_name; any other reason (slot_busy, table_full)
// means later.
//
// Main thread only. Each call opens a new connection (one a minute needs no
// keep-alive), waits at most 5 s to connect and 10 s per read or write.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sample.h"
#include "http/request_body.h"

namespace servertrack::agent {

// Samples per array: the longest possible array of them fits the
// appliance's 64 KiB body limit (700 * 90 + 2 = 63,002 bytes); the agent's
// usual samples take about 68 bytes each, about 48 KB (tests/agent/test_spool.cc).
inline constexpr std::size_t kBatchSamples = 700;
static_assert(2 + kBatchSamples * (kMaxSampleJsonBytes + 1) <= http::kMaxBodyBytes);

enum class Delivery { accepted, invalid, unavailable, unauthorized, misdirected, too_large, untrusted };

struct RefusedItem {
  std::size_t index = 0;  // position in the array
  std::string reason;     // the appliance's reason, e.g. "invalid_value"
  std::string error;      // its sentence

  // The appliance judged the sample itself invalid: it will never be accepted.
  bool invalid() const;
};

struct DeliveryResult {
  Delivery delivery = Delivery::unavailable;
  std::string detail;                // for the log: status and the appliance's error
  std::string remedy;                // when not accepted or invalid: what to fix, for the log
  std::vector<RefusedItem> refused;  // array items refused inside an accepted answer, by index
};

// An array item refused for later (slot_busy, table_full) as a delivery of
// its own: unavailable, with the appliance's reason and what to do.
DeliveryResult refused_for_now(const RefusedItem& item, std::int64_t sample_time);

class ApplianceClient {
 public:
  // `base_url`: http:// or https:// origin, optionally with a path prefix
  // (a reverse proxy's), e.g. "https://track.example.com/servertrack".
  // Throws std::invalid_argument with a sentence when it is not such a URL.
  // An empty `token` sends no Authorization header. HTTPS servers are checked
  // against `ca_file` (PEM) when it is not empty, else the system's trust store.
  ApplianceClient(const std::string& base_url, const std::string& token, const std::string& ca_file);

  DeliveryResult post_sample(std::string_view name, const Sample& sample);
  DeliveryResult post_samples(std::string_view name, std::span<const Sample> samples);

  const std::string& base_url() const noexcept { return base_url_; }

 private:
  // `array_size`: 0 for one sample, else the samples in the array `body`.
  DeliveryResult post(std::string_view name, const std::string& body, std::size_t array_size);

  std::string base_url_;
  std::string path_prefix_;
  bool has_token_;
  bool has_ca_file_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace servertrack::agent
