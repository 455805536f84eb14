// What the connection layer reports about the answers it writes itself
// (400/413/431 while framing, 408, 503 when its loop is behind), before any
// route sees the request. The worker's metrics implement it (http/metrics.h).
//
// Called on whichever thread drives an event loop, concurrently from several:
// an implementation must be thread-safe and cheap (no lock, no allocation).
#pragma once

namespace servertrack::http {

class ConnectionCounters {
 public:
  virtual void count_connection_answer(int status) noexcept = 0;

 protected:
  ~ConnectionCounters() = default;
};

}  // namespace servertrack::http
