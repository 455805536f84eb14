// The thread that delivers notifications: see alert/sender.h.
#include "alert/sender.h"

#include <httplib.h>

#include <algorithm>

#include "http/worker_log.h"

namespace servertrack::alert {

std::optional<SplitUrl> split_url(const std::string& url) {
  if (!url.starts_with("http://")) return std::nullopt;
  const auto slash = url.find('/', 7);
  SplitUrl out{url.substr(0, slash), slash == std::string::npos ? "/" : url.substr(slash)};
  if (out.origin.size() <= 7) return std::nullopt;
  return out;
}

Sender::Sender(std::string alertmanager_url, std::string webhook_url, std::chrono::milliseconds first_retry)
    : first_retry_(first_retry) {
  if (!alertmanager_url.empty()) {
    alertmanager_ = split_url(alertmanager_url);
    if (alertmanager_) {
      if (alertmanager_->path.ends_with('/')) alertmanager_->path.pop_back();
      alertmanager_->path += "/api/v2/alerts";
    }
  }
  if (!webhook_url.empty()) webhook_ = split_url(webhook_url);
  thread_ = std::thread([this] { run(); });
}

Sender::~Sender() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Sender::post_alertmanager(std::string body) {
  if (!alertmanager_) return;
  {
    std::lock_guard lock(mutex_);
    alertmanager_batch_ = std::move(body);
  }
  wake_.notify_all();
}

void Sender::post_webhook(std::string body) {
  if (!webhook_) return;
  {
    std::lock_guard lock(mutex_);
    if (webhooks_.size() == kMaxQueuedBodies) {
      webhooks_.pop_front();
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    const auto now = std::chrono::steady_clock::now();
    webhooks_.push_back({std::move(body), now, now, first_retry_, 0});
  }
  wake_.notify_all();
}

int Sender::deliver(const SplitUrl& url, const std::string& body) {
  httplib::Client client(url.origin);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  client.set_write_timeout(std::chrono::seconds(5));
  const auto result = client.Post(url.path.c_str(), body, "application/json");
  const int status = result ? result->status : 0;
  if (status >= 200 && status < 300) {
    sent_.fetch_add(1, std::memory_order_relaxed);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
    http::log_line("{} {}{}: {}", "POST", url.origin, url.path,
                   status ? fmt::format("answered {}", status) : std::string("no answer"));
  }
  return status;
}

void Sender::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (stopping_) return;
    if (alertmanager_batch_) {
      std::string body = std::move(*alertmanager_batch_);
      alertmanager_batch_.reset();
      lock.unlock();
      deliver(*alertmanager_, body);
      lock.lock();
      continue;
    }
    if (!webhooks_.empty() && webhooks_.front().due <= now) {
      Queued item = std::move(webhooks_.front());
      webhooks_.pop_front();
      lock.unlock();
      const int status = deliver(*webhook_, item.body);
      lock.lock();
      const bool retry = status == 0 || status >= 500;
      const auto after = std::chrono::steady_clock::now();
      if (status >= 200 && status < 300) continue;
      if (!retry || after - item.first_attempt >= std::chrono::seconds(kWebhookGiveUpSeconds)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        http::log_line("webhook: gave up a notification after {} attempts", item.attempts + 1);
        continue;
      }
      item.attempts += 1;
      item.due = after + item.delay;
      item.delay = std::min<std::chrono::milliseconds>(item.delay * 2, std::chrono::seconds(60));
      webhooks_.push_front(std::move(item));  // in order: the next change waits for this one
      continue;
    }
    if (webhooks_.empty()) wake_.wait(lock);
    else wake_.wait_until(lock, webhooks_.front().due);
  }
}

}  // namespace servertrack::alert
