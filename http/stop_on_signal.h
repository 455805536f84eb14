// Graceful stop on SIGTERM or SIGINT, with a deadline; reload on SIGHUP.
//
// Call block_worker_signals() first thing in main(), before any other thread
// starts: SIGTERM, SIGINT and SIGHUP are then blocked in every thread (they
// inherit the mask), so one that comes during start-up waits for the
// StopOnSignal, and SIGPIPE is ignored (cpp-httplib 0.11.4 writes without
// MSG_NOSIGNAL). StopOnSignal (which blocks them too) waits for the signals on
// its own thread. On SIGHUP it calls `reload` and waits on (without `reload`,
// SIGHUP stops like SIGTERM). On SIGTERM or SIGINT it calls `stop` once with
// the signal's number (the caller logs what stopping means for it), then gives
// the process `deadline` to return from main; past it, it writes one line with
// `log` and exits 0 anyway (a client trickling a request in can hold its
// thread up to the read timeout). All are called on the waiting thread.
// Destroy it at the end of main.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace servertrack::http {

void block_worker_signals();

class StopOnSignal {
 public:
  StopOnSignal(std::function<void(int signal_number)> stop, std::chrono::milliseconds deadline,
               std::function<void(std::string_view line)> log, std::function<void()> reload = {});
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  void wait_for_signal();

  std::function<void(int signal_number)> stop_;
  std::chrono::milliseconds deadline_;
  std::function<void(std::string_view line)> log_;
  std::function<void()> reload_;
  std::mutex mutex_;
  std::condition_variable main_finished_;
  bool finished_ = false;
  std::thread waiter_;
};

}  // namespace servertrack::http
