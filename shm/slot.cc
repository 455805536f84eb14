#include "shm/slot.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "shm/name.h"
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

// Copies what `copy` reads from the slot while no write overlaps: true when
// the sequence word was even and unchanged around one copy within
// kSpinsPerCheck tries.
template <class Copy>
bool copy_stable(const Slot& slot, Copy copy) noexcept {
  for (int spin = 0; spin < kSpinsPerCheck; ++spin) {
    const std::uint32_t before = slot.seq.load(acquire);
    if (before & 1) {
      cpu_relax();
      continue;
    }
    copy();
    std::atomic_thread_fence(acquire);
    if (slot.seq.load(relaxed) == before) return true;
  }
  return false;
}

// The name of a published slot (length bounded for a damaged slot).
std::uint32_t copy_name(const Slot& slot, char (&to)[kNameBytes]) noexcept {
  if (slot.state.load(acquire) != kSlotReady) return 0;
  const std::uint32_t length = std::min<std::uint32_t>(slot.name_length, kMaxNameLength);
  std::memcpy(to, slot.name, length);
  return length;
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
  if (j.hour_pos < kHourBuckets) {
    store(slot.hours[j.hour_pos], j.hour_before);
    slot.hour_newest[j.hour_pos].store(j.hour_newest_before, relaxed);
    slot.last_sample_unix.store(j.last_sample_before, relaxed);
  }
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

WriteResult write_sample(Slot& slot, double cpu, double ram, SampleTime at, std::int64_t now) noexcept {
  const std::int64_t seconds = at.unix_ms / 1000;
  const Periods p = periods_of(seconds);
  const bool same_hour = slot.hours[p.hour_pos].index.load(relaxed) == p.hour;
  const std::uint32_t newest = same_hour ? slot.hour_newest[p.hour_pos].load(relaxed) : 0;
  const auto mark = static_cast<std::uint32_t>(at.unix_ms - std::int64_t{p.hour} * 3'600'000 + 1);
  if (at.stated && mark <= newest) return WriteResult::repeat;

  Journal& j = slot.journal;
  j.minute_pos = p.minute_pos;
  j.hour_pos = p.hour_pos;
  j.minute_before = load(slot.minutes[j.minute_pos]);
  j.hour_before = load(slot.hours[j.hour_pos]);
  j.last_sample_before = slot.last_sample_unix.load(relaxed);
  j.hour_newest_before = slot.hour_newest[p.hour_pos].load(relaxed);

  const std::uint32_t seq = slot.seq.load(relaxed);
  slot.seq.store(seq + 1, release);  // publishes the journal to a repairer
  std::atomic_thread_fence(release);  // orders the odd word before the data
  if (std::int64_t{p.minute} > now / 60 - kMinuteBuckets) add(slot.minutes[j.minute_pos], p.minute, cpu, ram);
  if (auto hook = critical_section_hook.load(relaxed)) hook();
  add(slot.hours[j.hour_pos], p.hour, cpu, ram);
  if (slot.hours[j.hour_pos].index.load(relaxed) == p.hour) {
    slot.hour_newest[p.hour_pos].store(at.stated ? std::max(newest, mark) : newest, relaxed);
  }
  slot.last_sample_unix.store(std::max(j.last_sample_before, seconds), relaxed);
  slot.seq.store(seq + 2, release);
  return WriteResult::counted;
}

ReadResult read_slot(Slot& slot, SlotCopy& out, Counters& counters, bool may_repair) noexcept {
  const auto copy = [&] {
    for (int i = 0; i < kMinuteBuckets; ++i) out.minutes[i] = load(slot.minutes[i]);
    for (int i = 0; i < kHourBuckets; ++i) {
      out.hours[i] = load(slot.hours[i]);
      out.hour_newest[i] = slot.hour_newest[i].load(relaxed);
    }
    out.last_sample_unix = slot.last_sample_unix.load(relaxed);
    out.state = slot.state.load(relaxed);
    out.name_length = copy_name(slot, out.name);
  };
  for (int round = 0; round < kReadRounds; ++round) {
    if (copy_stable(slot, copy)) return ReadResult::ok;
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

namespace {

// Runs change() inside a seq-odd window that a repairer leaves as it is.
template <class Change>
void rewrite(Slot& slot, Change change) noexcept {
  slot.journal.minute_pos = kNoBucket;
  slot.journal.hour_pos = kNoBucket;
  const std::uint32_t seq = slot.seq.load(relaxed);
  slot.seq.store(seq + 1, release);
  std::atomic_thread_fence(release);
  change();
  slot.seq.store(seq + 2, release);
}

}  // namespace

void assign_slot(Slot& slot, std::string_view name, std::uint64_t hash, std::int64_t last_sample_unix) noexcept {
  rewrite(slot, [&] {
    if (slot.state.load(relaxed) == kSlotReady) slot.state.store(kSlotRetired, relaxed);
    for (Bucket& b : slot.minutes) store(b, {});
    for (Bucket& b : slot.hours) store(b, {});
    for (auto& mark : slot.hour_newest) mark.store(0, relaxed);
    slot.last_sample_unix.store(last_sample_unix, relaxed);
    slot.name_length = static_cast<std::uint32_t>(name.size());
    slot.name_hash = hash;
    std::memcpy(slot.name, name.data(), name.size());
    std::memset(slot.name + name.size(), 0, kNameBytes - name.size());
    slot.state.store(kSlotReady, release);
  });
}

void retire_slot(Slot& slot) noexcept {
  rewrite(slot, [&] { slot.state.store(kSlotRetired, release); });
}

bool read_identity(const Slot& slot, SlotIdentity& out) noexcept {
  constexpr int kRounds = 16;
  for (int round = 0; round < kRounds; ++round) {
    const bool stable = copy_stable(slot, [&] {
      out.name_length = copy_name(slot, out.name);
      out.last_sample_unix = slot.last_sample_unix.load(relaxed);
    });
    if (stable) return out.name_length > 0;
    sched_yield();
  }
  // A slot left mid-write by a dead writer: its name is not what a write
  // changes, so it is used when it is still a valid one.
  out.name_length = copy_name(slot, out.name);
  out.last_sample_unix = slot.last_sample_unix.load(relaxed);
  return out.name_length > 0 && is_valid_name(out.name_view());
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
  span(base, offsetof(Slot, name) + std::min(use.name_bytes, kNameBytes), write_hint);
  span(&slot.journal, sizeof(Journal), write_hint);
  const Periods p = periods_of(use.now);
  span(&slot.hour_newest[p.hour_pos], sizeof slot.hour_newest[0], write_hint);
  span(&slot.minutes[p.minute_pos], sizeof(Bucket), write_hint);
  span(&slot.hours[p.hour_pos], sizeof(Bucket), write_hint);
}

namespace testing {
void set_critical_section_hook(void (*hook)()) noexcept { critical_section_hook.store(hook); }
}  // namespace testing

}  // namespace servertrack::shm
