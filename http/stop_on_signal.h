// Graceful stop on SIGTERM or SIGINT, with a deadline.
//
// Construct in main() before any other thread starts: it blocks SIGTERM and
// SIGINT in every thread (they inherit the mask), ignores SIGPIPE (cpp-httplib
// 0.11.4 writes without MSG_NOSIGNAL), and waits for the signals on its own
// thread. On a signal it calls `stop` once, then gives the process `deadline`
// to return from main; past it, it logs one line and exits 0 anyway (a client
// trickling a request in can hold its thread up to the read timeout).
// Destroy it at the end of main.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace servertrack::http {

class StopOnSignal {
 public:
  StopOnSignal(std::function<void()> stop, std::chrono::milliseconds deadline);
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  void wait_for_signal();

  std::function<void()> stop_;
  std::chrono::milliseconds deadline_;
  std::mutex mutex_;
  std::condition_variable main_finished_;
  bool finished_ = false;
  std::thread waiter_;
};

}  // namespace servertrack::http
