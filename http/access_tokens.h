// The tokens an appliance accepts and what each may do (README, "Exposing it
// safely"), read from the files that hold them:
//
// --tokens-file: one token a line, fields separated by spaces or tabs,
//   '#' starts a comment (a whole line, or after the fields):
//     LABEL  TOKEN  SCOPES  [PREFIX]
//   LABEL   1 to 64 of A-Z a-z 0-9 _ . @ -, unique: what the log names the
//           token by (the token itself is never logged);
//   TOKEN   16 to 256 characters of A-Z a-z 0-9 - . _ ~ + / = (RFC 6750's
//           b64token), unique;
//   SCOPES  comma-separated, among read, write, delete, metrics;
//   PREFIX  the token serves only servers whose names start with it (the
//           start of a valid name, shm/name.h); absent: every name.
// --ingest-token-file: one token a line (blank and '#' lines skipped), each a
//   write+delete token for every name, labelled "ingest-token-file:<line>".
//
// Called at start-up and on SIGHUP by the worker's access policy
// (http/access_policy.h); reads one small file; errors name the file and line,
// never a token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace servertrack::http {

// What a request needs; a token's scopes are a bit set of these.
enum class Scope : std::uint8_t { read = 1, write = 2, remove = 4, metrics = 8 };

// "read", "write", "delete" or "metrics", as the tokens file and the errors say it.
std::string_view scope_name(Scope scope) noexcept;

inline constexpr std::uint8_t kWriteAndDelete =
    static_cast<std::uint8_t>(Scope::write) | static_cast<std::uint8_t>(Scope::remove);

struct AccessToken {
  std::string label;
  std::string secret;
  std::uint8_t scopes = 0;  // bits of Scope
  std::string prefix;       // "" : every name
};

using TokensOrError = std::variant<std::vector<AccessToken>, std::string>;

TokensOrError read_tokens_file(const std::string& path);
TokensOrError read_ingest_token_file(const std::string& path);

}  // namespace servertrack::http
