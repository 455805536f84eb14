#include "http/stop_on_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

namespace servertrack::http {
namespace {

sigset_t worker_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void block_worker_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  const sigset_t set = worker_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

StopOnSignal::StopOnSignal(std::function<void(int signal_number)> stop, std::chrono::milliseconds deadline,
                           std::function<void(std::string_view line)> log, std::function<void()> reload)
    : stop_(std::move(stop)), deadline_(deadline), log_(std::move(log)), reload_(std::move(reload)) {
  block_worker_signals();
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
  const sigset_t set = worker_signals();
  int signal_number = 0;
  std::unique_lock lock(mutex_, std::defer_lock);
  for (;;) {
    sigwait(&set, &signal_number);
    lock.lock();
    if (finished_) return;
    if (signal_number != SIGHUP || !reload_) break;
    lock.unlock();
    reload_();
  }
  lock.unlock();
  stop_(signal_number);
  lock.lock();
  if (!main_finished_.wait_for(lock, deadline_, [this] { return finished_; })) {
    log_(fmt::format("still busy {} ms after the signal; exiting anyway", deadline_.count()));
    _exit(0);
  }
}

}  // namespace servertrack::http
