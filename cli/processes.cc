#include "cli/processes.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>

namespace servertrack::cli {

std::optional<Task> task_of(std::uint32_t thread_id) {
  std::ifstream status(fmt::format("/proc/{}/status", thread_id));
  Task task{0, ""};
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Name:")) task.command = line.substr(line.find_first_not_of(" \t", 5));
    if (line.starts_with("Tgid:")) task.process = static_cast<std::uint32_t>(std::stoul(line.substr(5)));
  }
  if (task.process == 0) return std::nullopt;
  return task;
}

std::vector<shm::RegisteredProcess> live_processes(const shm::Segment& segment) {
  auto all = segment.registered_processes();
  std::erase_if(all, [](const shm::RegisteredProcess& p) { return !p.alive; });
  return all;
}

std::string describe_live(const shm::Segment& segment) {
  const auto live = live_processes(segment);
  if (live.empty()) return "";
  std::string who;
  for (const shm::RegisteredProcess& p : live) {
    who += fmt::format("{}{} pid {}", who.empty() ? "" : ", ", shm::describe(p.kind), p.pid);
  }
  return fmt::format("{} live process{} ({})", live.size(), live.size() == 1 ? "" : "es", who);
}

}  // namespace servertrack::cli
