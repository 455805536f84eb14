// The worker's connection handling: one epoll thread owns every connection,
// and a small pool of handler threads runs cpp-httplib on complete requests.
//
// The loop thread (the caller of run()) accepts, reads non-blocking into each
// connection's buffer and frames requests with frame_request(); an idle or
// half-sent connection costs its buffer and nothing else (no thread, no
// wake-ups). Only a complete request goes to a handler thread, which runs
// `serve` (cpp-httplib's process_request) over the buffered bytes, sends the
// response without blocking and gives the connection back; pipelined bytes
// stay buffered for the next round. The loop itself answers, without a
// handler: 100 Continue when an announced body is acceptable; 400/413/431 for
// requests it refuses while framing (then closes); 408 and close when a request
// is not complete kRequestTimeout after its first byte; 503 + Retry-After: 1
// when kMaxQueuedRequests complete requests already wait for a handler. An
// idle keep-alive connection is closed after kKeepAliveTimeout; a response the
// client does not read within kRequestTimeout closes the connection. A
// connection that is to close stops sending and discards input until the
// client closes or 2 s pass, so the last response is not lost to a reset.
//
// Memory bound of a worker: at most kMaxConnections connections, each holding
// at most kMaxRequestBytes (96 KiB) of input plus one response (a few KiB; a
// connection with output pending is not read further), so about
// 16,384 x 100 KiB = 1.6 GiB in the worst case; an idle connection keeps at
// most 4 KiB of each buffer (~200 bytes after small requests); the ready queue
// holds pointers only (kMaxQueuedRequests).
//
// stop() may be called from any thread (the signal thread): the loop stops
// accepting, closes idle and half-received connections, lets handlers finish
// the requests they have (answered with Connection: close) and run() returns
// once every connection is closed.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace servertrack::http {

inline constexpr auto kRequestTimeout = std::chrono::seconds(10);
inline constexpr auto kKeepAliveTimeout = std::chrono::seconds(75);
inline constexpr std::size_t kMaxConnections = 16384;
inline constexpr std::size_t kMaxQueuedRequests = 1024;

// cpp-httplib's process_request over one framed request; returns false when
// the connection must close (connection_closed is set for "Connection: close"
// and HTTP/1.0 without keep-alive).
using ServeRequest =
    std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;

class EventLoop {
 public:
  // Takes ownership of `listen_fd` (listening, non-blocking). Raises the
  // process's RLIMIT_NOFILE as far as kMaxConnections needs and allows.
  EventLoop(int listen_fd, ServeRequest serve, std::size_t handler_threads,
            std::string server_header);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the handler threads (so construct StopOnSignal first: they inherit
  // its signal mask) and serves until stop().
  void run();
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection;

  void accept_connections();
  void on_connection_event(int fd, std::uint32_t events);
  void take_back_returned();
  void process(Connection& connection);
  bool read_available(Connection& connection);
  bool flush(Connection& connection);
  void linger(Connection& connection);
  void respond_from_loop(Connection& connection, int status, bool keep_alive);
  // False (nothing handed over) when kMaxQueuedRequests already wait.
  bool hand_to_handler(Connection& connection, std::size_t length);
  void close_connection(Connection& connection);
  void sweep(Clock::time_point now);
  void begin_stop();
  void handler_thread();
  void handle(Connection& connection);

  int listen_fd_;
  int epoll_fd_;
  int wake_fd_;  // eventfd: handlers returned connections, or stop()
  ServeRequest serve_;
  std::string server_header_;
  std::size_t connection_limit_;
  std::vector<std::unique_ptr<Connection>> connections_;  // by fd
  std::size_t open_connections_ = 0;
  Clock::time_point now_;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;  // loop thread's view

  std::mutex mutex_;
  std::condition_variable request_ready_;
  std::deque<Connection*> ready_;        // complete requests waiting for a handler
  std::vector<Connection*> returned_;    // handled, waiting for the loop
  std::vector<Connection*> taken_back_;  // the loop's side of returned_ (reused)
  bool handlers_exit_ = false;
  std::vector<std::thread> handlers_;
};

}  // namespace servertrack::http
