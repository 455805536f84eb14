// The ingest worker's sample counters, rendered into its GET /metrics:
// samples recorded, samples refused by reason, and what other agents sent that
// maps to no sample (ignored, by protocol: docs/design.md, "Other agents").
//
// One IngestCounters per ingest process, made in add_ingest_routes(); counted
// on any connection thread (relaxed atomics, no lock, no allocation).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace servertrack::ingest {

enum class Rejection {
  invalid_json,     // a body that is not JSON of the expected shape
  invalid_name,     // breaks the name rule (shm/name.h)
  invalid_value,    // cpu/ram missing, not a number, negative or above 1e15
                    // (also a "time" that is not a number of unix seconds)
  table_full,       // a new name and no free slot
  duplicate_name,   // the same name twice in one batch
  unreadable_body,  // too large (413) or cut short
  slot_busy,        // the server's slot stayed locked by a live process (503)
  invalid_time,     // a stated "time" outside the windows (future or too old)
  invalid_line,     // a line of line protocol, or a collectd value list, that does not read
  forbidden_name,   // a line or value list for a name outside the token's prefix
};
inline constexpr int kRejectionCount = 10;

// The reason as /metrics labels it and the batch answer spells it, e.g. "invalid_name".
const char* rejection_label(Rejection reason) noexcept;

class IngestCounters {
 public:
  void count_recorded(std::uint64_t samples) noexcept;
  void count_rejected(Rejection reason) noexcept;
  // Line protocol lines of other measurements, collectd values of other plugins.
  void count_ignored_lines(std::uint64_t lines) noexcept;
  void count_ignored_values(std::uint64_t values) noexcept;
  // Appends the servertrack_samples_* families.
  void render(std::string& out) const;

 private:
  std::atomic<std::uint64_t> recorded_{0};
  std::array<std::atomic<std::uint64_t>, kRejectionCount> rejected_{};
  std::atomic<std::uint64_t> ignored_lines_{0};
  std::atomic<std::uint64_t> ignored_values_{0};
};

}  // namespace servertrack::ingest
