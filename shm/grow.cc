#include "shm/grow.h"

#include <sched.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

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

bool Segment::still_named() const noexcept {
  struct stat named {};
  return ::stat(path_of(name_).c_str(), &named) == 0 && named.st_dev == device_ && named.st_ino == inode_;
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

bool copy_servers(Segment& from, Segment& to, std::int64_t now, GrowCopy& count) noexcept {
  auto copy = std::make_unique<SlotCopy>();  // one scratch copy, reused
  bool room = true;
  from.for_each_server([&](const ServerEntry& server) {
    if (!room) return;
    if (from.copy_slot(*server.slot, *copy) != Status::ok) {
      ++count.unreadable;
      return;
    }
    if (copy->name_view() != server.name) return;  // deleted or reused meanwhile
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
  Segment larger = Segment::create({temporary, capacity, live.days(), static_cast<mode_t>(live.header().mode),
                                    live.header().created_unix});
  const auto frozen_at = std::chrono::steady_clock::now();
  const auto undo = [&](Outcome outcome) {
    live.thaw_writes();
    Segment::remove(temporary);
    result.outcome = outcome;
    return result;
  };
  if (!live.freeze_writes(patience_ms)) return undo(Outcome::frozen_elsewhere);
  if (!copy_servers(live, larger, now, result.copied)) return undo(Outcome::no_room);
  if (!publish_grown(name)) {
    result.error = std::strerror(errno);
    return undo(Outcome::rename_failed);
  }
  live.mark_superseded();
  result.frozen_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frozen_at).count();
  return result;
}

}  // namespace servertrack::shm
