// The thread that delivers notifications, so that no receiver, however slow
// or down, ever holds up an evaluation (docs/design.md, "Alerts").
//
// - Alertmanager: the newest batch of every firing (and recently resolved)
//   alert replaces any batch not yet sent; one attempt each (the next
//   evaluation sends it again a minute later: Alertmanager's client contract).
// - Webhook: one body per change, in order; a 5xx or no answer is retried
//   after 1, 2, 4 ... 60 s (bounded) until kWebhookGiveUpSeconds after the
//   first attempt, then counted dropped; a 4xx is dropped at once (the
//   receiver refuses it: sending it again changes nothing). At most
//   kMaxQueuedBodies wait; the oldest is dropped beyond.
//
// post_*() from the evaluation thread: O(1) under a mutex, never blocking on
// the network. The counters may be read from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace servertrack::alert {

inline constexpr int kWebhookGiveUpSeconds = 15 * 60;
inline constexpr std::size_t kMaxQueuedBodies = 10000;

// An http:// URL split for cpp-httplib: "http://host:port" and the path
// ("/" when none), or nullopt when it is not one.
struct SplitUrl {
  std::string origin;
  std::string path;
};
std::optional<SplitUrl> split_url(const std::string& url);

class Sender {
 public:
  // "" for a receiver not configured. The URLs were checked with split_url().
  // first_retry: the first webhook retry's delay (doubling to 60 s).
  Sender(std::string alertmanager_url, std::string webhook_url,
         std::chrono::milliseconds first_retry = std::chrono::seconds(1));
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void post_alertmanager(std::string body);
  void post_webhook(std::string body);

  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Queued {
    std::string body;
    std::chrono::steady_clock::time_point first_attempt{};
    std::chrono::steady_clock::time_point due{};
    std::chrono::milliseconds delay{};
    int attempts = 0;
  };
  void run();
  // The HTTP status, or 0 for no answer.
  int deliver(const SplitUrl& url, const std::string& body);

  std::optional<SplitUrl> alertmanager_;
  std::optional<SplitUrl> webhook_;
  std::chrono::milliseconds first_retry_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::string> alertmanager_batch_;
  std::deque<Queued> webhooks_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace servertrack::alert
