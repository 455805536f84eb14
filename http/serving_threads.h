// The threads of a worker that serve HTTP: one event loop per listening socket
// (http/event_loop.h), each driven by its own thread, plus the takeover of a
// loop whose thread is stuck in a slow request.
//
// A watcher (the thread that calls run()) looks at every loop each
// kWatchInterval; a loop that has been serving one request for more than
// kSlowRequest is taken over by an idle spare thread, started when none is
// idle, at most kMaxSpareThreads. The stuck thread, once its request is done,
// hands its connection back and becomes a spare itself. So a request waiting
// for a busy slot delays the other connections of its loop by at most
// kSlowRequest + kWatchInterval, as long as fewer than kMaxSpareThreads such
// requests are in flight at once.
//
// Construct after StopOnSignal (threads inherit its signal mask); run() once
// from main's thread; stop() from any thread (the signal thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/connection_counters.h"
#include "http/event_loop.h"

namespace servertrack::http {

inline constexpr auto kWatchInterval = std::chrono::milliseconds(5);
inline constexpr std::size_t kMaxSpareThreads = 64;

class ServingThreads {
 public:
  // One loop per descriptor of `listen_fds` (listening, non-blocking; owned
  // from here on).
  ServingThreads(const std::vector<int>& listen_fds, ServeRequest serve, AdmitBody admit_body,
                 std::string server_header, ConnectionCounters& counters);
  ~ServingThreads();
  ServingThreads(const ServingThreads&) = delete;
  ServingThreads& operator=(const ServingThreads&) = delete;

  // Serves until stop() and every loop has finished.
  void run();
  void stop();

 private:
  void serve_loops(EventLoop* loop);
  bool all_finished() const;
  void hand_to_spare(EventLoop& loop);

  ServeRequest serve_;
  AdmitBody admit_body_;
  std::vector<std::unique_ptr<EventLoop>> loops_;

  std::mutex mutex_;
  std::condition_variable orphan_ready_;
  std::vector<EventLoop*> orphans_;  // taken over by the watcher, waiting for a spare
  std::size_t idle_spares_ = 0;
  std::size_t spares_ = 0;
  bool done_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace servertrack::http
