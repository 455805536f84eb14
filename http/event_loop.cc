#include "http/event_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "http/buffered_stream.h"
#include "http/loop_responses.h"
#include "http/metrics.h"
#include "http/request_framer.h"

namespace servertrack::http {
namespace {

constexpr std::size_t kKeptBufferBytes = 4096;

}  // namespace

struct EventLoop::Connection {
  explicit Connection(int descriptor) : fd(descriptor) {}
  // An idle connection keeps a few hundred bytes of buffer, not the most it ever needed.
  void release_large_buffers() {
    if (input.empty() && input.capacity() > kKeptBufferBytes) std::string().swap(input);
    if (output.empty() && output.capacity() > kKeptBufferBytes) std::string().swap(output);
  }
  int fd;
  std::unique_ptr<Endpoints> endpoints;  // filled by the first handler that needs them
  std::string input;
  std::string output;
  std::size_t framed = 0;        // bytes of the request a handler is serving
  Clock::time_point deadline{};  // of the request, the pending output or the idle wait
  bool with_handler = false;     // owned by a handler thread; the loop keeps off
  bool unread = false;           // the socket may hold bytes not read yet
  bool peer_closed = false;      // the client shut down its sending side
  bool continue_sent = false;    // "100 Continue" written for the current request
  bool close_after_output = false;
  bool lingering = false;        // output sent, waiting for the client to close
  bool broken = false;           // a send failed; close without further ado
};

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReservedDescriptors = 64;
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

EventLoop::EventLoop(int listen_fd, ServeRequest serve, std::size_t handler_threads,
                     std::string server_header)
    : listen_fd_(listen_fd),
      epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      serve_(std::move(serve)),
      server_header_(std::move(server_header)) {
  const std::size_t descriptors = raise_descriptor_limit();
  connections_.resize(descriptors);
  connection_limit_ = descriptors > 2 * kReservedDescriptors ? descriptors - kReservedDescriptors
                                                             : descriptors / 2;
  if (connection_limit_ > kMaxConnections) connection_limit_ = kMaxConnections;
  epoll_event listen_event{.events = EPOLLIN, .data = {.fd = listen_fd_}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event);
  epoll_event wake_event{.events = EPOLLIN, .data = {.fd = wake_fd_}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event);
  handlers_.resize(handler_threads);
}

EventLoop::~EventLoop() {
  {
    std::lock_guard lock(mutex_);
    handlers_exit_ = true;
  }
  request_ready_.notify_all();
  for (auto& handler : handlers_) {
    if (handler.joinable()) handler.join();
  }
  for (auto& connection : connections_) {
    if (connection) ::close(connection->fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::stop() {
  stop_requested_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::run() {
  for (auto& handler : handlers_) handler = std::thread([this] { handler_thread(); });
  std::vector<epoll_event> events(1024);
  Clock::time_point next_sweep = Clock::now();
  while (!stopping_ || open_connections_ > 0) {
    const int count =
        ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), kSweepIntervalMs);
    now_ = Clock::now();
    for (int i = 0; i < count; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_connections();
      } else if (fd == wake_fd_) {
        std::uint64_t value = 0;
        [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &value, sizeof value);
        if (stop_requested_ && !stopping_) begin_stop();
        take_back_returned();
      } else {
        on_connection_event(fd, events[i].events);
      }
    }
    if (now_ >= next_sweep) {
      sweep(now_);
      next_sweep = now_ + std::chrono::milliseconds(kSweepIntervalMs);
    }
  }
}

void EventLoop::accept_connections() {
  for (int accepted = 0; accepted < 256 && !stopping_; ++accepted) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (open_connections_ >= connection_limit_ ||
        static_cast<std::size_t>(fd) >= connections_.size()) {
      ::close(fd);  // full: the client learns at once instead of waiting in the backlog
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto& connection = connections_[static_cast<std::size_t>(fd)];
    connection = std::make_unique<Connection>(fd);
    connection->deadline = now_ + kKeepAliveTimeout;
    ++open_connections_;
    epoll_event event{.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data = {.fd = fd}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
}

void EventLoop::on_connection_event(int fd, std::uint32_t events) {
  Connection* connection = connections_[static_cast<std::size_t>(fd)].get();
  if (connection == nullptr) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) connection->unread = true;
  if (!connection->with_handler) process(*connection);
}

void EventLoop::take_back_returned() {
  {
    std::lock_guard lock(mutex_);
    taken_back_.swap(returned_);
  }
  for (Connection* connection : taken_back_) {
    connection->with_handler = false;
    connection->release_large_buffers();
    connection->deadline = now_ + (connection->input.empty() ? kKeepAliveTimeout : kRequestTimeout);
    process(*connection);
  }
  taken_back_.clear();
}

// Reads what has arrived, answers what can be answered, and hands a complete
// request to a handler. The connection may be closed on return.
void EventLoop::process(Connection& connection) {
  for (;;) {
    if (connection.broken) return close_connection(connection);
    if (!flush(connection)) return;
    if (connection.close_after_output) return linger(connection);
    if (connection.unread && connection.input.size() < kMaxRequestBytes &&
        !read_available(connection)) {
      return close_connection(connection);
    }
    if (connection.input.empty()) {
      if (connection.peer_closed || stopping_) return close_connection(connection);
      return;
    }
    const Frame frame = frame_request(connection.input);
    switch (frame.status) {
      case FrameStatus::incomplete:
        if (connection.peer_closed || stopping_) return close_connection(connection);
        if (frame.expects_continue && !connection.continue_sent) {
          connection.continue_sent = true;
          connection.output.append(kContinueResponse);
          flush(connection);
        }
        return;
      case FrameStatus::refused:
        respond_from_loop(connection, frame.error_status, false);
        continue;
      case FrameStatus::complete:
        connection.continue_sent = false;
        if (hand_to_handler(connection, frame.length)) return;
        connection.input.erase(0, frame.length);
        respond_from_loop(connection, 503, !stopping_);
        continue;
    }
  }
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
  worker_metrics().count_request(Route::connection, status);
  connection.output += loop_response(status, server_header_, keep_alive);
  if (!keep_alive) {
    connection.close_after_output = true;
    connection.input.clear();
  }
}

bool EventLoop::hand_to_handler(Connection& connection, std::size_t length) {
  {
    std::lock_guard lock(mutex_);
    if (ready_.size() >= kMaxQueuedRequests) return false;
    connection.framed = length;
    connection.with_handler = true;
    ready_.push_back(&connection);
  }
  request_ready_.notify_one();
  return true;
}

void EventLoop::close_connection(Connection& connection) {
  const int fd = connection.fd;
  ::close(fd);  // also leaves the epoll set
  connections_[static_cast<std::size_t>(fd)].reset();
  --open_connections_;
}

void EventLoop::sweep(Clock::time_point now) {
  for (auto& slot : connections_) {
    Connection* connection = slot.get();
    if (connection == nullptr || connection->with_handler || now < connection->deadline) continue;
    if (connection->lingering || connection->input.empty() || !connection->output.empty()) {
      close_connection(*connection);
      continue;
    }
    respond_from_loop(*connection, 408, false);
    process(*connection);
  }
}

void EventLoop::begin_stop() {
  stopping_ = true;
  ::close(listen_fd_);  // also leaves the epoll set; new clients are refused
  listen_fd_ = -1;
  for (auto& slot : connections_) {
    if (slot && !slot->with_handler) process(*slot);
  }
}

void EventLoop::handler_thread() {
  for (;;) {
    Connection* connection = nullptr;
    {
      std::unique_lock lock(mutex_);
      request_ready_.wait(lock, [this] { return handlers_exit_ || !ready_.empty(); });
      if (ready_.empty()) return;
      connection = ready_.front();
      ready_.pop_front();
    }
    handle(*connection);
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      wake = returned_.empty();
      returned_.push_back(connection);
    }
    if (wake) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
  }
}

void EventLoop::handle(Connection& connection) {
  const bool closing = stop_requested_;
  bool connection_closed = false;
  if (!connection.endpoints) connection.endpoints = std::make_unique<Endpoints>(endpoints_of(connection.fd));
  BufferedStream stream(connection.fd, *connection.endpoints,
                        std::string_view(connection.input).substr(0, connection.framed),
                        connection.output);
  const bool keep = serve_(stream, closing, connection_closed);
  connection.input.erase(0, connection.framed);
  connection.framed = 0;
  if (!keep || connection_closed || closing) connection.close_after_output = true;
  if (!send_available(connection.fd, connection.output)) connection.broken = true;
}

}  // namespace servertrack::http
