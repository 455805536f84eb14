// How long both ways of serving keep an idle connection open, and what the
// Keep-Alive response header announces: one setting for the event loop
// (http/event_loop.h), cpp-httplib's server (http/worker.cc) and the
// responses written by hand (http/answer.h). Constants only; any thread.
#pragma once

#include <chrono>
#include <cstddef>

namespace servertrack::http {

inline constexpr auto kKeepAliveTimeout = std::chrono::seconds(75);
// What the Keep-Alive response header announces; the loop does not count requests.
inline constexpr std::size_t kKeepAliveMaxRequests = 1'000'000;

}  // namespace servertrack::http
