#include "query/peer_fetch.h"

#include <httplib.h>

#include <fmt/format.h>
#include <system_error>
#include <thread>

#include "common/json_string.h"

namespace servertrack::query {
namespace {

PeerAnswer fetch(const Peer& peer, const std::string& target, const std::string& authorization) {
  const std::string where = peer.host.find(':') == std::string::npos
                                ? fmt::format("{}:{}", peer.host, peer.port)
                                : fmt::format("[{}]:{}", peer.host, peer.port);
  try {
    httplib::Client client(peer.host, peer.port);
    client.set_connection_timeout(kPeerConnectTimeout);
    client.set_read_timeout(kPeerReadTimeout);
    client.set_write_timeout(kPeerReadTimeout);
    client.set_keep_alive(false);
    httplib::Headers headers{{kScopeHeader, kNodeScope}, {"Accept", "application/json"}};
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    const httplib::Result result = client.Get(target, headers);
    if (!result) return {"", fmt::format("{}: {}", where, httplib::to_string(result.error()))};
    if (result->status != 200) return {"", fmt::format("{} answered HTTP {}", where, result->status)};
    return {std::move(result->body), ""};
  } catch (const std::exception& error) {
    return {"", fmt::format("{}: {}", where, error.what())};
  }
}

}  // namespace

void append_coverage_json(const std::vector<Peer>& peers, const std::vector<PeerAnswer>& answers,
                          fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  const auto list = [&](const char* key, bool unreachable) {
    fmt::format_to(it, ",\"{}\":[", key);
    bool first = true;
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (unreachable && answers[i].error.empty()) continue;
      fmt::format_to(it, "{}{}", first ? "" : ",", common::json_string(peers[i].node));
      first = false;
    }
    out.push_back(']');
  };
  list("nodes", false);
  list("unreachable", true);
  fmt::format_to(it, ",\"node_errors\":{{");
  bool first = true;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (answers[i].error.empty()) continue;
    fmt::format_to(it, "{}{}:{}", first ? "" : ",", common::json_string(peers[i].node),
                   common::json_string(answers[i].error));
    first = false;
  }
  out.push_back('}');
}

std::vector<PeerAnswer> fetch_from_peers(const std::vector<Peer>& peers, const std::vector<std::string>& targets,
                                         const std::string& authorization) {
  std::vector<PeerAnswer> answers(peers.size());
  std::vector<std::thread> threads;
  threads.reserve(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) {
    try {
      threads.emplace_back([&, i] { answers[i] = fetch(peers[i], targets[i], authorization); });
    } catch (const std::system_error&) {  // no thread to be had: ask this one in turn
      answers[i] = fetch(peers[i], targets[i], authorization);
    }
  }
  for (std::thread& thread : threads) thread.join();
  return answers;
}

}  // namespace servertrack::query
