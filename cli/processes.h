// The processes registered in a segment's header (Header::processes), as
// `shmtool info` shows them and `shmtool remove` checks them.
//
// Reads atomics of a mapped header; any process, read-only mapping is enough.
// Costs one kill(2) per registered entry (the liveness probe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shm/layout.h"
#include "shm/segment.h"

namespace servertrack::cli {

struct AttachedProcess {
  std::uint32_t pid;
  shm::ProcessKind kind;
  std::int64_t start_unix;
  bool alive;
};

// Every registry entry with a pid, in registry order, dead ones included.
std::vector<AttachedProcess> attached_processes(const shm::Header& header);

// Only the live ones.
std::vector<AttachedProcess> live_processes(const shm::Header& header);

// A live thread as /proc/<id>/status tells it: the process (thread group) it
// belongs to and that process's command name. nullopt when the id is gone.
struct Task {
  std::uint32_t process;
  std::string command;
};
std::optional<Task> task_of(std::uint32_t thread_id);

// "2 live processes (ingest pid 10, query pid 11)"; empty when none.
std::string describe_live(const shm::Header& header);

}  // namespace servertrack::cli
