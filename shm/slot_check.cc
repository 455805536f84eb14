#include "shm/slot_check.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>

#include "shm/name.h"
#include "shm/segment_internals.h"

namespace servertrack::shm {
namespace {

// A live thread's process (thread group) and its command name, as
// /proc/<id>/status tells them; nullopt when the id is gone.
std::optional<std::pair<std::uint32_t, std::string>> task_of(std::uint32_t thread_id) {
  std::ifstream status("/proc/" + std::to_string(thread_id) + "/status");
  std::uint32_t process = 0;
  std::string command;
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Name:")) command = line.substr(line.find_first_not_of(" \t", 5));
    if (line.starts_with("Tgid:")) process = static_cast<std::uint32_t>(std::stoul(line.substr(5)));
  }
  if (process == 0) return std::nullopt;
  return std::make_pair(process, command);
}

// The lock and sequence words: a dead holder, a live holder that is no
// attached process, or an odd word nobody alive is finishing.
void judge_words(const Segment& segment, std::uint64_t index, const std::vector<RegisteredProcess>& attached,
                 std::vector<SlotFinding>& out) {
  const std::optional<LockHolder> holder = segment.lock_holder(index);
  const std::uint32_t seq = SegmentInternals::slot(segment, index).seq.load(std::memory_order_acquire);
  const bool owner_alive = holder && holder->alive;
  if (holder && !owner_alive) out.push_back({.kind = SlotFinding::Kind::dead_lock_holder, .holder = *holder});
  if (owner_alive) {
    const auto task = task_of(holder->thread);
    const auto attached_as = [&](const RegisteredProcess& p) { return task && p.pid == task->first; };
    if (task && std::none_of(attached.begin(), attached.end(), attached_as)) {
      out.push_back({.kind = SlotFinding::Kind::foreign_lock_holder, .holder = *holder, .process = task->first,
                     .command = task->second});
    }
  }
  if ((seq & 1) != 0 && !owner_alive) out.push_back({.kind = SlotFinding::Kind::mid_write, .value = seq});
}

void judge_name(const Slot& slot, std::vector<SlotFinding>& out) {
  if (slot.name_length < 1 || slot.name_length > kMaxNameLength) {
    out.push_back({.kind = SlotFinding::Kind::name_length, .value = slot.name_length});
    return;
  }
  const std::string_view name(slot.name, slot.name_length);
  if (!is_valid_name(name)) out.push_back({.kind = SlotFinding::Kind::name_rule});
  if (slot.name_hash != hash_name(name)) {
    out.push_back({.kind = SlotFinding::Kind::name_hash, .value = slot.name_hash, .expected = hash_name(name)});
  }
}

}  // namespace

SegmentCheck check_segment(Segment& segment, std::int64_t now,
                           const std::function<void(const SlotReport&)>& visit) {
  std::vector<RegisteredProcess> attached = segment.registered_processes();
  std::erase_if(attached, [](const RegisteredProcess& p) { return !p.alive; });
  SegmentCheck check;
  SlotReport report;
  auto data = std::make_unique<SlotCopy>();  // one scratch copy, reused
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
    Slot& slot = SegmentInternals::slot(segment, i);
    const std::uint32_t state = slot.state.load(std::memory_order_acquire);
    report.index = i;
    report.ready = state == kSlotReady;
    report.stored_name = {};
    report.findings.clear();
    report.data_problems.clear();
    report.data = nullptr;
    if (state != kSlotEmpty && state != kSlotReady && state != kSlotRetired) {
      report.findings.push_back({.kind = SlotFinding::Kind::unknown_state, .value = state});
    }
    judge_words(segment, i, attached, report.findings);
    if (const FingerprintCheck found = segment.check_fingerprint(i); found.fault != FingerprintCheck::Fault::none) {
      report.findings.push_back({.kind = SlotFinding::Kind::fingerprint, .fingerprint = found});
    }
    if (report.ready) {
      ++check.ready_slots;
      report.stored_name = {slot.name, std::min<std::size_t>(slot.name_length, kMaxNameLength)};
      judge_name(slot, report.findings);
      if (segment.copy_slot(slot, *data) != Status::ok) segment.copy_slot_as_is(i, *data);
      report.data_problems = data_problems(*data, now);
      report.data = data.get();
    }
    visit(report);
  }
  const Header& header = SegmentInternals::header(segment);
  for (int i = 0; i < kMaxAttachedProcesses; ++i) {
    const std::uint32_t kind = header.processes[i].kind.load();
    if (header.processes[i].pid.load() != 0 && kind > static_cast<std::uint32_t>(ProcessKind::alert)) {
      check.unknown_process_kinds.push_back({i, kind});
    }
  }
  return check;
}

}  // namespace servertrack::shm
