#include "http/event_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "http/buffered_stream.h"
#include "http/loop_responses.h"
#include "http/request_framer.h"

namespace servertrack::http {
namespace {

constexpr std::size_t kKeptBufferBytes = 4096;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReservedDescriptors = 64;
constexpr std::size_t kEventsPerWait = 1024;
// One wake-up of the listening socket may empty a whole listen backlog
// (http/worker.h, kListenBacklog), so a loop that fell behind meets at once
// everything that arrived meanwhile, and its overload answer can start.
constexpr int kAcceptsPerWake = 4096;
constexpr int kSweepIntervalMs = 1000;
constexpr auto kLingerTime = std::chrono::seconds(2);

std::size_t raise_descriptor_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t wanted = kMaxConnections + kReservedDescriptors;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > wanted ? wanted
                                                                                : limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

ConnectionBudget make_budget() {
  const std::size_t descriptors = raise_descriptor_limit();
  std::size_t limit = descriptors > 2 * kReservedDescriptors ? descriptors - kReservedDescriptors
                                                             : descriptors / 2;
  if (limit > kMaxConnections) limit = kMaxConnections;
  return ConnectionBudget{.limit = limit, .descriptor_table = descriptors};
}

std::int64_t steady_nanoseconds(std::chrono::steady_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// Sends as much of `output` as the socket takes now; false on a send error.
bool send_available(int fd, std::string& output) {
  std::size_t sent = 0;
  while (sent < output.size()) {
    const ssize_t n = ::send(fd, output.data() + sent, output.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return false;
    }
  }
  output.erase(0, sent);
  return true;
}

}  // namespace

ConnectionBudget& connection_budget() {
  static ConnectionBudget budget = make_budget();
  return budget;
}

struct EventLoop::Connection {
  explicit Connection(int descriptor) : fd(descriptor) {}
  // An idle connection keeps a few hundred bytes of buffer, not the most it ever needed.
  void release_large_buffers() {
    if (input.empty() && input.capacity() > kKeptBufferBytes) std::string().swap(input);
    if (output.empty() && output.capacity() > kKeptBufferBytes) std::string().swap(output);
  }
  int fd;
  std::unique_ptr<Endpoints> endpoints;  // filled when a request first needs them
  std::string input;
  std::string output;
  std::size_t framed = 0;        // bytes of the request being served
  Clock::time_point deadline{};  // of the request, the pending output or the idle wait
  bool with_handler = false;     // being served by a thread that may have lost the loop
  bool unread = false;           // the socket may hold bytes not read yet
  bool peer_closed = false;      // the client shut down its sending side
  bool continue_sent = false;    // "100 Continue" written for the current request
  bool close_after_output = false;
  bool lingering = false;        // output sent, waiting for the client to close
  bool broken = false;           // a send failed; close without further ado
};

EventLoop::EventLoop(int listen_fd, const ServeRequest& serve, const AdmitBody& admit_body,
                     std::string server_header, ConnectionCounters& counters)
    : listen_fd_(listen_fd),
      epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      serve_(serve),
      admit_body_(admit_body),
      server_header_(std::move(server_header)),
      counters_(counters),
      budget_(connection_budget()),
      events_(kEventsPerWait) {
  connections_.resize(budget_.descriptor_table);
  epoll_event listen_event{.events = EPOLLIN, .data = {.fd = listen_fd_}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event);
  epoll_event wake_event{.events = EPOLLIN, .data = {.fd = wake_fd_}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event);
  now_ = Clock::now();
  next_sweep_ = now_;
}

EventLoop::~EventLoop() {
  for (auto& connection : connections_) {
    if (connection) ::close(connection->fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

bool EventLoop::try_take() noexcept { return !driven_.exchange(true, std::memory_order_acquire); }

void EventLoop::release() noexcept { driven_.store(false, std::memory_order_release); }

bool EventLoop::stalled(Clock::time_point now) const noexcept {
  const std::int64_t since = serving_since_.load(std::memory_order_relaxed);
  return since != 0 && steady_nanoseconds(now) - since >
                           std::chrono::duration_cast<std::chrono::nanoseconds>(kSlowRequest).count();
}

void EventLoop::stop() {
  stop_requested_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

bool EventLoop::drive() {
  now_ = Clock::now();
  while (!finished()) {
    if (next_event_ == event_count_) wait_for_events();
    while (next_event_ < event_count_) {
      if (!dispatch(events_[next_event_++])) return false;
    }
    if (!serve_pending()) return false;
    if (now_ >= next_sweep_) {
      sweep();
      next_sweep_ = now_ + std::chrono::milliseconds(kSweepIntervalMs);
    }
    if (stopping_ && open_here_ == 0) finished_.store(true, std::memory_order_release);
  }
  return true;
}

void EventLoop::wait_for_events() {
  const int timeout = pending_.empty() ? kSweepIntervalMs : 0;
  const int count = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout);
  event_count_ = count > 0 ? static_cast<std::size_t>(count) : 0;
  next_event_ = 0;
  now_ = Clock::now();
}

bool EventLoop::dispatch(const epoll_event& event) {
  const int fd = event.data.fd;
  if (fd == listen_fd_) {
    accept_connections();
    return true;
  }
  if (fd == wake_fd_) {
    std::uint64_t value = 0;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &value, sizeof value);
    if (stop_requested_ && !stopping_) begin_stop();
    take_back_returned();
    return true;
  }
  Connection* connection = connections_[static_cast<std::size_t>(fd)].get();
  if (connection == nullptr) return true;
  if (event.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) connection->unread = true;
  return connection->with_handler || process(*connection);
}

void EventLoop::accept_connections() {
  for (int accepted = 0; accepted < kAcceptsPerWake && !stopping_; ++accepted) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (budget_.open.load(std::memory_order_relaxed) >= budget_.limit ||
        static_cast<std::size_t>(fd) >= connections_.size()) {
      ::close(fd);  // full: the client learns at once instead of waiting in the backlog
      continue;
    }
    budget_.open.fetch_add(1, std::memory_order_relaxed);
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto& connection = connections_[static_cast<std::size_t>(fd)];
    connection = std::make_unique<Connection>(fd);
    connection->deadline = now_ + kKeepAliveTimeout;
    ++open_here_;
    epoll_event event{.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data = {.fd = fd}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
}

void EventLoop::take_back_returned() {
  {
    std::lock_guard lock(returned_mutex_);
    taken_back_.swap(returned_);
  }
  for (Connection* connection : taken_back_) {
    after_handled(*connection);
    pending_.push_back(connection->fd);
  }
  taken_back_.clear();
}

bool EventLoop::serve_pending() {
  for (std::size_t turns = pending_.size(); turns > 0 && !pending_.empty(); --turns) {
    const int fd = pending_.front();
    pending_.pop_front();
    Connection* connection = connections_[static_cast<std::size_t>(fd)].get();
    if (connection != nullptr && !connection->with_handler && !process(*connection)) return false;
  }
  return true;
}

// Reads what has arrived, answers what can be answered and serves complete
// requests, at most kPipelinedPerTurn of them. The connection may be closed
// on return. False: this thread lost the loop while serving (see the header).
bool EventLoop::process(Connection& connection) {
  unsigned served = 0;
  for (;;) {
    if (connection.broken) {
      close_connection(connection);
      return true;
    }
    if (!flush(connection)) return true;
    if (connection.close_after_output) {
      linger(connection);
      return true;
    }
    if (connection.unread && connection.input.size() < kMaxRequestBytes &&
        !read_available(connection)) {
      close_connection(connection);
      return true;
    }
    if (connection.input.empty()) {
      if (connection.peer_closed || stopping_) close_connection(connection);
      return true;
    }
    const Frame frame = frame_request(connection.input);
    switch (frame.status) {
      case FrameStatus::incomplete:
        if (connection.peer_closed || stopping_) {
          close_connection(connection);
        } else if (frame.expects_continue && !connection.continue_sent) {
          connection.continue_sent = true;
          const std::string_view head = std::string_view(connection.input).substr(
              0, connection.input.find("\r\n\r\n") + 2);
          std::string refusal = admit_body_(head);
          if (refusal.empty()) {
            connection.output.append(kContinueResponse);
            flush(connection);
          } else {
            connection.output.append(refusal);
            connection.close_after_output = true;
            connection.input.clear();
            continue;
          }
        }
        return true;
      case FrameStatus::refused:
        respond_from_loop(connection, frame.error_status, false);
        continue;
      case FrameStatus::complete:
        connection.continue_sent = false;
        if (served++ == kPipelinedPerTurn) {
          pending_.push_back(connection.fd);
          return true;
        }
        if (pending_.size() >= kMaxBackloggedConnections) {
          connection.input.erase(0, frame.length);
          respond_from_loop(connection, 503, !stopping_);
          continue;
        }
        if (!serve_here(connection, frame.length)) return false;
        continue;
    }
  }
}

// Serves one framed request on this thread, the loop given up meanwhile (see
// the header). False when another thread took the loop over: the connection
// has been handed back and this thread must not touch the loop any more.
bool EventLoop::serve_here(Connection& connection, std::size_t length) {
  connection.framed = length;
  connection.with_handler = true;
  now_ = Clock::now();
  serving_since_.store(steady_nanoseconds(now_), std::memory_order_relaxed);
  release();
  handle(connection);
  serving_since_.store(0, std::memory_order_relaxed);
  now_ = Clock::now();
  if (try_take()) {
    after_handled(connection);
    return true;
  }
  bool wake = false;
  {
    std::lock_guard lock(returned_mutex_);
    wake = returned_.empty();
    returned_.push_back(&connection);
  }
  if (wake) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
  return false;
}

void EventLoop::handle(Connection& connection) {
  const bool closing = stop_requested_;
  bool connection_closed = false;
  if (!connection.endpoints) {
    connection.endpoints = std::make_unique<Endpoints>(endpoints_of(connection.fd));
  }
  BufferedStream stream(connection.fd, *connection.endpoints,
                        std::string_view(connection.input).substr(0, connection.framed),
                        connection.output);
  const bool keep = serve_(stream, closing, connection_closed);
  connection.input.erase(0, connection.framed);
  connection.framed = 0;
  if (!keep || connection_closed || closing) connection.close_after_output = true;
  if (!send_available(connection.fd, connection.output)) connection.broken = true;
}

void EventLoop::after_handled(Connection& connection) {
  connection.with_handler = false;
  connection.release_large_buffers();
  connection.deadline = now_ + (connection.input.empty() ? kKeepAliveTimeout : kRequestTimeout);
}

// False when the connection failed (reset) and must close.
bool EventLoop::read_available(Connection& connection) {
  static thread_local char chunk[kReadChunk];
  const bool was_empty = connection.input.empty();
  while (connection.input.size() < kMaxRequestBytes) {
    const ssize_t n = ::recv(connection.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      connection.input.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      connection.peer_closed = true;
      connection.unread = false;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      connection.unread = false;
      break;
    }
    return false;
  }
  if (was_empty && !connection.input.empty() && !connection.close_after_output) {
    connection.deadline = now_ + kRequestTimeout;
  }
  return true;
}

// True when no output is pending any more; false when some is (the loop waits
// for EPOLLOUT) or the connection was closed on a send error.
bool EventLoop::flush(Connection& connection) {
  if (connection.output.empty()) return true;
  if (!send_available(connection.fd, connection.output)) {
    close_connection(connection);
    return false;
  }
  if (!connection.output.empty()) {
    connection.deadline = now_ + kRequestTimeout;
    return false;
  }
  return true;
}

// Closing with unread input would make the kernel send a reset that can
// destroy the response before the client reads it: stop sending, discard what
// arrives until the client closes or kLingerTime passes.
void EventLoop::linger(Connection& connection) {
  if (!connection.lingering) {
    connection.lingering = true;
    ::shutdown(connection.fd, SHUT_WR);
    connection.deadline = now_ + kLingerTime;
  }
  while (connection.unread) {
    if (!read_available(connection)) return close_connection(connection);
    connection.input.clear();
  }
  if (connection.peer_closed) close_connection(connection);
}

void EventLoop::respond_from_loop(Connection& connection, int status, bool keep_alive) {
  counters_.count_connection_answer(status);
  const int key = status * 2 + (keep_alive ? 1 : 0);
  auto found = loop_responses_.find(key);
  if (found == loop_responses_.end()) {
    found = loop_responses_.emplace(key, loop_response(status, server_header_, keep_alive)).first;
  }
  connection.output += found->second;
  if (!keep_alive) {
    connection.close_after_output = true;
    connection.input.clear();
  }
}

void EventLoop::close_connection(Connection& connection) {
  const int fd = connection.fd;
  ::close(fd);  // also leaves the epoll set
  connections_[static_cast<std::size_t>(fd)].reset();
  --open_here_;
  budget_.open.fetch_sub(1, std::memory_order_relaxed);
}

void EventLoop::sweep() {
  for (auto& slot : connections_) {
    Connection* connection = slot.get();
    if (connection == nullptr || connection->with_handler || now_ < connection->deadline) continue;
    if (connection->lingering || connection->input.empty() || !connection->output.empty()) {
      close_connection(*connection);
      continue;
    }
    respond_from_loop(*connection, 408, false);
    process(*connection);  // never serves: the connection is closing
  }
}

// New clients are refused from here on; every connection gets a turn, in
// which idle ones close and buffered requests are served with Connection: close.
void EventLoop::begin_stop() {
  stopping_ = true;
  ::close(listen_fd_);  // also leaves the epoll set
  listen_fd_ = -1;
  for (const auto& slot : connections_) {
    if (slot) pending_.push_back(slot->fd);
  }
}

}  // namespace servertrack::http
