#include "http/worker_log.h"

#include <unistd.h>

#include <ctime>
#include <iterator>

namespace servertrack::http {
namespace {

std::string identity = "worker#1";

}  // namespace

void set_log_identity(std::string_view kind, int worker_id) {
  identity = fmt::format("{}#{}", kind, worker_id);
}

std::string log_prefix() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  const std::size_t length = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &utc);
  return fmt::format("servertrack [{}.{:03d}] {} pid {}: ", std::string_view(stamp, length),
                     now.tv_nsec / 1'000'000, identity, ::getpid());
}

void write_log_line(std::string line) {
  line.push_back('\n');
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace servertrack::http
