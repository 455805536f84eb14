#include "cli/processes.h"

#include <fmt/core.h>

namespace servertrack::cli {

std::string describe_live(const shm::Segment& segment) {
  auto live = segment.registered_processes();
  std::erase_if(live, [](const shm::RegisteredProcess& p) { return !p.alive; });
  if (live.empty()) return "";
  std::string who;
  for (const shm::RegisteredProcess& p : live) {
    who += fmt::format("{}{} pid {}", who.empty() ? "" : ", ", shm::describe(p.kind), p.pid);
  }
  return fmt::format("{} live process{} ({})", live.size(), live.size() == 1 ? "" : "es", who);
}

}  // namespace servertrack::cli
