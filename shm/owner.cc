#include "shm/owner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
  LockWord word = 0;
};

// What /proc/<tid>/stat says of a task: its state letter and start time.
struct TaskStat {
  char state;
  std::uint64_t start_ticks;
};

std::optional<TaskStat> read_stat(std::uint32_t tid) noexcept {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%u/stat", tid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char stat[1024];
  const ssize_t n = ::read(fd, stat, sizeof stat - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  stat[n] = '\0';
  // "tid (name) state f4 ... f22 ...": the name may hold ')' and spaces.
  const char* at = std::strrchr(stat, ')');
  if (at == nullptr || at[1] != ' ') return std::nullopt;
  const char state = at[2];
  at += 2;
  for (int field = 3; field < 22; ++field) {  // skip to field 22, starttime
    at = std::strchr(at, ' ');
    if (at == nullptr) return std::nullopt;
    ++at;
  }
  return TaskStat{state, std::strtoull(at, nullptr, 10)};
}

bool could_be_pid(std::uint32_t id) noexcept {
  // 0 is "free"; an id above INT_MAX is no pid (kill(2) would read it as a
  // process group, and 0xffffffff as "every process"): only damage writes one.
  return id != 0 && id <= static_cast<std::uint32_t>(std::numeric_limits<pid_t>::max());
}

}  // namespace

std::optional<LockWord> identity_of(std::uint32_t tid) noexcept {
  if (!could_be_pid(tid)) return std::nullopt;
  const auto stat = read_stat(tid);
  if (!stat) return std::nullopt;
  return lock_word(tid, stat->start_ticks & 0xffff'ffffu);
}

LockWord owner_id() noexcept {
  thread_local CachedId cached;
  const std::uint32_t generation = fork_generation.load(std::memory_order_relaxed);
  if (cached.generation != generation) {
    const auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    cached.word = identity_of(tid).value_or(lock_word(tid, 0));  // without /proc: the id alone
    cached.generation = generation;
  }
  return cached.word;
}

std::uint32_t process_id() noexcept { return static_cast<std::uint32_t>(::getpid()); }

bool process_alive(std::uint32_t pid) noexcept {
  if (!could_be_pid(pid)) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno != ESRCH;
  const auto stat = read_stat(pid);
  return !stat || (stat->state != 'Z' && stat->state != 'X');
}

bool owner_alive(LockWord word) noexcept {
  const std::uint32_t tid = thread_of(word);
  if (!could_be_pid(tid)) return false;
  const auto stat = read_stat(tid);
  if (!stat) return process_alive(tid);  // no /proc entry: gone, or no /proc at all
  if (stat->state == 'Z' || stat->state == 'X') return false;
  return lock_word(tid, stat->start_ticks & 0xffff'ffffu) == word;
}

std::uint64_t pid_namespace() noexcept {
  struct stat ns {};
  return ::stat("/proc/self/ns/pid", &ns) == 0 ? static_cast<std::uint64_t>(ns.st_ino) : 0;
}

}  // namespace servertrack::shm
