#include "shm/owner.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

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
  if (id == 0) return false;
  return ::kill(static_cast<pid_t>(id), 0) == 0 || errno != ESRCH;
}

}  // namespace servertrack::shm
