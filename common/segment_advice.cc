#include "common/segment_advice.h"

#include <fmt/core.h>

namespace servertrack::common {

std::string with_remedy(const shm::SegmentError& error) {
  using Kind = shm::SegmentError::Kind;
  const std::string& name = error.segment();
  switch (error.kind()) {
    case Kind::absent:
      return fmt::format("{}; create it with `shmtool create --segment {}`", error.what(), name);
    case Kind::incompatible: {
      const std::uint64_t found = error.capacity_found();
      return fmt::format("{}{}; `shmtool create --segment {} --force` recreates it (its data is lost; "
                         "`shmtool dump` first keeps it)",
                         error.what(), found != 0 ? fmt::format(" (or run with --capacity {})", found) : "", name);
    }
    case Kind::other_namespace:
      return fmt::format("{}; run the workers and shmtool in the creator's namespace (e.g. the same container)",
                         error.what());
    case Kind::no_space:
      return fmt::format("{}; choose a smaller --capacity or enlarge /dev/shm", error.what());
    case Kind::exists:
    case Kind::system:
      break;
  }
  return error.what();
}

std::string with_remedy(shm::Status status) {
  if (status == shm::Status::busy) {
    return fmt::format("{}; retry shortly, and see `shmtool check` if it persists", shm::describe(status));
  }
  if (status == shm::Status::moved) {
    return fmt::format("{}; retry in a second", shm::describe(status));
  }
  return shm::describe(status);
}

}  // namespace servertrack::common
