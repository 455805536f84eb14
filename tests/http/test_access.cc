// The access check's pure parts: the constant-time compare reads every byte,
// the Bearer scheme in any case, the tokens file's format and errors (which
// never quote a token), the route table, and decide() over scopes, prefixes
// and missing, malformed and wrong tokens.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "http/access_policy.h"
#include "http/bearer_token.h"
#include "http/presented_token.h"
#include "http/route_scopes.h"

namespace servertrack::http {
namespace {

// A presented token that counts the bytes the compare reads.
struct CountingBytes {
  std::string_view text;
  mutable std::size_t reads = 0;
  std::size_t size() const { return text.size(); }
  char operator[](std::size_t i) const {
    ++reads;
    return text[i];
  }
};

TEST(ConstantTimeEqual, ReadsEveryByteWhereverTheFirstDifferenceIs) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  for (std::size_t differing = 0; differing < secret.size(); ++differing) {
    std::string presented = secret;
    presented[differing] = '#';
    const CountingBytes bytes{presented};
    EXPECT_FALSE(constant_time_equal(bytes, secret));
    EXPECT_EQ(bytes.reads, secret.size()) << "first difference at byte " << differing;
  }
  const CountingBytes equal{secret};
  EXPECT_TRUE(constant_time_equal(equal, secret));
  EXPECT_EQ(equal.reads, secret.size());
  const CountingBytes shorter{std::string_view(secret).substr(0, 3)};
  EXPECT_FALSE(constant_time_equal(shorter, secret));
  EXPECT_EQ(shorter.reads, 3u);  // the rest of the secret is still compared, against '\0'
  EXPECT_FALSE(constant_time_equal(std::string_view(secret + "x"), secret));
  EXPECT_FALSE(constant_time_equal(std::string_view(""), secret));
}

TEST(BearerCredentials, TakesTheSchemeInAnyCase) {
  EXPECT_EQ(bearer_credentials("Bearer abc"), "abc");
  EXPECT_EQ(bearer_credentials("bearer abc"), "abc");
  EXPECT_EQ(bearer_credentials("BEARER   abc "), "abc");
  EXPECT_EQ(bearer_credentials("Bearer\tabc"), "abc");
  EXPECT_FALSE(bearer_credentials("Bearerabc"));
  EXPECT_FALSE(bearer_credentials("Bearer "));
  EXPECT_FALSE(bearer_credentials("Basic abc"));
  EXPECT_FALSE(bearer_credentials("abc"));
}

TEST(PresentedToken, TakesInfluxDbClientsFormsToo) {
  std::string decoded;
  EXPECT_EQ(presented_token("Bearer abc", 1, "", decoded), "abc");
  EXPECT_EQ(presented_token("Token abc", 1, "", decoded), "abc");
  EXPECT_EQ(presented_token("TOKEN  abc", 1, "", decoded), "abc");
  EXPECT_EQ(presented_token("Basic dGVsZWdyYWY6YWJj", 1, "", decoded), "abc");  // telegraf:abc
  EXPECT_EQ(presented_token("basic OmFiY2Q=", 1, "", decoded), "abcd");        // :abcd
  EXPECT_EQ(presented_token("", 0, "abc", decoded), "abc");                    // ?p=abc
  EXPECT_EQ(presented_token("Token abc", 1, "other", decoded), "abc");         // the header wins
  EXPECT_FALSE(presented_token("Basic dGVsZWdyYWY=", 1, "", decoded));         // no ':'
  EXPECT_FALSE(presented_token("Basic dGVsZWdyYWY6", 1, "", decoded));         // empty password
  EXPECT_FALSE(presented_token("Basic !!!!", 1, "", decoded));
  EXPECT_FALSE(presented_token("Token abc", 2, "", decoded));
  EXPECT_FALSE(presented_token("", 0, "", decoded));
  EXPECT_FALSE(presented_token("Digest abc", 1, "", decoded));
}

TEST(RouteScopes, EveryRouteHasItsScopeAndUnlistedPathsAreGuarded) {
  EXPECT_FALSE(route_access("GET", "/healthz").scope);
  EXPECT_EQ(route_access("GET", "/metrics").scope, Scope::metrics);
  EXPECT_EQ(route_access("HEAD", "/fleet").scope, Scope::read);
  EXPECT_EQ(route_access("GET", "/servers").scope, Scope::read);
  EXPECT_FALSE(route_access("GET", "/").scope);
  const RouteAccess get = route_access("GET", "/server/web-01");
  EXPECT_EQ(get.scope, Scope::read);
  EXPECT_TRUE(get.named);
  EXPECT_EQ(get.name, "web-01");
  EXPECT_EQ(get.route, "/server/<name>");
  EXPECT_EQ(route_access("POST", "/server/web-01").scope, Scope::write);
  EXPECT_EQ(route_access("POST", "/servers").scope, Scope::write);
  EXPECT_EQ(route_access("DELETE", "/server/x").scope, Scope::remove);
  EXPECT_EQ(route_access("GET", "/not-yet-a-route").scope, Scope::read);
  EXPECT_EQ(route_access("POST", "/write").scope, Scope::write);
  EXPECT_FALSE(route_access("GET", "/server/x/").name.empty());
}

class TokenFiles : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    char path[] = "/tmp/servertrack-tokens-XXXXXX";
    const int fd = mkstemp(path);
    ::close(fd);
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& path : paths_) std::remove(path.c_str());
  }
  std::vector<std::string> paths_;
};

constexpr const char* kWriter = "w-0123456789abcdef";
constexpr const char* kReader = "r-0123456789abcdef";
constexpr const char* kAdmin = "a-0123456789abcdef";

TEST_F(TokenFiles, ReadsLabelsTokensScopesAndPrefixesWithComments) {
  const auto read = read_tokens_file(write(
      "# label  token  scopes  prefix\n"
      "\n"
      "agent-web-01  w-0123456789abcdef  write  web-01   # the agent's unit\n"
      "team-db\tr-0123456789abcdef\tread,metrics\tdb-\r\n"
      "ops a-0123456789abcdef read,write,delete,metrics\n"));
  ASSERT_TRUE(std::holds_alternative<std::vector<AccessToken>>(read)) << std::get<std::string>(read);
  const auto& tokens = std::get<std::vector<AccessToken>>(read);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].label, "agent-web-01");
  EXPECT_EQ(tokens[0].secret, kWriter);
  EXPECT_EQ(tokens[0].scopes, static_cast<std::uint8_t>(Scope::write));
  EXPECT_EQ(tokens[0].prefix, "web-01");
  EXPECT_EQ(tokens[1].scopes, static_cast<std::uint8_t>(Scope::read) | static_cast<std::uint8_t>(Scope::metrics));
  EXPECT_EQ(tokens[1].prefix, "db-");
  EXPECT_EQ(tokens[2].scopes, 0x0f);
  EXPECT_EQ(tokens[2].prefix, "");
}

TEST_F(TokenFiles, ABadLineIsNamedAndItsTokenNeverQuoted) {
  const std::string secret = "s3cret-0123456789abcdef";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"one " + secret + "\n", "expected LABEL TOKEN SCOPES"},
      {"one " + secret + " read,admin\n", "unknown scope 'admin'"},
      {"one " + secret + " read, write\n", "unknown scope ''"},
      {"one short read\n", "must be 16 to 256"},
      {"one s3cret%0123456789abcdef read\n", "must be 16 to 256"},
      {"bad/label " + secret + " read\n", "label"},
      {"one " + secret + " read -web\n", "prefix"},
      {"one " + secret + " read\ntwo " + secret + " write\n", "also on an earlier line"},
      {"one " + secret + " read\none x" + secret + " write\n", "used twice"},
  };
  for (const auto& [text, expected] : cases) {
    const auto read = read_tokens_file(write(text));
    ASSERT_TRUE(std::holds_alternative<std::string>(read)) << text;
    const std::string& error = std::get<std::string>(read);
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_NE(error.find(" line "), std::string::npos) << error;
    EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
  }
  EXPECT_NE(std::get<std::string>(read_tokens_file("/nonexistent/tokens")).find("cannot read"),
            std::string::npos);
}

TEST_F(TokenFiles, IngestTokenFileHoldsSeveralWriteAndDeleteTokens) {
  const auto read = read_ingest_token_file(write("# comment\nfirst-token\n\n  second-token \n"));
  ASSERT_TRUE(std::holds_alternative<std::vector<AccessToken>>(read));
  const auto& tokens = std::get<std::vector<AccessToken>>(read);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[1].secret, "second-token");
  EXPECT_EQ(tokens[1].label, "ingest-token-file:4");
  EXPECT_EQ(tokens[1].scopes, kWriteAndDelete);
  EXPECT_TRUE(std::holds_alternative<std::string>(read_ingest_token_file(write("# none\n\n"))));
}

int status_of(const AccessPolicy& policy, std::string_view method, std::string_view path,
              std::string_view token) {
  return policy.decide(method, path, token.empty() ? "" : "Bearer " + std::string(token),
                       token.empty() ? 0 : 1).status;
}

TEST_F(TokenFiles, DecidesScopeThenPrefixFor401And403) {
  auto loaded = AccessPolicy::load({.tokens_file = write(std::string("writer ") + kWriter +
                                                         " write web-01\nreader " + kReader +
                                                         " read db-\nadmin " + kAdmin +
                                                         " read,write,delete,metrics\n"),
                                    .ingest_token = "",
                                    .ingest_token_file = ""});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<AccessPolicy>>(loaded));
  const AccessPolicy& policy = *std::get<std::unique_ptr<AccessPolicy>>(loaded);
  EXPECT_EQ(status_of(policy, "POST", "/server/web-01", kWriter), 0);
  EXPECT_EQ(status_of(policy, "POST", "/server/web-011", kWriter), 0);
  EXPECT_EQ(status_of(policy, "POST", "/server/web-02", kWriter), 403);
  EXPECT_EQ(status_of(policy, "DELETE", "/server/web-01", kWriter), 403);
  EXPECT_EQ(status_of(policy, "GET", "/server/web-01", kWriter), 403);
  EXPECT_EQ(status_of(policy, "GET", "/server/db-1", kReader), 0);
  EXPECT_EQ(status_of(policy, "GET", "/server/web-01", kReader), 403);
  EXPECT_EQ(status_of(policy, "GET", "/fleet", kReader), 0);
  EXPECT_EQ(status_of(policy, "GET", "/metrics", kReader), 403);
  EXPECT_EQ(status_of(policy, "GET", "/metrics", kAdmin), 0);
  EXPECT_EQ(status_of(policy, "GET", "/fleet", ""), 401);
  EXPECT_EQ(status_of(policy, "GET", "/fleet", "r-0123456789abcdeX"), 401);
  EXPECT_EQ(status_of(policy, "GET", "/healthz", ""), 0);
  EXPECT_EQ(policy.decide("GET", "/fleet", "Bearer x", 2).status, 401);
  EXPECT_EQ(policy.decide("GET", "/fleet", std::string("bearer ") + kReader, 1).status, 0);
  const AccessDecision decision = policy.decide("POST", "/server/web-02", std::string("Bearer ") + kWriter, 1);
  EXPECT_EQ(decision.label, "writer");
  EXPECT_EQ(decision.name, "web-02");
  EXPECT_EQ(std::string(decision.message).find(kWriter), std::string::npos);
}

TEST_F(TokenFiles, IngestTokensAloneGuardWriteAndDeleteOnlyAndReloadReplacesThem) {
  const std::string path = write("first-token\n");
  auto loaded = AccessPolicy::load({.tokens_file = "", .ingest_token = "", .ingest_token_file = path});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<AccessPolicy>>(loaded));
  AccessPolicy& policy = *std::get<std::unique_ptr<AccessPolicy>>(loaded);
  EXPECT_EQ(status_of(policy, "GET", "/server/x", ""), 0);
  EXPECT_EQ(status_of(policy, "GET", "/metrics", ""), 0);
  EXPECT_EQ(status_of(policy, "POST", "/server/x", ""), 401);
  EXPECT_EQ(status_of(policy, "POST", "/server/x", "first-token"), 0);
  EXPECT_EQ(status_of(policy, "DELETE", "/server/x", "first-token"), 0);
  std::ofstream(path) << "second-token\n";
  EXPECT_NE(policy.reload().find("1 token in force"), std::string::npos);
  EXPECT_EQ(status_of(policy, "POST", "/server/x", "first-token"), 401);
  EXPECT_EQ(status_of(policy, "POST", "/server/x", "second-token"), 0);
  std::ofstream(path) << "# nothing left\n";
  EXPECT_NE(policy.reload().find("the tokens in force stay"), std::string::npos);
  EXPECT_EQ(status_of(policy, "POST", "/server/x", "second-token"), 0);
}

}  // namespace
}  // namespace servertrack::http
