#include "http/access_policy.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "common/json_string.h"
#include "http/bearer_token.h"
#include "http/header_text.h"
#include "http/presented_token.h"
#include "http/route_scopes.h"
#include "http/worker_log.h"

namespace servertrack::http {
namespace {

constexpr std::uint8_t kEveryScope = 0x0f;

std::atomic<std::uint64_t> next_generation{1};

std::string_view verb(Scope scope) {
  switch (scope) {
    case Scope::read: return "read";
    case Scope::write: return "write samples";
    case Scope::remove: return "delete servers";
    case Scope::metrics: return "read /metrics";
  }
  return "?";
}

// The SHA-256 digest of `token`, in `out` (32 bytes). The algorithm is fetched
// once and each thread reuses one context: no allocation after a thread's first call.
void digest_into(std::string_view token, std::string& out) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(),
                                                                                 EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (sha256 == nullptr || context == nullptr || EVP_DigestInit_ex(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), token.data(), token.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    throw std::runtime_error("OpenSSL's SHA-256 is not available");
  }
  out.assign(reinterpret_cast<const char*>(digest), length);
}

AccessDecision refused(AccessDecision decision, int status, std::string_view message) {
  decision.status = status;
  decision.message = message;
  return decision;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path as cpp-httplib decodes it (%XX), so the head is decided as the request will be.
std::string decoded_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex_digit(path[i + 1]) >= 0 &&
        hex_digit(path[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(path[i + 1]) * 16 + hex_digit(path[i + 2])));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

}  // namespace

std::variant<std::unique_ptr<AccessPolicy>, std::string> AccessPolicy::load(AccessSources sources) {
  std::unique_ptr<AccessPolicy> policy(new AccessPolicy(std::move(sources)));
  auto read = policy->read_sources();
  if (std::string* error = std::get_if<std::string>(&read)) return std::move(*error);
  policy->install(std::get<std::shared_ptr<const TokenSet>>(std::move(read)));
  return policy;
}

std::variant<std::shared_ptr<const AccessPolicy::TokenSet>, std::string> AccessPolicy::read_sources() const {
  auto set = std::make_shared<TokenSet>();
  const auto add = [&set](TokensOrError read) -> std::optional<std::string> {
    if (std::string* error = std::get_if<std::string>(&read)) return std::move(*error);
    for (AccessToken& token : std::get<std::vector<AccessToken>>(read)) set->tokens.push_back(std::move(token));
    return std::nullopt;
  };
  if (!sources_.tokens_file.empty()) {
    if (auto error = add(read_tokens_file(sources_.tokens_file))) return std::move(*error);
    set->guarded = kEveryScope;
  }
  if (!sources_.ingest_token_file.empty()) {
    if (auto error = add(read_ingest_token_file(sources_.ingest_token_file))) return std::move(*error);
  }
  if (!sources_.ingest_token.empty()) {
    set->tokens.push_back(AccessToken{.label = "ingest-token", .secret = sources_.ingest_token,
                                      .scopes = kWriteAndDelete, .prefix = ""});
  }
  if (!set->tokens.empty()) set->guarded |= kWriteAndDelete;
  std::string digest;
  for (std::size_t i = 0; i < set->tokens.size(); ++i) {
    digest_into(set->tokens[i].secret, digest);
    // A token on two lines (two files, or --ingest-token too): the first one counts.
    set->by_digest.emplace(digest, i);
  }
  return set;
}

void AccessPolicy::install(std::shared_ptr<const TokenSet> set) {
  std::lock_guard lock(mutex_);
  set_ = std::move(set);
  generation_.store(next_generation.fetch_add(1), std::memory_order_release);
}

std::string AccessPolicy::reload() {
  auto read = read_sources();
  if (const std::string* error = std::get_if<std::string>(&read)) {
    return fmt::format("reload refused, the tokens in force stay: {}", *error);
  }
  const auto& set = std::get<std::shared_ptr<const TokenSet>>(read);
  const std::size_t count = set->tokens.size();
  install(set);
  return fmt::format("reloaded: {} token{} in force", count, count == 1 ? "" : "s");
}

const AccessPolicy::TokenSet& AccessPolicy::current() const {
  struct Cached {
    std::uint64_t generation = 0;
    std::shared_ptr<const TokenSet> set;
  };
  thread_local Cached cached;
  if (cached.generation != generation_.load(std::memory_order_acquire)) {
    std::lock_guard lock(mutex_);
    cached.generation = generation_.load(std::memory_order_relaxed);
    cached.set = set_;
  }
  return *cached.set;
}

AccessDecision AccessPolicy::decide(std::string_view method, std::string_view path,
                                    std::string_view authorization, std::size_t count,
                                    std::string_view password_parameter) const {
  const RouteAccess route = route_access(method, path);
  AccessDecision decision;
  decision.route = route.route;
  decision.name = route.name;
  if (!route.scope) return decision;
  const TokenSet& set = current();
  const auto needed = static_cast<std::uint8_t>(*route.scope);
  if ((set.guarded & needed) == 0) return decision;
  if (count == 0 && password_parameter.empty()) {
    return refused(decision, 401,
                   "this request needs a token: send the header 'Authorization: Bearer <token>' "
                   "(README: Exposing it safely)");
  }
  thread_local std::string decoded;
  const auto presented = presented_token(authorization, count, password_parameter, decoded);
  if (!presented) {
    return refused(decision, 401, "send exactly one header 'Authorization: Bearer <token>'");
  }
  thread_local std::string digest;
  digest_into(*presented, digest);
  const auto found = set.by_digest.find(digest);
  const AccessToken* match = nullptr;
  if (found != set.by_digest.end() && constant_time_equal(*presented, set.tokens[found->second].secret)) {
    match = &set.tokens[found->second];
  }
  if (match == nullptr) {
    return refused(decision, 401,
                   "the token sent is not one this appliance accepts (mistyped, revoked, or "
                   "another appliance's)");
  }
  decision.label = match->label;
  decision.prefix = match->prefix;
  thread_local std::string message;
  if ((match->scopes & needed) == 0) {
    message = fmt::format("this token may not {}: it lacks the '{}' scope", verb(*route.scope),
                          scope_name(*route.scope));
    return refused(decision, 403, message);
  }
  if (route.named && !route.name.starts_with(match->prefix)) {
    message = fmt::format("this token may only {} for servers whose names start with {}",
                          verb(*route.scope), common::json_string(match->prefix));
    return refused(decision, 403, message);
  }
  return decision;
}

AccessDecision AccessPolicy::decide(const httplib::Request& request) const {
  const auto range = request.headers.equal_range("Authorization");
  const std::string_view first =
      range.first != range.second ? std::string_view(range.first->second) : std::string_view();
  const auto password = request.params.find("p");
  return decide(request.method, request.path, first,
                static_cast<std::size_t>(std::distance(range.first, range.second)),
                password != request.params.end() ? std::string_view(password->second) : std::string_view());
}

Answer refusal_answer(const AccessDecision& decision) {
  Answer answer = json_error(decision.status, decision.message);
  answer.authenticate = decision.status == 401 ? "Bearer" : "Bearer error=\"insufficient_scope\"";
  return answer;
}

void log_refusal(const AccessDecision& decision, std::string_view method) {
  log_line("refused {} {}{}: {}, token {}", method, common::json_string(decision.route),
           decision.name.empty() ? std::string() : " name " + common::json_string(decision.name),
           decision.status,
           decision.label.empty() ? std::string(decision.status == 401 ? "none or unknown" : "?")
                                  : common::json_string(decision.label));
}

httplib::Server::HandlerResponse refuse_unauthorized(const AccessPolicy& policy,
                                                     const httplib::Request& request,
                                                     httplib::Response& response) {
  const AccessDecision decision = policy.decide(request);
  if (decision.allowed()) return httplib::Server::HandlerResponse::Unhandled;
  log_refusal(decision, request.method);
  set_answer(response, refusal_answer(decision));
  return httplib::Server::HandlerResponse::Handled;
}

std::string refusal_for_head(const AccessPolicy& policy, std::string_view head,
                             std::string_view server_header) {
  constexpr std::string_view kCrlf = "\r\n";
  const std::string_view line = head.substr(0, head.find(kCrlf));
  const std::size_t method_end = line.find(' ');
  if (method_end == std::string_view::npos) return {};  // cpp-httplib answers 400
  const std::string_view method = line.substr(0, method_end);
  std::string_view target = line.substr(method_end + 1);
  target = target.substr(0, target.find(' '));
  const std::size_t question = target.find('?');
  httplib::Params parameters;
  if (question != std::string_view::npos) {
    httplib::detail::parse_query_text(std::string(target.substr(question + 1)), parameters);
  }
  const auto password = parameters.find("p");
  target = target.substr(0, question);
  std::string_view authorization;
  std::size_t count = 0;
  for (std::string_view rest = head.substr(std::min(line.size() + kCrlf.size(), head.size()));
       !rest.empty();) {
    const std::string_view header = rest.substr(0, rest.find(kCrlf));
    rest.remove_prefix(std::min(header.size() + kCrlf.size(), rest.size()));
    const std::size_t colon = header.find(':');
    if (colon == std::string_view::npos || !equals_ignoring_case(header.substr(0, colon), "authorization")) {
      continue;
    }
    if (count++ == 0) authorization = trimmed(header.substr(colon + 1));
  }
  const std::string path = decoded_path(target);
  const AccessDecision decision =
      policy.decide(method, path, authorization, count,
                    password != parameters.end() ? std::string_view(password->second) : std::string_view());
  if (decision.allowed()) return {};
  log_refusal(decision, method);
  std::string response;
  append_response(response, refusal_answer(decision), server_header, false);
  return response;
}

}  // namespace servertrack::http
