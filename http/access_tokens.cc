#include "http/access_tokens.h"

#include <fmt/format.h>

#include <fstream>
#include <set>

#include "http/header_text.h"
#include "shm/name.h"

namespace servertrack::http {
namespace {

constexpr std::size_t kMinTokenBytes = 16;
constexpr std::size_t kMaxTokenBytes = 256;
constexpr std::size_t kMaxLabelBytes = 64;

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool all_of(std::string_view text, std::string_view extra) noexcept {
  for (const char c : text) {
    if (!is_alnum(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// The line without its comment, split on spaces and tabs.
std::vector<std::string_view> fields_of(std::string_view line) {
  line = line.substr(0, line.find('#'));
  std::vector<std::string_view> fields;
  while (!(line = trimmed(line)).empty()) {
    const std::size_t end = std::min(line.find(' '), line.find('\t'));
    fields.push_back(line.substr(0, end));
    line.remove_prefix(std::min(end, line.size()));
  }
  return fields;
}

// The scope bits of "read,write", or the error sentence.
std::variant<std::uint8_t, std::string> parse_scopes(std::string_view text) {
  std::uint8_t scopes = 0;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view word = text.substr(start, comma - start);
    bool known = false;
    for (const Scope scope : {Scope::read, Scope::write, Scope::remove, Scope::metrics}) {
      if (word == scope_name(scope)) {
        scopes |= static_cast<std::uint8_t>(scope);
        known = true;
      }
    }
    if (!known) {
      return fmt::format("unknown scope '{}' (scopes are read, write, delete, metrics, "
                         "separated by commas without spaces)", word);
    }
    start = comma + 1;
  }
  return scopes;
}

// One line of --tokens-file, or the error sentence (which never quotes the token).
std::variant<AccessToken, std::string> parse_token_line(const std::vector<std::string_view>& fields) {
  if (fields.size() < 3 || fields.size() > 4) {
    return fmt::format("expected LABEL TOKEN SCOPES [PREFIX], found {} fields", fields.size());
  }
  AccessToken token;
  token.label = fields[0];
  if (token.label.size() > kMaxLabelBytes || !all_of(token.label, "_.@-")) {
    return "the label must be 1 to 64 of A-Z, a-z, 0-9, _, ., @ and -";
  }
  token.secret = fields[1];
  if (token.secret.size() < kMinTokenBytes || token.secret.size() > kMaxTokenBytes ||
      !all_of(token.secret, "-._~+/=")) {
    return fmt::format("the token of '{}' must be 16 to 256 of A-Z, a-z, 0-9, -, ., _, ~, +, / and = "
                       "(e.g. from `openssl rand -hex 24`)", token.label);
  }
  auto scopes = parse_scopes(fields[2]);
  if (const std::string* error = std::get_if<std::string>(&scopes)) return *error;
  token.scopes = std::get<std::uint8_t>(scopes);
  if (fields.size() == 4) {
    token.prefix = fields[3];
    if (!shm::is_valid_name(token.prefix)) {
      return fmt::format("the prefix of '{}' must be the start of a server name: {}", token.label,
                         shm::kNameRule);
    }
  }
  return token;
}

std::string cannot_read(const std::string& option, const std::string& path) {
  return fmt::format("{}: cannot read {} (missing or unreadable)", option, path);
}

}  // namespace

std::string_view scope_name(Scope scope) noexcept {
  switch (scope) {
    case Scope::read: return "read";
    case Scope::write: return "write";
    case Scope::remove: return "delete";
    case Scope::metrics: return "metrics";
  }
  return "?";
}

TokensOrError read_tokens_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return cannot_read("--tokens-file", path);
  std::vector<AccessToken> tokens;
  std::set<std::string, std::less<>> labels;
  std::set<std::string, std::less<>> secrets;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto fields = fields_of(line);
    if (fields.empty()) continue;
    auto parsed = parse_token_line(fields);
    if (const std::string* error = std::get_if<std::string>(&parsed)) {
      return fmt::format("--tokens-file {} line {}: {}", path, number, *error);
    }
    AccessToken& token = std::get<AccessToken>(parsed);
    if (!labels.insert(token.label).second) {
      return fmt::format("--tokens-file {} line {}: the label '{}' is used twice", path, number, token.label);
    }
    if (!secrets.insert(token.secret).second) {
      return fmt::format("--tokens-file {} line {}: the token of '{}' is also on an earlier line",
                         path, number, token.label);
    }
    tokens.push_back(std::move(token));
  }
  if (file.bad()) return cannot_read("--tokens-file", path);
  return tokens;
}

TokensOrError read_ingest_token_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return cannot_read("--ingest-token-file", path);
  std::vector<AccessToken> tokens;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::string_view token = trimmed(std::string_view(line).substr(
        0, line.ends_with('\r') ? line.size() - 1 : line.size()));
    if (token.empty() || token.starts_with('#')) continue;
    tokens.push_back(AccessToken{.label = fmt::format("ingest-token-file:{}", number),
                                 .secret = std::string(token),
                                 .scopes = kWriteAndDelete,
                                 .prefix = ""});
  }
  if (file.bad()) return cannot_read("--ingest-token-file", path);
  if (tokens.empty()) return fmt::format("--ingest-token-file: {} holds no token", path);
  return tokens;
}

}  // namespace servertrack::http
