// Google Benchmark of the access check (http/access_policy.h): decide() for a
// POST /server/<name> with a good write token, against tokens files of 1, 100
// and 2,000 tokens (one per host, as the agents' units use them), and for a
// wrong token. A program, not a test (see meson.build for how to run it).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <variant>

#include "http/access_policy.h"

namespace {

std::string token_of(int host) {
  char text[64];
  std::snprintf(text, sizeof text, "%048x", host * 2654435761u);
  return text;
}

std::unique_ptr<servertrack::http::AccessPolicy> policy_with(int tokens) {
  char path[] = "/tmp/servertrack-bench-tokens-XXXXXX";
  ::close(mkstemp(path));
  {
    std::ofstream file(path);
    for (int host = 0; host < tokens; ++host) {
      file << "agent-" << host << ' ' << token_of(host) << " write web-" << host << '\n';
    }
  }
  auto loaded = servertrack::http::AccessPolicy::load({.tokens_file = path, .ingest_token = "", .ingest_token_file = ""});
  std::remove(path);
  return std::move(std::get<std::unique_ptr<servertrack::http::AccessPolicy>>(loaded));
}

void BM_DecideGoodToken(benchmark::State& state) {
  const int tokens = static_cast<int>(state.range(0));
  const auto policy = policy_with(tokens);
  const int host = tokens / 2;
  const std::string header = "Bearer " + token_of(host);
  const std::string path = "/server/web-" + std::to_string(host);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->decide("POST", path, header, 1).status);
  }
}
BENCHMARK(BM_DecideGoodToken)->Arg(1)->Arg(100)->Arg(2000);

void BM_DecideWrongToken(benchmark::State& state) {
  const auto policy = policy_with(static_cast<int>(state.range(0)));
  const std::string header = "Bearer " + token_of(-1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->decide("POST", "/server/web-1", header, 1).status);
  }
}
BENCHMARK(BM_DecideWrongToken)->Arg(1)->Arg(2000);

void BM_DecideNoTokensFile(benchmark::State& state) {
  auto loaded = servertrack::http::AccessPolicy::load({.tokens_file = "", .ingest_token = "", .ingest_token_file = ""});
  const auto& policy = *std::get<std::unique_ptr<servertrack::http::AccessPolicy>>(loaded);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy.decide("POST", "/server/web-1", "", 0).status);
  }
}
BENCHMARK(BM_DecideNoTokensFile);

}  // namespace

BENCHMARK_MAIN();
