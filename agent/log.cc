#include "agent/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace servertrack::agent {
namespace {

// systemd sets JOURNAL_STREAM to "<device>:<inode>" of the stream it connected.
bool stderr_is_the_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat status {};
  if (stream == nullptr || ::fstat(STDERR_FILENO, &status) != 0) return false;
  return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) == stream;
}

}  // namespace

void log_line(std::string_view line) {
  std::fprintf(stderr, "servertrack-agent: %.*s\n", static_cast<int>(line.size()), line.data());
}

void log_error(std::string_view line) {
  static const bool journal = stderr_is_the_journal();
  std::fprintf(stderr, "%sservertrack-agent: error: %.*s\n", journal ? "<3>" : "",
               static_cast<int>(line.size()), line.data());
}

}  // namespace servertrack::agent
