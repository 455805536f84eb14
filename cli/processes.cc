#include "cli/processes.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>

#include "shm/owner.h"

namespace servertrack::cli {

std::vector<AttachedProcess> attached_processes(const shm::Header& header) {
  std::vector<AttachedProcess> out;
  for (const shm::ProcessEntry& entry : header.processes) {
    const std::uint32_t pid = entry.pid.load(std::memory_order_acquire);
    if (pid == 0) continue;
    out.push_back({pid, static_cast<shm::ProcessKind>(entry.kind.load(std::memory_order_relaxed)),
                   entry.start_unix.load(std::memory_order_relaxed), shm::process_alive(pid)});
  }
  return out;
}

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

std::vector<AttachedProcess> live_processes(const shm::Header& header) {
  auto all = attached_processes(header);
  std::erase_if(all, [](const AttachedProcess& p) { return !p.alive; });
  return all;
}

std::string describe_live(const shm::Header& header) {
  const auto live = live_processes(header);
  if (live.empty()) return "";
  std::string who;
  for (const AttachedProcess& p : live) {
    who += fmt::format("{}{} pid {}", who.empty() ? "" : ", ", shm::describe(p.kind), p.pid);
  }
  return fmt::format("{} live process{} ({})", live.size(), live.size() == 1 ? "" : "es", who);
}

}  // namespace servertrack::cli
