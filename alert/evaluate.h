// One rule judged against one server's windows, by event time (docs/design.md,
// "Alerts"): the minutes and hours are those the samples were taken in, so a
// spool replayed after a partition raises (and resolves) an alert with the
// times its minutes were taken, not when they arrived.
//
// Pure functions of their arguments; any thread; no allocation.
// Called by servertrack-alert for each server a rule watches, on a Snapshot
// made from a slot copy (shm::make_snapshot) at the evaluation's `now`.
#pragma once

#include <cstdint>

#include "alert/rules.h"
#include "shm/window.h"

namespace servertrack::alert {

// What a rule finds in one server's windows. Times are unix seconds of the
// samples' own clock.
//   minutes: the newest run of consecutive complete minutes meeting the
//     condition. It is open (firing once N long, pending before) while no later
//     complete minute holding a sample of the metric breaks it; a later minute
//     that breaks it closes it (resolved: a run of N or more that ended, e.g.
//     from a replayed spool). A minute with no sample of the metric breaks a
//     run; minutes after the newest sample do not (the server is silent: that
//     is the silent rule's). starts_at: the run's first minute; last_end: the
//     end of its newest minute; ends_at (resolved): the same.
//   hours: the mean of all samples of the last N complete hours meets the
//     condition (firing; starts_at: the start of the first of those hours) or
//     not (none); no sample in them: none.
//   silent: no sample for N minutes (firing; starts_at: the newest sample's
//     time + N minutes), else none.
struct Finding {
  enum class State { none, pending, firing, resolved };
  State state = State::none;
  std::int64_t starts_at = 0;
  std::int64_t ends_at = 0;   // resolved only
  std::int64_t last_end = 0;  // minutes: the end of the run's newest minute; others: now
  double value = 0;           // minutes: the newest minute's mean in the run; hours: the mean;
                              // silent: minutes since the newest sample
};

Finding evaluate(const Rule& rule, const shm::Snapshot& windows, std::int64_t now) noexcept;

// When a silence that began after the sample at `since` ended, by event time:
// the start of the first minute in the window holding a sample taken after
// `since` that begins after `since`, else the newest sample's time.
std::int64_t silence_ended_at(const shm::Snapshot& windows, std::int64_t since) noexcept;

}  // namespace servertrack::alert
