#include "http/serving_threads.h"

namespace servertrack::http {

ServingThreads::ServingThreads(const std::vector<int>& listen_fds, ServeRequest serve,
                               AdmitBody admit_body, std::string server_header,
                               ConnectionCounters& counters)
    : serve_(std::move(serve)), admit_body_(std::move(admit_body)) {
  for (const int fd : listen_fds) {
    loops_.push_back(std::make_unique<EventLoop>(fd, serve_, admit_body_, server_header, counters));
  }
}

ServingThreads::~ServingThreads() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  orphan_ready_.notify_all();
  // threads_ only grows under mutex_, and only while run() watches.
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void ServingThreads::stop() {
  for (auto& loop : loops_) loop->stop();
}

bool ServingThreads::all_finished() const {
  for (const auto& loop : loops_) {
    if (!loop->finished()) return false;
  }
  return true;
}

void ServingThreads::run() {
  for (auto& loop : loops_) {
    loop->try_take();
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, driven = loop.get()] { serve_loops(driven); });
  }
  while (!all_finished()) {
    std::this_thread::sleep_for(kWatchInterval);
    const auto now = std::chrono::steady_clock::now();
    for (auto& loop : loops_) {
      if (loop->stalled(now) && loop->try_take()) hand_to_spare(*loop);
    }
  }
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  orphan_ready_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

// The watcher holds `loop`; a spare drives it on. With every spare busy and
// kMaxSpareThreads reached, the loop waits for the next spare to come back.
void ServingThreads::hand_to_spare(EventLoop& loop) {
  std::lock_guard lock(mutex_);
  orphans_.push_back(&loop);
  if (idle_spares_ > 0) {
    orphan_ready_.notify_one();
  } else if (spares_ < kMaxSpareThreads) {
    ++spares_;
    threads_.emplace_back([this] { serve_loops(nullptr); });
  }
}

// Drives `loop` (held by this thread) until it finishes or is taken over,
// then serves as a spare: drives whatever loop the watcher hands over.
void ServingThreads::serve_loops(EventLoop* loop) {
  for (;;) {
    if (loop != nullptr && loop->drive()) loop->release();
    std::unique_lock lock(mutex_);
    ++idle_spares_;
    orphan_ready_.wait(lock, [this] { return done_ || !orphans_.empty(); });
    --idle_spares_;
    if (orphans_.empty()) return;
    loop = orphans_.back();
    orphans_.pop_back();
  }
}

}  // namespace servertrack::http
