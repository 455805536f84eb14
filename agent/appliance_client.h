// Sending samples to the appliance's ingest worker over HTTP or HTTPS
// (cpp-httplib's blocking client; Debian's compiled 0.11.4, so every setting
// goes through its setters). One sample goes to POST /server/<name>, spooled
// ones go in batches to POST /servers as {"<name>": [sample, ...]}
// (docs/design.md, "The agent").
//
// How an answer is classified decides what the agent does with the samples:
//   accepted     2xx: recorded (a batch may still refuse some items, listed)
//   refused      any other 4xx, or a 3xx that was not followed: dropped, logged
//   unavailable  no answer, 5xx, 408 or 429: kept in the spool, sent again later
// A batch whose items come back "table_full" (the appliance's 507 per item:
// no free slot for this name now) counts as unavailable too, not refused.
//
// Main thread only. Each call opens a new connection (one a minute needs no
// keep-alive), waits at most 5 s to connect and 10 s per read or write.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sample.h"

namespace servertrack::agent {

// Samples per POST /servers: about 70 bytes each, so a batch stays near 35 KB,
// well inside the appliance's 64 KiB body limit even with a 253-byte name.
inline constexpr std::size_t kBatchSamples = 500;

enum class Delivery { accepted, refused, unavailable };

struct RefusedItem {
  std::size_t index = 0;  // position in the batch
  std::string reason;     // the appliance's reason, e.g. "invalid_value"
  std::string error;      // its sentence
};

struct DeliveryResult {
  Delivery delivery = Delivery::unavailable;
  std::string detail;                // for the log: status and the appliance's error
  std::vector<RefusedItem> refused;  // batch items refused inside an accepted answer
};

class ApplianceClient {
 public:
  // `base_url`: http:// or https:// origin, optionally with a path prefix
  // (a reverse proxy's), e.g. "https://track.example.com/servertrack".
  // Throws std::invalid_argument with a sentence when it is not such a URL.
  // An empty `token` sends no Authorization header. HTTPS servers are checked
  // against `ca_file` (PEM) when it is not empty, else the system's trust store.
  ApplianceClient(const std::string& base_url, const std::string& token, const std::string& ca_file);

  DeliveryResult post_sample(std::string_view name, const Sample& sample);
  DeliveryResult post_batch(std::string_view name, std::span<const Sample> samples);

  const std::string& base_url() const noexcept { return base_url_; }

 private:
  DeliveryResult post(const std::string& path, const std::string& body);

  std::string base_url_;
  std::string path_prefix_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace servertrack::agent
