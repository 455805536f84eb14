// Graceful stop on SIGTERM or SIGINT, with a deadline; reload on SIGHUP.
//
// Call block_worker_signals() first thing in main(), before any other thread
// starts: SIGTERM, SIGINT and SIGHUP are then blocked in every thread (they
// inherit the mask), so one that comes during start-up waits for the
// StopOnSignal, and SIGPIPE is ignored (cpp-httplib 0.11.4 writes without
// MSG_NOSIGNAL). StopOnSignal waits for the signals on its own thread. On
// SIGHUP it calls `reload` and waits on. On SIGTERM or SIGINT it calls `stop`
// once, then gives the process `deadline` to return from main; past it, it
// logs one line and exits 0 anyway (a client trickling a request in can hold
// its thread up to the read timeout). Destroy it at the end of main.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace servertrack::http {

void block_worker_signals();

class StopOnSignal {
 public:
  // Without `reload`, SIGHUP stops like SIGTERM.
  StopOnSignal(std::function<void()> stop, std::chrono::milliseconds deadline,
               std::function<void()> reload = {});
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  void wait_for_signal();

  std::function<void()> stop_;
  std::function<void()> reload_;
  std::chrono::milliseconds deadline_;
  std::mutex mutex_;
  std::condition_variable main_finished_;
  bool finished_ = false;
  std::thread waiter_;
};

}  // namespace servertrack::http
