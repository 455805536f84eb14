#include "shm/slot.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>

#include "shm/owner.h"

namespace servertrack::shm {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

// Spins between two liveness checks of a lock holder or two looks at an odd
// sequence word; a normal critical section lasts ~100 ns.
constexpr int kSpinsPerCheck = 256;
// Reader retries (each a spin round plus a yield) before answering busy.
constexpr int kReadRounds = 2000;

std::atomic<void (*)()> critical_section_hook{nullptr};

void cpu_relax() noexcept { __builtin_ia32_pause(); }

BucketValue load(const Bucket& b) noexcept {
  return {b.index.load(relaxed), b.count.load(relaxed), b.cpu_sum.load(relaxed),
          b.ram_sum.load(relaxed)};
}

void store(Bucket& b, const BucketValue& v) noexcept {
  b.index.store(v.index, relaxed);
  b.count.store(v.count, relaxed);
  b.cpu_sum.store(v.cpu_sum, relaxed);
  b.ram_sum.store(v.ram_sum, relaxed);
}

void add(Bucket& b, std::uint32_t index, double cpu, double ram) noexcept {
  const std::uint32_t held = b.index.load(relaxed);
  if (held > index) return;  // the ring position already holds a newer period
  if (held < index) store(b, {index, 0, 0.0, 0.0});
  b.count.store(b.count.load(relaxed) + 1, relaxed);
  b.cpu_sum.store(b.cpu_sum.load(relaxed) + cpu, relaxed);
  b.ram_sum.store(b.ram_sum.load(relaxed) + ram, relaxed);
}

// The minute and hour a sample taken at `now` belongs to, and where they sit
// in the rings.
struct Periods {
  std::uint32_t minute, hour, minute_pos, hour_pos;
};

Periods periods_of(std::int64_t now) noexcept {
  const auto minute = static_cast<std::uint32_t>(now / 60);
  const auto hour = static_cast<std::uint32_t>(now / 3600);
  return {minute, hour, minute % kMinuteBuckets, hour % kHourBuckets};
}

// The holder and sequence word a waiter last saw change, and when.
struct Progress {
  std::uint32_t holder = 0;
  std::uint32_t seq = 0;
  std::chrono::steady_clock::time_point since{};
};

// True when `holder` has held the lock with `seq` unchanged for kLockPatience.
bool stalled(const Slot& slot, std::uint32_t holder, Progress& seen) noexcept {
  const std::uint32_t seq = slot.seq.load(relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (seen.since == std::chrono::steady_clock::time_point{} || holder != seen.holder || seq != seen.seq) {
    seen = {holder, seq, now};
    return false;
  }
  return now - seen.since > kLockPatience;
}

// Called by the lock holder. An odd sequence word means a writer died between
// making it odd and making it even again: put back what the journal saved.
void repair(Slot& slot) noexcept {
  const std::uint32_t seq = slot.seq.load(acquire);
  if ((seq & 1) == 0) return;
  const Journal& j = slot.journal;
  if (j.minute_pos < kMinuteBuckets) store(slot.minutes[j.minute_pos], j.minute_before);
  if (j.hour_pos < kHourBuckets) store(slot.hours[j.hour_pos], j.hour_before);
  slot.last_sample_unix.store(j.last_sample_before, relaxed);
  slot.seq.store(seq + 1, release);
}

}  // namespace

LockResult lock_slot(Slot& slot, Counters& counters) noexcept {
  const std::uint32_t me = owner_id();
  Progress seen;
  for (int spins = 0;; ++spins) {
    std::uint32_t holder = slot.lock_owner.load(relaxed);
    const bool check = spins % kSpinsPerCheck == kSpinsPerCheck - 1;
    // A holder with our own id is a dead thread whose id we inherited: we never
    // lock a slot twice.
    const bool holder_gone = holder == me || (holder != 0 && check && !owner_alive(holder));
    if (holder == 0 || holder_gone) {
      if (slot.lock_owner.compare_exchange_strong(holder, me, acquire, relaxed)) {
        // Also covers an odd word with a free lock, which only damage leaves.
        const bool odd = slot.seq.load(acquire) & 1;
        repair(slot);
        if (holder_gone || odd) {
          counters.lock_takeovers.fetch_add(1, relaxed);
          return LockResult::took_over;
        }
        return LockResult::acquired;
      }
      continue;
    }
    if (check) {
      if (stalled(slot, holder, seen)) return LockResult::busy;
      sched_yield();
    } else {
      cpu_relax();
    }
  }
}

void unlock_slot(Slot& slot) noexcept { slot.lock_owner.store(0, release); }

void write_sample(Slot& slot, double cpu, double ram, std::int64_t now) noexcept {
  const Periods p = periods_of(now);
  Journal& j = slot.journal;
  j.minute_pos = p.minute_pos;
  j.hour_pos = p.hour_pos;
  j.minute_before = load(slot.minutes[j.minute_pos]);
  j.hour_before = load(slot.hours[j.hour_pos]);
  j.last_sample_before = slot.last_sample_unix.load(relaxed);

  const std::uint32_t seq = slot.seq.load(relaxed);
  slot.seq.store(seq + 1, release);  // publishes the journal to a repairer
  std::atomic_thread_fence(release);  // orders the odd word before the data
  add(slot.minutes[j.minute_pos], p.minute, cpu, ram);
  if (auto hook = critical_section_hook.load(relaxed)) hook();
  add(slot.hours[j.hour_pos], p.hour, cpu, ram);
  slot.last_sample_unix.store(std::max(j.last_sample_before, now), relaxed);
  slot.seq.store(seq + 2, release);
}

// Calls copy() until it ran while `seq` stayed even and unchanged. copy() must
// only load (relaxed) from the slot.
template <class Copy>
ReadResult read_consistently(Slot& slot, Counters& counters, bool may_repair, Copy copy) noexcept {
  for (int round = 0; round < kReadRounds; ++round) {
    for (int spin = 0; spin < kSpinsPerCheck; ++spin) {
      const std::uint32_t before = slot.seq.load(acquire);
      if (before & 1) {
        cpu_relax();
        continue;
      }
      copy();
      std::atomic_thread_fence(acquire);
      if (slot.seq.load(relaxed) == before) return ReadResult::ok;
    }
    // Still changing or odd: is a dead writer the reason?
    const std::uint32_t holder = slot.lock_owner.load(relaxed);
    const bool stuck = (slot.seq.load(acquire) & 1) && !owner_alive(holder);
    if (stuck && may_repair) {
      if (lock_slot(slot, counters) != LockResult::busy) unlock_slot(slot);
    } else if (stuck) {
      return ReadResult::busy;
    }
    sched_yield();
  }
  return ReadResult::busy;
}

ReadResult read_slot(Slot& slot, SlotCopy& out, Counters& counters, bool may_repair) noexcept {
  return read_consistently(slot, counters, may_repair, [&] {
    for (int i = 0; i < kMinuteBuckets; ++i) out.minutes[i] = load(slot.minutes[i]);
    for (int i = 0; i < kHourBuckets; ++i) out.hours[i] = load(slot.hours[i]);
    out.last_sample_unix = slot.last_sample_unix.load(relaxed);
  });
}

ReadResult read_latest_minute(Slot& slot, LatestMinute& out, Counters& counters,
                              bool may_repair) noexcept {
  return read_consistently(slot, counters, may_repair, [&] {
    out.last_sample_unix = slot.last_sample_unix.load(relaxed);
    out.minute = load(slot.minutes[periods_of(std::max<std::int64_t>(out.last_sample_unix, 0)).minute_pos]);
  });
}

void prefetch(const Slot& slot, SlotUse use) noexcept {
  constexpr int kLine = 64;
  const char* base = reinterpret_cast<const char*>(&slot);
  const auto span = [](const void* from, std::size_t bytes, auto hint) {
    const char* first = static_cast<const char*>(from);
    for (std::size_t at = 0; at < bytes; at += kLine) hint(first + at);
    hint(first + bytes - 1);  // a bucket may straddle two lines
  };
  if (use.kind == SlotUse::whole) {
    span(base, sizeof(Slot), [](const char* p) { __builtin_prefetch(p, 0); });
    return;
  }
  const auto write_hint = [](const char* p) { __builtin_prefetch(p, 1); };
  span(base, offsetof(Slot, minutes), write_hint);
  const Periods p = periods_of(use.now);
  span(&slot.minutes[p.minute_pos], sizeof(Bucket), write_hint);
  span(&slot.hours[p.hour_pos], sizeof(Bucket), write_hint);
}

namespace testing {
void set_critical_section_hook(void (*hook)()) noexcept { critical_section_hook.store(hook); }
}  // namespace testing

}  // namespace servertrack::shm
