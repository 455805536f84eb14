// `shmtool check`: the segment's findings about every slot and its registry
// (shm/slot_check.h judges; this file words them) and the used_slots hint.
#include <fmt/core.h>

#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/invariants.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/segment_advice.h"
#include "shm/name.h"
#include "shm/segment.h"
#include "shm/slot_check.h"

namespace servertrack::cli {
namespace {

struct CheckArgs {
  std::string segment{common::kDefaultSegment};
  std::int64_t now = common::wall_clock_unix_seconds();
  bool repair = false;
};

// A name as stored, printable whatever bytes it holds.
std::string printable(std::string_view bytes) {
  std::string out;
  for (const char byte : bytes) {
    const auto c = static_cast<unsigned char>(byte);
    out += c >= 0x21 && c < 0x7f && c != '\\' ? std::string(1, byte) : fmt::format("\\x{:02x}", c);
  }
  return out;
}

std::string describe_fingerprint(const shm::FingerprintCheck& found) {
  using Fault = shm::FingerprintCheck::Fault;
  switch (found.fault) {
    case Fault::none: break;
    case Fault::on_never_used:
      return fmt::format("fingerprint {:#010x} on a slot that never held a name", found.stored);
    case Fault::on_deleted:
      return fmt::format(
          "fingerprint {:#010x} on a deleted server's slot (its deleter died before clearing it): lookups "
          "read the slot and walk on, and a new name may still take it",
          found.stored);
    case Fault::missing:
      return "fingerprint missing (its claimer died after publishing the name): lookups still find it, and the "
             "next new name probing past it restores it";
    case Fault::still_retired:
      return "fingerprint still marks the slot retired (its claimer died after publishing the name): lookups miss "
             "the server until the next new name probing past it restores the fingerprint";
    case Fault::wrong:
      return fmt::format("fingerprint {:#010x} is not its name hash's {:#010x}: lookups of this name miss this slot",
                         found.stored, found.expected);
  }
  return "fingerprint sound";
}

std::string describe_finding(const shm::SlotFinding& f) {
  using Kind = shm::SlotFinding::Kind;
  switch (f.kind) {
    case Kind::unknown_state:
      return fmt::format("state {} is neither empty (0), ready (1) nor retired (2)", f.value);
    case Kind::dead_lock_holder:
      return fmt::format("lock word names thread {} (started at tick {}), which is dead or whose id was "
                         "recycled (the next writer takes it over)",
                         f.holder.thread, f.holder.start_tick);
    case Kind::foreign_lock_holder:
      return fmt::format(
          "lock word holds id {}, a live thread of process {} ('{}') not attached to the segment: writes to "
          "this server wait for it and then fail as busy; `shmtool dump` and `shmtool restore --force` "
          "rebuild the segment without it",
          f.holder.thread, f.process, f.command);
    case Kind::mid_write:
      return fmt::format("sequence word {} is odd with no live writer: a writer died mid-write "
                         "(the next write repairs it from the journal)",
                         f.value);
    case Kind::name_length:
      return fmt::format("name length {} is outside 1..{}", f.value, shm::kMaxNameLength);
    case Kind::name_rule:
      return std::string("name is not ") + shm::kNameRule;
    case Kind::name_hash:
      return fmt::format("name hash {:#018x} is not the name's hash {:#018x}", f.value, f.expected);
    case Kind::fingerprint:
      return describe_fingerprint(f.fingerprint);
  }
  return "unknown finding";
}

// Problems of one slot, each line prefixed with where it is.
void word_slot(const shm::SlotReport& report, std::int64_t now, std::vector<std::string>& out) {
  std::string where = fmt::format("slot {}", report.index);
  if (report.ready) where += fmt::format(" '{}'", printable(report.stored_name));
  for (const shm::SlotFinding& f : report.findings) out.push_back(where + ": " + describe_finding(f));
  for (const shm::DataProblem& p : report.data_problems) {
    out.push_back(where + ": " + describe_problem(p, *report.data, now));
  }
}

// The used_slots hint off the count of live servers is no problem
// (shm/table.h): a note, and --repair stores the count.
void check_used_slots(const CheckArgs& args, shm::Segment& segment, std::uint64_t live_servers) {
  const std::uint64_t used = segment.facts().used_slots;
  if (used == live_servers) return;
  if (!args.repair) {
    fmt::print("note: header: used_slots hint says {}, but {} servers are live (harmless: it is recounted when it "
               "says the table is full; `shmtool check --repair` recounts it now)\n",
               used, live_servers);
    return;
  }
  fmt::print("repaired: header: used_slots hint said {}, now {}\n", used, segment.recount_used_slots(args.now));
}

// --repair: every slot a killed writer, claimer or deleter left locked, half
// written or with a wrong fingerprint is put right now (Segment::repair_slot(),
// the same steps the next claim or write would take), one line per slot.
void repair_slots(shm::Segment& segment) {
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
    const shm::SlotRepair done = segment.repair_slot(i);
    if (done.busy) {
      fmt::print("not repaired: slot {}: a live thread holds its lock and makes no progress\n", i);
      continue;
    }
    if (done.took_over_lock) {
      fmt::print("repaired: slot {}: took over the lock of a dead writer, claimer or deleter (what it left half "
                 "done is undone)\n",
                 i);
    }
    if (done.fingerprint_was) {
      fmt::print("repaired: slot {}: fingerprint {:#010x} set to {:#010x}\n", i, *done.fingerprint_was,
                 done.fingerprint_now);
    }
  }
}

int check(const CheckArgs& args) {
  std::vector<std::string> problems;
  shm::Segment segment = [&] {
    try {
      if (args.repair) return shm::Segment::attach({.name = args.segment, .access = shm::Access::read_write});
      return attach_read_only(args.segment);
    } catch (const shm::SegmentError& e) {
      if (e.kind() != shm::SegmentError::Kind::incompatible) throw;
      throw ToolError(fmt::format("header: {}", common::with_remedy(e)));
    }
  }();
  if (args.repair) repair_slots(segment);
  const shm::SegmentCheck found =
      shm::check_segment(segment, args.now, [&](const shm::SlotReport& slot) { word_slot(slot, args.now, problems); });
  for (const shm::UnknownProcessKind& entry : found.unknown_process_kinds) {
    problems.push_back(fmt::format("header: process entry {} has unknown kind {}", entry.entry, entry.kind));
  }
  check_used_slots(args, segment, segment.count_live_servers(args.now));
  for (const std::string& p : problems) fmt::print("{}\n", p);
  if (!problems.empty()) {
    fmt::print(stderr, "shmtool: segment '{}': {} problem{} in {} slots ({} servers)\n", args.segment, problems.size(),
               problems.size() == 1 ? "" : "s", segment.capacity(), found.ready_slots);
    return kExitFailed;
  }
  fmt::print("segment '{}' is sound: {} slots, {} servers checked\n", args.segment, segment.capacity(),
             found.ready_slots);
  return kExitOk;
}

}  // namespace

void add_check(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<CheckArgs>(app, selected, "check",
                             "Verify every slot: header, slot states, names, their hashes and fingerprints, sequence and lock words, "
                             "bucket indices (ring position, none from the future), sums against counts. Exit 0 when "
                             "sound, 1 with one line per problem. Read-only, except with --repair.",
                             check);
  add_now_option(*command, args->now);
  command->add_flag("--repair", args->repair,
                    "first put right what killed writers, claimers and deleters left (take over their locks, "
                    "undo half writes, correct fingerprints), as the next write or claim would, and store the "
                    "counted number of servers in the used_slots hint; then check");
}

}  // namespace servertrack::cli
