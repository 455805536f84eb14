// `shmtool check`: walk every slot and verify the segment's invariants.
#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/invariants.h"
#include "cli/processes.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/segment_advice.h"
#include "shm/name.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct CheckArgs {
  std::string segment{common::kDefaultSegment};
  std::int64_t now = common::wall_clock_unix_seconds();
  bool repair = false;
};

// A name as stored, printable whatever bytes it holds.
std::string printable(const char* bytes, std::size_t length) {
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += c >= 0x21 && c < 0x7f && c != '\\' ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  return out;
}

// Lock and sequence words: a dead holder, a live holder that is no attached
// process (damage: writers wait for it, then answer busy), or an odd word
// nobody alive is finishing.
void check_words(const shm::Segment& segment, std::uint64_t index,
                 const std::vector<shm::RegisteredProcess>& attached, std::vector<std::string>& problems) {
  const std::optional<shm::LockHolder> holder = segment.lock_holder(index);
  const std::uint32_t seq = segment.slot(index).seq.load(std::memory_order_acquire);
  const bool owner_alive = holder && holder->alive;
  if (holder && !owner_alive) {
    problems.push_back(fmt::format("lock word names thread {} (started at tick {}), which is dead or whose id was "
                                   "recycled (the next writer takes it over)",
                                   holder->thread, holder->start_tick));
  }
  if (owner_alive) {
    const std::optional<Task> task = task_of(holder->thread);
    const auto attached_as = [&](const shm::RegisteredProcess& p) { return task && p.pid == task->process; };
    if (task && std::none_of(attached.begin(), attached.end(), attached_as)) {
      problems.push_back(fmt::format(
          "lock word holds id {}, a live thread of process {} ('{}') not attached to the segment: writes to "
          "this server wait for it and then fail as busy; `shmtool dump` and `shmtool restore --force` "
          "rebuild the segment without it",
          holder->thread, task->process, task->command));
    }
  }
  if ((seq & 1) != 0 && !owner_alive) {
    problems.push_back(
        fmt::format("sequence word {} is odd with no live writer: a writer died mid-write "
                    "(the next write repairs it from the journal)",
                    seq));
  }
}

void check_name(const shm::Slot& slot, std::vector<std::string>& problems) {
  if (slot.name_length < 1 || slot.name_length > shm::kMaxNameLength) {
    problems.push_back(fmt::format("name length {} is outside 1..{}", slot.name_length, shm::kMaxNameLength));
    return;
  }
  const std::string_view name(slot.name, slot.name_length);
  if (!shm::is_valid_name(name)) {
    problems.push_back(std::string("name is not ") + shm::kNameRule);
  }
  if (slot.name_hash != shm::hash_name(name)) {
    problems.push_back(
        fmt::format("name hash {:#018x} is not the name's hash {:#018x}", slot.name_hash, shm::hash_name(name)));
  }
}

void check_fingerprint(const shm::Segment& segment, std::uint64_t index, std::vector<std::string>& problems) {
  using Fault = shm::FingerprintCheck::Fault;
  const shm::FingerprintCheck found = segment.check_fingerprint(index);
  switch (found.fault) {
    case Fault::none: return;
    case Fault::on_never_used:
      problems.push_back(fmt::format("fingerprint {:#010x} on a slot that never held a name", found.stored));
      return;
    case Fault::on_deleted:
      problems.push_back(fmt::format(
          "fingerprint {:#010x} on a deleted server's slot (its deleter died before clearing it): lookups "
          "read the slot and walk on, and a new name may still take it",
          found.stored));
      return;
    case Fault::missing:
      problems.push_back(
          "fingerprint missing (its claimer died after publishing the name): lookups still find it, and the "
          "next new name probing past it restores it");
      return;
    case Fault::still_retired:
      problems.push_back(
          "fingerprint still marks the slot retired (its claimer died after publishing the name): lookups miss "
          "the server until the next new name probing past it restores the fingerprint");
      return;
    case Fault::wrong:
      problems.push_back(fmt::format(
          "fingerprint {:#010x} is not its name hash's {:#010x}: lookups of this name miss this slot", found.stored,
          found.expected));
      return;
  }
}

// Problems of slot `index`, each line prefixed with where it is.
void check_slot(shm::Segment& segment, std::uint64_t index, std::int64_t now,
                const std::vector<shm::RegisteredProcess>& attached, std::vector<std::string>& out) {
  shm::Slot& slot = segment.slot(index);
  const std::uint32_t state = slot.state.load(std::memory_order_acquire);
  std::vector<std::string> problems;
  std::string where = fmt::format("slot {}", index);
  if (state != shm::kSlotEmpty && state != shm::kSlotReady && state != shm::kSlotRetired) {
    problems.push_back(fmt::format("state {} is neither empty (0), ready (1) nor retired (2)", state));
  }
  check_words(segment, index, attached, problems);
  check_fingerprint(segment, index, problems);
  if (state == shm::kSlotReady) {
    where += fmt::format(" '{}'", printable(slot.name, std::min<std::size_t>(slot.name_length, shm::kMaxNameLength)));
    check_name(slot, problems);
    shm::SlotCopy data;
    if (segment.copy_slot(slot, data) != shm::Status::ok) segment.copy_slot_as_is(index, data);
    for (std::string& p : data_problems(data, now)) problems.push_back(std::move(p));
  }
  for (const std::string& p : problems) out.push_back(where + ": " + p);
}

// The used_slots hint off the count of live servers is no problem
// (shm/table.h): a note, and --repair stores the count.
void check_used_slots(const CheckArgs& args, shm::Segment& segment, std::uint64_t live_servers) {
  const std::uint64_t used = segment.header().counters.used_slots.load();
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

void check_header(const shm::Segment& segment, std::vector<std::string>& out) {
  const shm::Header& h = segment.header();
  for (int i = 0; i < shm::kMaxAttachedProcesses; ++i) {
    const auto kind = h.processes[i].kind.load();
    if (h.processes[i].pid.load() != 0 && kind > static_cast<std::uint32_t>(shm::ProcessKind::alert)) {
      out.push_back(fmt::format("header: process entry {} has unknown kind {}", i, kind));
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
  const std::vector<shm::RegisteredProcess> attached = live_processes(segment);
  std::uint64_t ready = 0;
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
    ready += segment.slot(i).state.load(std::memory_order_acquire) == shm::kSlotReady;
    check_slot(segment, i, args.now, attached, problems);
  }
  check_header(segment, problems);
  check_used_slots(args, segment, segment.count_live_servers(args.now));
  for (const std::string& p : problems) fmt::print("{}\n", p);
  if (!problems.empty()) {
    fmt::print(stderr, "shmtool: segment '{}': {} problem{} in {} slots ({} servers)\n", args.segment, problems.size(),
               problems.size() == 1 ? "" : "s", segment.capacity(), ready);
    return kExitFailed;
  }
  fmt::print("segment '{}' is sound: {} slots, {} servers checked\n", args.segment, segment.capacity(), ready);
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
