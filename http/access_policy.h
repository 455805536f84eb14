// Who may do what (README, "Exposing it safely"): the worker's tokens, from
// --tokens-file (scoped tokens) and --ingest-token / --ingest-token-file
// (write+delete tokens for every name), and the one check every request
// passes before any route sees it: decide().
//
// Which scopes are guarded: all four when a tokens file is given (a scope no
// token has is then refused to everyone); write and delete when only ingest
// tokens are; none otherwise (loopback without tokens: open, as before).
// GET /healthz is always open (http/route_scopes.h).
//
// decide() is called on event loop threads, concurrently: by the fast path
// (http/fast_path.h; a refusal goes the general way), by cpp-httplib's
// pre-routing handler (refuse_unauthorized()) and by the loop before it sends
// "100 Continue" (refusal_for_head()). It finds the presented token by its
// SHA-256 digest (a hash map of the tokens' digests: what a lookup's timing
// could reveal is about digests, which say nothing about a token's bytes),
// then compares it with that token in constant time (http/bearer_token.h): the
// same cost for 1 or 2,000 tokens (about 0.15 us of CPU, against 50 us for a
// constant-time compare with each of 2,000; tests/bench/micro/bench_access),
// no allocation; one atomic load per call, and a mutex only on the first call
// of a thread after a reload.
//
// reload() (SIGHUP, from the signal thread) re-reads the files; a file that
// does not read keeps the tokens in force. A request decided before the
// reload completes with the tokens it was decided by; the next one on every
// thread uses the new ones. Tokens are never logged nor echoed.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "http/access_tokens.h"
#include "http/answer.h"

namespace servertrack::http {

struct AccessSources {
  std::string tokens_file;        // --tokens-file; "" none
  std::string ingest_token;       // --ingest-token; "" none
  std::string ingest_token_file;  // --ingest-token-file; "" none
};

// What decide() found. The views stay valid until the calling thread's next
// decide() (they point into the tokens it used, or a thread-local message).
struct AccessDecision {
  int status = 0;            // 0: allowed; 401 (no or bad token) or 403 (scope, prefix)
  std::string_view message;  // of a refusal: the JSON error's sentence
  std::string_view label;    // the token's label; "" when the route is open or no token matched
  std::string_view prefix;   // the token's name prefix; "" for every name
  std::string_view route;    // e.g. "/server/<name>", for the log
  std::string_view name;     // the server name in the path, "" for a route without one
  bool allowed() const { return status == 0; }
};

class AccessPolicy {
 public:
  // The tokens of `sources`, or the sentence saying which file or line is wrong.
  static std::variant<std::unique_ptr<AccessPolicy>, std::string> load(AccessSources sources);

  // Re-reads the files: the sentence logged (what is in force now, or why the
  // old tokens stay). Any thread.
  std::string reload();

  // True with a tokens file: every scope needs a token.
  bool guards_everything() const { return !sources_.tokens_file.empty(); }

  // `authorization`: the first Authorization header's value; `count`: how many
  // came; `password_parameter`: the query's `p` (InfluxDB v1's clients), "" when
  // absent. The token's forms: http/presented_token.h.
  AccessDecision decide(std::string_view method, std::string_view path,
                        std::string_view authorization, std::size_t count,
                        std::string_view password_parameter = {}) const;
  AccessDecision decide(const httplib::Request& request) const;

  struct TokenSet {
    std::vector<AccessToken> tokens;
    std::unordered_map<std::string, std::size_t> by_digest;  // SHA-256 of a token -> its index
    std::uint8_t guarded = 0;  // bits of Scope
  };

 private:
  explicit AccessPolicy(AccessSources sources) : sources_(std::move(sources)) {}
  std::variant<std::shared_ptr<const TokenSet>, std::string> read_sources() const;
  void install(std::shared_ptr<const TokenSet> set);
  const TokenSet& current() const;

  AccessSources sources_;
  mutable std::mutex mutex_;
  std::shared_ptr<const TokenSet> set_;     // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};  // of set_, unique in the process
};

// The 401 or 403 answer of a refusal, with its WWW-Authenticate challenge.
Answer refusal_answer(const AccessDecision& decision);

// One log line: status, method, route, name and the token's label (never the token).
void log_refusal(const AccessDecision& decision, std::string_view method);

// The pre-routing check of cpp-httplib's path: Handled (the refusal answered
// and logged) or Unhandled (allowed).
httplib::Server::HandlerResponse refuse_unauthorized(const AccessPolicy& policy,
                                                     const httplib::Request& request,
                                                     httplib::Response& response);

// The loop's check of a request whose body is still to come ("Expect:
// 100-continue"): the response to send (then close) when its head is refused,
// else "" (send 100 Continue). `head`: the request line and header lines.
std::string refusal_for_head(const AccessPolicy& policy, std::string_view head,
                             std::string_view server_header);

}  // namespace servertrack::http
