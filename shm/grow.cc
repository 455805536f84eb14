#include "shm/grow.h"

#include <sched.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>

#include "shm/owner.h"

namespace servertrack::shm {
namespace {

bool holds_a_sample(const SlotCopy& copy) noexcept {
  for (const MinuteValue& minute : copy.minutes) {
    if (minute.count[kCpu] != 0 || minute.count[kRam] != 0) return true;
  }
  for (const HourValue& hour : copy.hours) {
    if (hour.count[kCpu] != 0 || hour.count[kRam] != 0) return true;
  }
  for (int i = 0; i < copy.day_count; ++i) {
    if (copy.days[i].count[kCpu] != 0 || copy.days[i].count[kRam] != 0) return true;
  }
  return false;
}

constexpr std::uint64_t kNotCopied = ~std::uint64_t{0};
constexpr std::uint64_t kChanged = kNotCopied - 1;  // never an even sequence word

// Slot i still holds what the first pass copied at `sequence`: its sequence
// word (bumped by every write and claim) and its published state are the same.
bool unchanged_since(const Segment& segment, std::uint64_t i, std::uint64_t sequence) noexcept {
  return sequence != kChanged && segment.slot_sequence(i) == sequence && segment.slot_published(i);
}

}  // namespace

std::string grow_name(const std::string& name) { return name + ".grow"; }

bool Segment::freeze_writes(int patience_ms) noexcept {
  if (access_ != Access::read_write || superseded()) return false;
  const LockWord me = owner_id();
  LockWord holder = 0;
  if (!header_->frozen_by.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
    // Another step's freeze: taken over only from a dead one.
    if (owner_alive(holder) || !header_->frozen_by.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
      return false;
    }
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // the freeze before any lock word is read (grow.h, 2)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  for (std::uint64_t i = 0; i < capacity_; ++i) {
    while (true) {
      const LockWord word = slot(i).lock_owner.load(std::memory_order_seq_cst);
      // A dead holder's half write is undone by the copy's read (read-write).
      if (word == 0 || word == me || !owner_alive(word)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        thaw_writes();
        return false;
      }
      sched_yield();
    }
  }
  return true;
}

void Segment::thaw_writes() noexcept {
  LockWord me = owner_id();
  header_->frozen_by.compare_exchange_strong(me, 0, std::memory_order_seq_cst);
}

void Segment::mark_superseded() noexcept { header_->superseded.store(1, std::memory_order_seq_cst); }

bool Segment::superseded() const noexcept { return header_->superseded.load(std::memory_order_acquire) != 0; }

std::uint32_t Segment::slot_sequence(std::uint64_t index) const noexcept {
  return slot(index).seq.load(std::memory_order_acquire);
}

bool Segment::slot_published(std::uint64_t index) const noexcept {
  return slot(index).state.load(std::memory_order_acquire) == kSlotReady;
}

bool Segment::still_named() const noexcept {
  struct stat named {};
  return ::stat(path_of(name_).c_str(), &named) == 0 && named.st_dev == device_ && named.st_ino == inode_;
}

Segment::WriteState Segment::write_state() const noexcept {
  const LockWord freezer = header_->frozen_by.load(std::memory_order_acquire);
  if (freezer == 0) return WriteState::open;
  if (superseded() || !still_named()) return WriteState::replaced;
  return owner_alive(freezer) ? WriteState::frozen : WriteState::frozen_by_dead_step;
}

const char* Segment::describe(WriteState state) noexcept {
  switch (state) {
    case WriteState::open: return "open";
    case WriteState::frozen: return "frozen: a grow is copying it";
    case WriteState::frozen_by_dead_step: return "frozen by a grow step that died; the next write lifts it";
    case WriteState::replaced: return "replaced by a larger segment under its name (a grow)";
  }
  return "unknown";
}

bool Segment::writes_moved() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // the lock word before the freeze is read (grow.h, 2)
  LockWord freezer = header_->frozen_by.load(std::memory_order_relaxed);
  if (freezer == 0) return false;  // superseded() implies a freeze, never lifted
  if (superseded() || owner_alive(freezer) || !still_named()) return true;
  // The grow step died before publishing: its freeze is void.
  header_->frozen_by.compare_exchange_strong(freezer, 0, std::memory_order_seq_cst);
  return false;
}

bool copy_changed(Segment& from, Segment& to, std::int64_t now, PreCopy& before, GrowCopy& count) {
  const bool first_pass = before.sequences.empty();
  if (first_pass) {
    before.sequences.assign(from.capacity(), kNotCopied);
    before.names.assign(from.capacity(), std::string());
  }
  auto copy = std::make_unique<SlotCopy>();  // one scratch copy, reused
  bool room = true;
  // A name that left its slot since the first pass (deleted, or claimed
  // anew in another slot) goes first; wherever it lives now, it is copied again.
  std::unordered_set<std::string> forgotten;
  if (!first_pass) {
    for (std::uint64_t i = 0; i < from.capacity(); ++i) {
      if (before.sequences[i] == kNotCopied || unchanged_since(from, i, before.sequences[i])) continue;
      to.forget(before.names[i], now);
      forgotten.insert(before.names[i]);
    }
  }
  from.for_each_server([&](const ServerEntry& server) {
    const std::uint64_t i = server.slot_index;
    const bool copied_as_is = !first_pass && before.sequences[i] != kNotCopied &&
                              unchanged_since(from, i, before.sequences[i]) &&
                              (forgotten.empty() || !forgotten.contains(std::string(server.name)));
    if (!room || copied_as_is) return;
    const std::uint32_t sequence = from.slot_sequence(i);
    if (from.copy_slot(*server.slot, *copy) != Status::ok) {
      ++count.unreadable;
      return;
    }
    if (copy->name_view() != server.name) return;  // deleted or reused meanwhile: the next pass sees it
    // A write between the two reads of the sequence: copied again while frozen.
    before.sequences[i] = (sequence & 1) == 0 && from.slot_sequence(i) == sequence ? sequence : kChanged;
    before.names[i] = std::string(copy->name_view());
    if (!holds_a_sample(*copy)) {
      ++count.without_sample;
      return;
    }
    if (to.restore_server(copy->name_view(), *copy) != Status::ok) {
      room = false;
      return;
    }
    ++count.servers;
  });
  to.recount_used_slots(now);
  return room;
}

bool publish_grown(const std::string& name) noexcept {
  return std::rename(Segment::path_of(grow_name(name)).c_str(), Segment::path_of(name).c_str()) == 0;
}

GrowResult grow(const std::string& name, std::uint64_t capacity, int patience_ms, std::int64_t now) {
  using Outcome = GrowResult::Outcome;
  GrowResult result;
  Segment live = Segment::attach({.name = name, .access = Access::read_write});
  result.old_capacity = live.capacity();
  if (live.superseded() || capacity <= live.capacity()) {
    result.outcome = live.superseded() ? Outcome::already_replaced : Outcome::not_larger;
    return result;
  }
  const std::string temporary = grow_name(name);
  Segment::remove(temporary);  // left by a grow step that died
  const SegmentFacts facts = live.facts();
  Segment larger = Segment::create({temporary, capacity, live.days(), static_cast<mode_t>(facts.mode),
                                    facts.created_unix});
  const auto undo = [&](Outcome outcome) {
    live.thaw_writes();
    Segment::remove(temporary);
    result.outcome = outcome;
    return result;
  };
  // Most of the copy is taken while writes go on; only what changed meanwhile
  // is copied again while they are frozen.
  PreCopy before;
  GrowCopy first;
  if (!copy_changed(live, larger, now, before, first)) return undo(Outcome::no_room);
  const auto frozen_at = std::chrono::steady_clock::now();
  if (!live.freeze_writes(patience_ms)) return undo(Outcome::frozen_elsewhere);
  if (!copy_changed(live, larger, now, before, result.copied)) return undo(Outcome::no_room);
  result.copied.servers = larger.count_live_servers(now);
  if (!publish_grown(name)) {
    result.error = std::strerror(errno);
    return undo(Outcome::rename_failed);
  }
  live.mark_superseded();
  result.frozen_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frozen_at).count();
  return result;
}

}  // namespace servertrack::shm
