#include "cli/command.h"

#include <chrono>

namespace servertrack::cli {

void add_segment_option(CLI::App& command, std::string& segment) {
  command.add_option("--segment", segment, "shared-memory segment name, in /dev/shm")
      ->capture_default_str()
      ->check([](const std::string& name) -> std::string {
        if (name.empty() || name.size() > 255) return "a segment name is 1 to 255 characters";
        if (name.find('/') != std::string::npos) return "a segment name cannot contain '/'";
        if (name == "." || name == "..") return "a segment name cannot be '.' or '..'";
        return "";
      });
}

void add_json_flag(CLI::App& command, bool& json) {
  command.add_flag("--json", json, "print JSON for scripts instead of a table");
}

void add_now_option(CLI::App& command, std::int64_t& now) {
  command.add_option("--now", now, "evaluate as of this unix time in seconds (default: the current time)")
      ->check(CLI::NonNegativeNumber);
}

shm::Segment attach_read_only(const std::string& segment) {
  return shm::Segment::attach({segment, shm::Access::read_only, 0});
}

// system_clock, as the workers read it: time() reads the kernel's coarse clock,
// which lags by up to a tick, so just after a second began a sample a worker
// stamped with that second would look newer than "now" to shmtool.
std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace servertrack::cli
