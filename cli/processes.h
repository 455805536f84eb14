// The processes attached to a segment (its registry: Segment::
// registered_processes()) as `shmtool check`, `remove` and `restore` judge
// them, and a live thread's process as /proc tells it.
//
// Any process, a read-only attach is enough. Costs one liveness probe per
// registered entry; task_of() reads one /proc file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shm/segment.h"

namespace servertrack::cli {

// The live registry entries.
std::vector<shm::RegisteredProcess> live_processes(const shm::Segment& segment);

// A live thread as /proc/<id>/status tells it: the process (thread group) it
// belongs to and that process's command name. nullopt when the id is gone.
struct Task {
  std::uint32_t process;
  std::string command;
};
std::optional<Task> task_of(std::uint32_t thread_id);

// "2 live processes (ingest pid 10, query pid 11)"; empty when none.
std::string describe_live(const shm::Segment& segment);

}  // namespace servertrack::cli
