#include "shm/owner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace servertrack::shm {
namespace {

// Bumped in every child after fork(), so each thread re-reads its id once.
std::atomic<std::uint32_t> fork_generation{1};

void on_fork_child() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

const bool fork_handler_installed = [] {
  pthread_atfork(nullptr, nullptr, on_fork_child);
  return true;
}();

struct CachedId {
  std::uint32_t generation = 0;
  std::uint32_t tid = 0;
};

// An exited process its parent has not reaped yet still answers kill(0).
bool is_zombie(std::uint32_t id) noexcept {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%u/stat", id);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char stat[512];
  const ssize_t n = ::read(fd, stat, sizeof stat - 1);
  ::close(fd);
  if (n <= 0) return false;
  stat[n] = '\0';
  const char* end_of_name = std::strrchr(stat, ')');  // "pid (name) state ...", name may hold ')'
  return end_of_name != nullptr && end_of_name[1] == ' ' && end_of_name[2] == 'Z';
}

}  // namespace

std::uint32_t owner_id() noexcept {
  thread_local CachedId cached;
  const std::uint32_t generation = fork_generation.load(std::memory_order_relaxed);
  if (cached.generation != generation) {
    cached.tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    cached.generation = generation;
  }
  return cached.tid;
}

std::uint32_t process_id() noexcept { return static_cast<std::uint32_t>(::getpid()); }

bool owner_alive(std::uint32_t id) noexcept {
  // 0 is "free"; an id above INT_MAX is no pid (kill(2) would read it as a
  // process group, and 0xffffffff as "every process"): only damage writes one.
  if (id == 0 || id > static_cast<std::uint32_t>(std::numeric_limits<pid_t>::max())) return false;
  if (::kill(static_cast<pid_t>(id), 0) != 0) return errno != ESRCH;
  return !is_zombie(id);
}

}  // namespace servertrack::shm
