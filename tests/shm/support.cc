#include "tests/shm/support.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <stdexcept>
#include <thread>

namespace servertrack::shm::test {
namespace {

CreateOptions options_for(const std::string& name, std::uint64_t capacity, int days) {
  CreateOptions options;
  options.name = name;
  options.capacity = capacity;
  options.days = days;
  return options;
}

void make_pipe(int& read_fd, int& write_fd) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe() failed");
  read_fd = fds[0];
  write_fd = fds[1];
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string unique_segment_name() {
  static std::atomic<int> next{0};
  return "st_test_" + std::to_string(::getpid()) + "_" + std::to_string(next++);
}

TestSegment::TestSegment(std::uint64_t capacity, int days)
    : name_(unique_segment_name()), segment_(Segment::create(options_for(name_, capacity, days))) {}

TestSegment::~TestSegment() { Segment::remove(name_); }

pid_t run_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid > 0) return pid;
  int code = 99;
  try {
    code = body();
  } catch (...) {
  }
  ::_exit(code);
}

int wait_child(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::uint32_t dead_pid() {
  const pid_t pid = run_child([] { return 0; });
  wait_child(pid, std::chrono::seconds(10));
  return static_cast<std::uint32_t>(pid);
}

struct ProcessBarrier::Shared {
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint32_t> generation{0};
};

ProcessBarrier::ProcessBarrier(int parties) : parties_(parties) {
  void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw std::runtime_error("mmap() failed");
  shared_ = new (page) Shared;
}

ProcessBarrier::~ProcessBarrier() { ::munmap(shared_, sizeof(Shared)); }

void ProcessBarrier::arrive_and_wait() {
  const std::uint32_t generation = shared_->generation.load();
  if (shared_->arrived.fetch_add(1) + 1 == static_cast<std::uint32_t>(parties_)) {
    shared_->arrived.store(0);
    shared_->generation.store(generation + 1);
    return;
  }
  for (int spins = 1; shared_->generation.load() == generation; ++spins) {
    if (spins % 64 == 0) ::sched_yield();
  }
}

ResultPipe::ResultPipe() { make_pipe(read_fd_, write_fd_); }
ResultPipe::~ResultPipe() {
  close_fd(read_fd_);
  close_fd(write_fd_);
}

void ResultPipe::send(const void* data, std::size_t size) {
  // Messages up to PIPE_BUF bytes are written atomically.
  if (::write(write_fd_, data, size) != static_cast<ssize_t>(size)) ::_exit(98);
}

bool ResultPipe::receive(void* data, std::size_t size, std::chrono::milliseconds limit) {
  auto* out = static_cast<char*>(data);
  std::size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (got < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{read_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(read_fd_, out + got, size - got);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

double elapsed_ms(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Status record_retrying_busy(Segment& segment, std::string_view name, double cpu, double ram, std::int64_t now,
                            std::chrono::milliseconds patience) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  Status status;
  while ((status = segment.record(name, cpu, ram, now)) == Status::busy && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return status;
}

}  // namespace servertrack::shm::test
