#include "http/stop_on_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

namespace servertrack::http {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

StopOnSignal::StopOnSignal(std::function<void(int signal_number)> stop, std::chrono::milliseconds deadline,
                           std::function<void(std::string_view line)> log)
    : stop_(std::move(stop)), deadline_(deadline), log_(std::move(log)) {
  ::signal(SIGPIPE, SIG_IGN);
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this] { wait_for_signal(); });
}

StopOnSignal::~StopOnSignal() {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  main_finished_.notify_all();
  // Wakes the waiter if no signal came; a pending one is consumed the same way.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

void StopOnSignal::wait_for_signal() {
  const sigset_t set = stop_signals();
  int signal_number = 0;
  sigwait(&set, &signal_number);
  std::unique_lock lock(mutex_);
  if (finished_) return;
  lock.unlock();
  stop_(signal_number);
  lock.lock();
  if (!main_finished_.wait_for(lock, deadline_, [this] { return finished_; })) {
    log_(fmt::format("still busy {} ms after the signal; exiting anyway", deadline_.count()));
    _exit(0);
  }
}

}  // namespace servertrack::http
