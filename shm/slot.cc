#include "shm/slot.h"

#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>

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
std::atomic<void (*)()> clearing_hook{nullptr};
std::atomic<void (*)()> stuck_check_hook{nullptr};

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

// Counts one sample in `b`, which then holds period `index`: a ring position
// holding any other period (an expired one, or one a wrong clock wrote) is
// reset first.
void add(Bucket& b, std::uint32_t index, double cpu, double ram) noexcept {
  if (b.index.load(relaxed) != index) store(b, {index, 0, 0.0, 0.0});
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

// Resets every bucket of `ring` whose period is after `last`: written by a
// clock that ran ahead. Each bucket is cleared sums first and index last, so
// a writer killed midway leaves buckets that read as empty and are cleared
// again by the next writer (the slot's last sample time is still ahead then:
// the journal restores it).
void clear_after(std::span<Bucket> ring, std::uint32_t last) noexcept {
  for (Bucket& b : ring) {
    if (b.index.load(relaxed) <= last) continue;
    b.count.store(0, relaxed);
    b.cpu_sum.store(0, relaxed);
    b.ram_sum.store(0, relaxed);
    b.index.store(0, relaxed);
    if (auto hook = clearing_hook.load(relaxed)) hook();
  }
}

// The holder and sequence word a waiter last saw change, and when.
struct Progress {
  LockWord holder = 0;
  std::uint32_t seq = 0;
  std::chrono::steady_clock::time_point since{};
};

// True when `holder` has held the lock with `seq` unchanged for kLockPatience.
bool stalled(const Slot& slot, LockWord holder, Progress& seen) noexcept {
  const std::uint32_t seq = slot.seq.load(relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (seen.since == std::chrono::steady_clock::time_point{} || holder != seen.holder || seq != seen.seq) {
    seen = {holder, seq, now};
    return false;
  }
  return now - seen.since > kLockPatience;
}

// Slots this process found wedged: a few entries, replaced round-robin, under
// a spin lock taken only on the way to answering busy.
class WedgedSlots {
 public:
  // True when `slot` was found wedged with this lock and sequence word less
  // than kWedgedMemory ago.
  bool remembered(const Slot& slot, LockWord holder, std::uint32_t seq) noexcept {
    if (!used_.load(relaxed)) return false;  // the common case: no slot was ever wedged
    const auto now = std::chrono::steady_clock::now();
    Guard guard(busy_);
    for (const Entry& e : entries_) {
      if (e.slot == &slot && e.holder == holder && e.seq == seq && now < e.until) return true;
    }
    return false;
  }
  void remember(const Slot& slot, LockWord holder, std::uint32_t seq) noexcept {
    const auto until = std::chrono::steady_clock::now() + kWedgedMemory;
    used_.store(true, relaxed);
    Guard guard(busy_);
    for (Entry& e : entries_) {
      if (e.slot == &slot) {
        e = {&slot, holder, seq, until};
        return;
      }
    }
    entries_[next_++ % kEntries] = {&slot, holder, seq, until};
  }

 private:
  static constexpr std::size_t kEntries = 16;
  struct Entry {
    const Slot* slot = nullptr;
    LockWord holder = 0;
    std::uint32_t seq = 0;
    std::chrono::steady_clock::time_point until{};
  };
  struct Guard {
    explicit Guard(std::atomic_flag& flag) : flag_(flag) {
      while (flag_.test_and_set(acquire)) sched_yield();
    }
    ~Guard() { flag_.clear(release); }
    std::atomic_flag& flag_;
  };
  std::atomic<bool> used_{false};
  std::atomic_flag busy_;
  std::array<Entry, kEntries> entries_{};
  std::size_t next_ = 0;
};

WedgedSlots wedged_slots;

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

LockResult lock_slot(Slot& slot, Counters& counters) noexcept {
  const LockWord me = owner_id();
  Progress seen;
  for (int spins = 0;; ++spins) {
    LockWord holder = slot.lock_owner.load(relaxed);
    const bool check = spins % kSpinsPerCheck == kSpinsPerCheck - 1;
    if (holder != 0 && spins == 0 && wedged_slots.remembered(slot, holder, slot.seq.load(relaxed)) &&
        owner_alive(holder)) {
      return LockResult::busy;
    }
    const bool holder_gone = holder != 0 && check && !owner_alive(holder);
    if (holder == 0 || holder_gone) {
      // A dead holder's word never names a live thread again, so this CAS
      // succeeds only if nobody took the lock since we found it dead.
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
      if (stalled(slot, holder, seen)) {
        wedged_slots.remember(slot, holder, seen.seq);
        return LockResult::busy;
      }
      sched_yield();
    } else {
      cpu_relax();
    }
  }
}

void unlock_slot(Slot& slot) noexcept { slot.lock_owner.store(0, release); }

WriteResult write_sample(Slot& slot, const SampleValue& sample, std::int64_t now) noexcept {
  const Periods p = periods_of(sample.time);
  const std::int64_t horizon = now + kClockSlack;
  // The retry rule: 1 + milliseconds into its hour, compared with the hour's mark.
  const bool same_hour = slot.hours[p.hour_pos].index.load(relaxed) == p.hour;
  const std::uint32_t newest = same_hour ? slot.hour_newest[p.hour_pos].load(relaxed) : 0;
  const auto mark =
      static_cast<std::uint32_t>((sample.time - std::int64_t{p.hour} * 3600) * 1000 + sample.millis + 1);
  if (sample.stated && mark <= newest) return WriteResult::repeat;

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
  std::int64_t last = j.last_sample_before;
  if (last > horizon) {  // a clock ran ahead: no bucket may be later than `last` now
    clear_after(slot.minutes, periods_of(horizon).minute);
    clear_after(slot.hours, periods_of(horizon).hour);
    last = now;
  }
  // A newer minute at the position, up to the horizon, is one that a sample
  // stated a little ahead left there: it stays, and this older one counts in
  // its hour only.
  const std::uint32_t held = slot.minutes[j.minute_pos].index.load(relaxed);
  const bool newer_held = held > p.minute && held <= periods_of(horizon).minute;
  if (p.minute + kMinuteBuckets > periods_of(now).minute && !newer_held) {
    add(slot.minutes[j.minute_pos], p.minute, sample.cpu, sample.ram);
  }
  if (auto hook = critical_section_hook.load(relaxed)) hook();
  add(slot.hours[j.hour_pos], p.hour, sample.cpu, sample.ram);
  slot.hour_newest[p.hour_pos].store(sample.stated ? std::max(newest, mark) : newest, relaxed);
  slot.last_sample_unix.store(std::max(last, sample.time), relaxed);
  slot.seq.store(seq + 2, release);
  return WriteResult::counted;
}

// Calls copy() until it ran while `seq` stayed even and unchanged. copy() must
// only load (relaxed) from the slot.
template <class Copy>
ReadResult read_consistently(Slot& slot, Counters& counters, bool may_repair, Copy copy) noexcept {
  for (int round = 0; round < kReadRounds; ++round) {
    if (copy_stable(slot, copy)) return ReadResult::ok;
    // Still changing or odd: is a dead writer the reason? A writer locks
    // before it makes the word odd and unlocks after making it even, so the
    // holder read after an odd word is the writer that made it odd or a later
    // one; the word unchanged after the liveness check rules out the later.
    const std::uint32_t odd = slot.seq.load(acquire);
    if (auto hook = stuck_check_hook.load(relaxed)) hook();
    const LockWord holder = slot.lock_owner.load(acquire);
    const bool stuck = (odd & 1) && !owner_alive(holder) && slot.seq.load(acquire) == odd &&
                       slot.lock_owner.load(acquire) == holder;
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
    copy_data_as_is(slot, out);
    out.name_length = copy_name(slot, out.name);
  });
}

void copy_data_as_is(const Slot& slot, SlotCopy& out) noexcept {
  for (int i = 0; i < kMinuteBuckets; ++i) out.minutes[i] = load(slot.minutes[i]);
  for (int i = 0; i < kHourBuckets; ++i) {
    out.hours[i] = load(slot.hours[i]);
    out.hour_newest[i] = slot.hour_newest[i].load(relaxed);
  }
  out.last_sample_unix = slot.last_sample_unix.load(relaxed);
  out.name_length = 0;
}

void store_data(Slot& slot, const SlotCopy& data) noexcept {
  rewrite(slot, [&] {
    for (int i = 0; i < kMinuteBuckets; ++i) store(slot.minutes[i], data.minutes[i]);
    for (int i = 0; i < kHourBuckets; ++i) {
      store(slot.hours[i], data.hours[i]);
      slot.hour_newest[i].store(data.hour_newest[i], relaxed);
    }
    slot.last_sample_unix.store(data.last_sample_unix, relaxed);
  });
}

ReadResult read_latest_minute(Slot& slot, std::string_view name, LatestMinute& out, Counters& counters,
                              bool may_repair) noexcept {
  BucketValue minute, hour;
  const ReadResult result = read_consistently(slot, counters, may_repair, [&] {
    out.holds = slot.state.load(relaxed) == kSlotReady && slot.name_length == name.size() &&
                std::memcmp(slot.name, name.data(), name.size()) == 0;
    out.last_sample_unix = slot.last_sample_unix.load(relaxed);
    const Periods p = periods_of(std::max<std::int64_t>(out.last_sample_unix, 0));
    minute = load(slot.minutes[p.minute_pos]);
    hour = load(slot.hours[p.hour_pos]);
  });
  const Periods p = periods_of(std::max<std::int64_t>(out.last_sample_unix, 0));
  out.minute = bucket_mean(minute, p.minute);
  out.hour = bucket_mean(hour, p.hour);
  return result;
}

void assign_slot(Slot& slot, std::string_view name, std::uint64_t hash, std::int64_t last_sample_unix) noexcept {
  rewrite(slot, [&] {
    if (slot.state.load(relaxed) == kSlotReady) slot.state.store(kSlotRetired, relaxed);
    for (Bucket& b : slot.minutes) store(b, {});
    for (Bucket& b : slot.hours) store(b, {});
    for (auto& mark : slot.hour_newest) mark.store(0, relaxed);
    if (auto hook = critical_section_hook.load(relaxed)) hook();
    slot.last_sample_unix.store(last_sample_unix, relaxed);
    slot.name_length = static_cast<std::uint32_t>(name.size());
    slot.name_hash = hash;
    std::memcpy(slot.name, name.data(), name.size());
    std::memset(slot.name + name.size(), 0, kNameBytes - name.size());
    slot.state.store(kSlotReady, release);
  });
}

void retire_slot(Slot& slot) noexcept {
  rewrite(slot, [&] {
    slot.state.store(kSlotRetired, release);
    if (auto hook = critical_section_hook.load(relaxed)) hook();
  });
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
void set_clearing_hook(void (*hook)()) noexcept { clearing_hook.store(hook); }
void set_stuck_check_hook(void (*hook)()) noexcept { stuck_check_hook.store(hook); }
}  // namespace testing

}  // namespace servertrack::shm
