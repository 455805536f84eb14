// One event loop: one listening socket (SO_REUSEPORT, one per loop), its epoll
// set and the connections it accepted. It serves each complete request on the
// thread that read it (the worker's fast path or cpp-httplib's process_request
// over the buffered bytes),
// with no queue and no hand-off on the fast path. http/serving_threads.h runs
// several loops and the takeover described below.
//
// The loop reads non-blocking into each connection's buffer and frames
// requests with frame_request(); an idle or half-sent connection costs its
// buffer and nothing else (no thread, no wake-ups). It answers itself, without
// a route: 100 Continue when an announced body is acceptable and `admit_body`
// accepts the request's head (else its refusal, e.g. a 401, then close); 400/413/431 for
// requests it refuses while framing (then closes); 408 and close when a request
// is not complete kRequestTimeout after its first byte. At most
// kPipelinedPerTurn requests of one connection are served in a row before the
// others get their turn; while kMaxBackloggedConnections connections wait for
// a further turn, the loop is behind and answers new requests with 503 +
// Retry-After: 1 (a refusal copies a response made once: it costs far less
// than serving). An idle keep-alive connection is closed after
// kKeepAliveTimeout; a response the client does not read within
// kRequestTimeout closes the connection. A connection that is to close stops
// sending and discards input until the client closes or 2 s pass, so the last
// response is not lost to a reset.
//
// Slow requests (docs/design.md, "The connection layer"): a request that blocks
// (record() waiting for a busy slot) must not stall the loop's other
// connections. The thread driving a loop gives up the loop's `driven` flag
// while it serves a request and takes it back after; if the request took longer
// than kSlowRequest, another thread may have taken the flag and driven the loop
// on (try_take(), by a spare thread of http/serving_threads.h): the slow
// thread then hands its connection back to the loop
// (through a small mutex-guarded list and the wake-up eventfd) and leaves.
// The loop's whole state, the batch of epoll events included, lives in the
// object, so a takeover loses nothing. Cost on the fast path: two atomic
// exchanges and one relaxed store per request.
//
// Memory bound of a worker: at most kMaxConnections connections over all its
// loops, each holding at most kMaxRequestBytes (96 KiB) of input plus one
// response (a few KiB; a connection with output pending is not read further),
// so about 16,384 x 100 KiB = 1.6 GiB in the worst case; an idle connection
// keeps at most 4 KiB of each buffer (~200 bytes after small requests).
//
// stop() may be called from any thread (the signal thread): the loop stops
// accepting, closes idle and half-received connections, finishes the requests
// it has (answered with Connection: close) and drive() returns once every
// connection is closed.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/buffered_stream.h"
#include "http/connection_counters.h"
#include "http/keep_alive.h"

namespace servertrack::http {

inline constexpr auto kRequestTimeout = std::chrono::seconds(10);
inline constexpr auto kSlowRequest = std::chrono::milliseconds(5);
inline constexpr std::size_t kMaxConnections = 16384;
inline constexpr unsigned kPipelinedPerTurn = 16;
// Half of one epoll wait's events (kEventsPerWait, 1,024): a loop that finds
// this many connections still holding requests after their turn is behind.
inline constexpr std::size_t kMaxBackloggedConnections = 512;

// Serves one framed request (the fast path, else cpp-httplib's
// process_request); returns false when the connection must close
// (connection_closed is set for "Connection: close" and HTTP/1.0 without
// keep-alive).
using ServeRequest =
    std::function<bool(BufferedStream& stream, bool close_connection, bool& connection_closed)>;

// Before "100 Continue": the whole response refusing the request whose head
// (request line and header lines) is given, or "" to let its body come.
using AdmitBody = std::function<std::string(std::string_view head)>;

// What the loops of one process share: the connection cap and its count.
struct ConnectionBudget {
  std::size_t limit;                 // connections the process may hold at once
  std::size_t descriptor_table;      // the process's RLIMIT_NOFILE
  std::atomic<std::size_t> open{0};  // over all loops
};

// Raises RLIMIT_NOFILE as far as kMaxConnections needs and allows; returns the
// cap and table size every loop of the process uses. Call once per process.
ConnectionBudget& connection_budget();

class EventLoop {
 public:
  // Takes ownership of `listen_fd` (listening, non-blocking). `serve`,
  // `admit_body` and `counters` outlive the loop.
  EventLoop(int listen_fd, const ServeRequest& serve, const AdmitBody& admit_body,
            std::string server_header, ConnectionCounters& counters);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The right to drive the loop: a thread that got true may call drive().
  bool try_take() noexcept;
  // A thread that can take the loop over now: it has been serving one request
  // for longer than kSlowRequest (a hint; take it with try_take()).
  bool stalled(std::chrono::steady_clock::time_point now) const noexcept;
  // Serves until the loop is finished (returns true; the caller then gives the
  // loop up with release()) or until another thread took the loop over while
  // this one served a slow request (returns false; the loop is not the
  // caller's any more). The caller must hold the loop (try_take()).
  bool drive();
  void release() noexcept;
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection;

  void wait_for_events();
  bool dispatch(const epoll_event& event);
  void accept_connections();
  void take_back_returned();
  bool serve_pending();
  bool process(Connection& connection);
  bool serve_here(Connection& connection, std::size_t length);
  void handle(Connection& connection);
  void after_handled(Connection& connection);
  bool read_available(Connection& connection);
  bool flush(Connection& connection);
  void linger(Connection& connection);
  void respond_from_loop(Connection& connection, int status, bool keep_alive);
  void close_connection(Connection& connection);
  void sweep();
  void begin_stop();

  int listen_fd_;
  int epoll_fd_;
  int wake_fd_;  // eventfd: a slow thread returned a connection, or stop()
  const ServeRequest& serve_;
  const AdmitBody& admit_body_;
  std::string server_header_;
  ConnectionCounters& counters_;
  ConnectionBudget& budget_;

  // The driver's state: only the thread holding `driven_` touches it.
  std::vector<std::unique_ptr<Connection>> connections_;  // by fd
  std::size_t open_here_ = 0;
  std::vector<epoll_event> events_;
  std::size_t event_count_ = 0;
  std::size_t next_event_ = 0;      // events_[next_event_ .. event_count_) not handled yet
  std::deque<int> pending_;         // fds with requests left after their turn
  std::map<int, std::string> loop_responses_;  // by status * 2 + keep_alive, made once
  Clock::time_point now_;
  Clock::time_point next_sweep_;
  bool stopping_ = false;

  std::atomic<bool> driven_{false};
  std::atomic<std::int64_t> serving_since_{0};  // steady ns; 0: not serving
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};

  std::mutex returned_mutex_;
  std::vector<Connection*> returned_;    // served by a thread that lost the loop
  std::vector<Connection*> taken_back_;  // the driver's side of returned_ (reused)
};

}  // namespace servertrack::http
