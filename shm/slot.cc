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
std::atomic<void (*)(int)> write_step_hook{nullptr};

// The test hooks inside write_sample(): after the minute ring was written
// (step 1: the critical-section hook too), after the hour ring (2), after
// the day ring (3).
void step(int done) noexcept {
  if (done == 1) {
    if (auto hook = critical_section_hook.load(relaxed)) hook();
  }
  if (auto hook = write_step_hook.load(relaxed)) hook(done);
}

void cpu_relax() noexcept { __builtin_ia32_pause(); }

// The period a bucket holds, and the retry marks of metric m.
std::uint32_t period_of(const MinuteBucket& b) noexcept { return b.index.load(relaxed); }
std::uint32_t period_of(const HourBucket& b) noexcept { return b.index.load(relaxed); }
std::uint32_t period_of(const DayBucket& b) noexcept { return day_of_key(b.key.load(relaxed)); }
std::uint64_t marks_of(const MinuteBucket& b, int m) noexcept { return b.seconds[m].load(relaxed); }
std::uint64_t marks_of(const HourBucket& b, int m) noexcept { return b.minutes[m].load(relaxed); }
std::uint64_t marks_of(const DayBucket& b, int m) noexcept { return hours_of_key(b.key.load(relaxed), m); }

// The metric fields every bucket has, copied between a bucket and its value.
template <class Bucket, class Value>
void load_metrics(const Bucket& b, Value& v) noexcept {
  for (int m = 0; m < kMetrics; ++m) {
    v.count[m] = b.count[m].load(relaxed);
    v.max[m] = b.max[m].load(relaxed);
    v.sum[m] = b.sum[m].load(relaxed);
  }
}
template <class Bucket, class Value>
void store_metrics(Bucket& b, const Value& v) noexcept {
  for (int m = 0; m < kMetrics; ++m) {
    b.count[m].store(v.count[m], relaxed);
    b.max[m].store(v.max[m], relaxed);
    b.sum[m].store(v.sum[m], relaxed);
  }
}

MinuteValue load(const MinuteBucket& b) noexcept {
  MinuteValue v;
  v.index = b.index.load(relaxed);
  load_metrics(b, v);
  for (int m = 0; m < kMetrics; ++m) v.seconds[m] = b.seconds[m].load(relaxed);
  return v;
}
HourValue load(const HourBucket& b) noexcept {
  HourValue v;
  v.index = b.index.load(relaxed);
  v.reserved = b.reserved;
  load_metrics(b, v);
  for (int m = 0; m < kMetrics; ++m) v.minutes[m] = b.minutes[m].load(relaxed);
  return v;
}
DayValue load(const DayBucket& b) noexcept {
  DayValue v;
  v.key = b.key.load(relaxed);
  load_metrics(b, v);
  return v;
}
void store(MinuteBucket& b, const MinuteValue& v) noexcept {
  b.index.store(v.index, relaxed);
  store_metrics(b, v);
  for (int m = 0; m < kMetrics; ++m) b.seconds[m].store(v.seconds[m], relaxed);
}
void store(HourBucket& b, const HourValue& v) noexcept {
  b.index.store(v.index, relaxed);
  store_metrics(b, v);
  for (int m = 0; m < kMetrics; ++m) b.minutes[m].store(v.minutes[m], relaxed);
}
void store(DayBucket& b, const DayValue& v) noexcept {
  b.key.store(v.key, relaxed);
  store_metrics(b, v);
}

// An empty bucket holding `period`.
void reset(MinuteBucket& b, std::uint32_t period) noexcept {
  MinuteValue empty{};
  empty.index = period;
  store(b, empty);
}
void reset(HourBucket& b, std::uint32_t period) noexcept {
  HourValue empty{};
  empty.index = period;
  store(b, empty);
}
void reset(DayBucket& b, std::uint32_t period) noexcept {
  DayValue empty{};
  empty.key = day_key(period, 0, 0);
  store(b, empty);
}

void set_mark(MinuteBucket& b, int m, int bit) noexcept {
  b.seconds[m].store(b.seconds[m].load(relaxed) | std::uint64_t{1} << bit, relaxed);
}
void set_mark(HourBucket& b, int m, int bit) noexcept {
  b.minutes[m].store(b.minutes[m].load(relaxed) | std::uint64_t{1} << bit, relaxed);
}
void set_mark(DayBucket& b, int m, int bit) noexcept {
  b.key.store(b.key.load(relaxed) | std::uint64_t{1} << (16 + 24 * m + bit), relaxed);
}

// Which metrics of a sample are counted (not repeats).
struct Counted {
  bool metric[kMetrics];
};

// Counts the sample's `counted` metrics in `b`, which then holds `period`: a
// ring position holding any other period (an expired one, or one a wrong
// clock wrote) is reset first. `mark` >= 0: a stated sample; sets that bit
// of each counted metric's marks.
template <class Bucket>
void add(Bucket& b, std::uint32_t period, const SampleValue& sample, Counted counted, int mark) noexcept {
  if (period_of(b) != period) reset(b, period);
  const double values[kMetrics] = {sample.cpu, sample.ram};
  for (int m = 0; m < kMetrics; ++m) {
    if (!counted.metric[m]) continue;
    const auto count = b.count[m].load(relaxed);
    const auto peak = static_cast<float>(values[m]);  // rounded to nearest
    b.count[m].store(static_cast<decltype(count)>(count + 1), relaxed);
    b.sum[m].store(b.sum[m].load(relaxed) + values[m], relaxed);
    if (count == 0 || peak > b.max[m].load(relaxed)) b.max[m].store(peak, relaxed);
    if (mark >= 0) set_mark(b, m, mark);
  }
}

// The minute, hour and day a sample taken at `now` belongs to, and where they
// sit in the rings (a segment without days: day_pos is kNoBucket).
struct Periods {
  std::uint32_t minute, hour, day, minute_pos, hour_pos, day_pos;
};

Periods periods_of(std::int64_t now, int days) noexcept {
  const auto minute = static_cast<std::uint32_t>(now / kSecondsPerMinute);
  const auto hour = static_cast<std::uint32_t>(now / kSecondsPerHour);
  const auto day = static_cast<std::uint32_t>(now / kSecondsPerDay);
  return {minute, hour, day, minute % kMinuteBuckets, hour % kHourBuckets,
          days > 0 ? day % static_cast<std::uint32_t>(days) : kNoBucket};
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
// clock that ran ahead. Each bucket is cleared counts first and period last,
// so a writer killed midway leaves buckets that read as empty and are cleared
// again by the next writer (the slot's last sample time is still ahead then:
// the journal restores it).
template <class Bucket>
void clear_after(std::span<Bucket> ring, std::uint32_t last) noexcept {
  for (Bucket& b : ring) {
    if (period_of(b) <= last) continue;
    for (int m = 0; m < kMetrics; ++m) b.count[m].store(0, relaxed);
    reset(b, 0);
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
void repair(Slot& slot, int days) noexcept {
  const std::uint32_t seq = slot.seq.load(acquire);
  if ((seq & 1) == 0) return;
  const Journal& j = slot.journal;
  if (j.minute_pos < kMinuteBuckets) store(slot.minutes[j.minute_pos], j.minute_before);
  if (j.hour_pos < kHourBuckets) store(slot.hours[j.hour_pos], j.hour_before);
  if (j.day_pos < static_cast<std::uint32_t>(days)) store(day_ring(slot)[j.day_pos], j.day_before);
  if (j.minute_pos < kMinuteBuckets || j.hour_pos < kHourBuckets || j.day_pos < static_cast<std::uint32_t>(days)) {
    slot.last_sample_unix.store(j.last_sample_before, relaxed);
  }
  slot.seq.store(seq + 1, release);
}

// Runs change() inside a seq-odd window that a repairer leaves as it is.
template <class Change>
void rewrite(Slot& slot, Change change) noexcept {
  slot.journal.minute_pos = kNoBucket;
  slot.journal.hour_pos = kNoBucket;
  slot.journal.day_pos = kNoBucket;
  const std::uint32_t seq = slot.seq.load(relaxed);
  slot.seq.store(seq + 1, release);
  std::atomic_thread_fence(release);
  change();
  slot.seq.store(seq + 2, release);
}

}  // namespace

LockResult lock_slot(Slot& slot, int days, Counters& counters) noexcept {
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
        repair(slot, days);
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

WriteResult write_sample(Slot& slot, int days, const SampleValue& sample, std::int64_t now) noexcept {
  const Periods p = periods_of(sample.time, days);
  const std::int64_t horizon = now + kClockSlack;
  const Periods h = periods_of(horizon, days);
  MinuteBucket& minute = slot.minutes[p.minute_pos];
  HourBucket& hour = slot.hours[p.hour_pos];
  DayBucket* day = days > 0 ? &day_ring(slot)[p.day_pos] : nullptr;
  // Which rings count it. A newer minute at the position, up to the horizon,
  // is one that a sample stated a little ahead left there: it stays, and this
  // older one counts in its hour only.
  const std::uint32_t held = period_of(minute);
  const bool newer_held = held > p.minute && held <= h.minute;
  const bool in_minutes = p.minute + kMinuteBuckets > periods_of(now, 0).minute && !newer_held;
  const bool in_hours = p.hour + kHourBuckets > h.hour;
  const bool in_days = day != nullptr && p.day + static_cast<std::uint32_t>(days) > h.day;
  // The retry rule: the finest ring that counts the sample says whether its
  // second (minute window), minute (hour window) or hour (day window) was
  // counted for each metric.
  Counted counted{{sample.has_cpu, sample.has_ram}};
  for (int m = 0; m < kMetrics && sample.stated; ++m) {
    if (!counted.metric[m]) continue;
    if (in_minutes) {
      counted.metric[m] = held != p.minute || !(marks_of(minute, m) >> (sample.time % kSecondsPerMinute) & 1);
    } else if (in_hours) {
      counted.metric[m] = period_of(hour) != p.hour || !(marks_of(hour, m) >> (p.minute % 60) & 1);
    } else if (in_days) {
      counted.metric[m] = period_of(*day) != p.day || !(marks_of(*day, m) >> (p.hour % 24) & 1);
    }
  }
  if (!counted.metric[kCpu] && !counted.metric[kRam]) return WriteResult::repeat;
  for (int m = 0; m < kMetrics && in_minutes; ++m) {
    if (counted.metric[m] && held == p.minute && minute.count[m].load(relaxed) >= kMaxMinuteCount) {
      return WriteResult::full;
    }
  }

  Journal& j = slot.journal;
  j.minute_pos = in_minutes ? p.minute_pos : kNoBucket;
  j.hour_pos = in_hours ? p.hour_pos : kNoBucket;
  j.day_pos = in_days ? p.day_pos : kNoBucket;
  j.last_sample_before = slot.last_sample_unix.load(relaxed);
  j.minute_before = load(minute);
  j.hour_before = load(hour);
  if (day != nullptr) j.day_before = load(*day);

  const std::uint32_t seq = slot.seq.load(relaxed);
  slot.seq.store(seq + 1, release);  // publishes the journal to a repairer
  std::atomic_thread_fence(release);  // orders the odd word before the data
  std::int64_t last = j.last_sample_before;
  if (last > horizon) {  // a clock ran ahead: no bucket may be later than `last` now
    clear_after(std::span<MinuteBucket>(slot.minutes), h.minute);
    clear_after(std::span<HourBucket>(slot.hours), h.hour);
    if (days > 0) clear_after(std::span<DayBucket>(day_ring(slot), static_cast<std::size_t>(days)), h.day);
    last = now;
  }
  const auto mark = [&](int bit) { return sample.stated ? bit : -1; };
  if (in_minutes) add(minute, p.minute, sample, counted, mark(static_cast<int>(sample.time % kSecondsPerMinute)));
  step(1);
  if (in_hours) add(hour, p.hour, sample, counted, mark(static_cast<int>(p.minute % 60)));
  step(2);
  if (in_days) add(*day, p.day, sample, counted, mark(static_cast<int>(p.hour % 24)));
  step(3);
  slot.last_sample_unix.store(std::max(last, sample.time), relaxed);
  slot.seq.store(seq + 2, release);
  return WriteResult::counted;
}

// Calls copy() until it ran while `seq` stayed even and unchanged. copy() must
// only load (relaxed) from the slot.
template <class Copy>
ReadResult read_consistently(Slot& slot, int days, Counters& counters, bool may_repair, Copy copy) noexcept {
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
      if (lock_slot(slot, days, counters) != LockResult::busy) unlock_slot(slot);
    } else if (stuck) {
      return ReadResult::busy;
    }
    sched_yield();
  }
  return ReadResult::busy;
}

ReadResult read_slot(Slot& slot, int days, SlotCopy& out, Counters& counters, bool may_repair) noexcept {
  return read_consistently(slot, days, counters, may_repair, [&] {
    copy_data_as_is(slot, days, out);
    out.name_length = copy_name(slot, out.name);
  });
}

void copy_data_as_is(const Slot& slot, int days, SlotCopy& out) noexcept {
  for (int i = 0; i < kMinuteBuckets; ++i) out.minutes[i] = load(slot.minutes[i]);
  for (int i = 0; i < kHourBuckets; ++i) out.hours[i] = load(slot.hours[i]);
  out.day_count = days;
  for (int i = 0; i < days; ++i) out.days[i] = load(day_ring(slot)[i]);
  out.last_sample_unix = slot.last_sample_unix.load(relaxed);
  out.name_length = 0;
}

void store_data(Slot& slot, int days, const SlotCopy& data) noexcept {
  rewrite(slot, [&] {
    for (int i = 0; i < kMinuteBuckets; ++i) store(slot.minutes[i], data.minutes[i]);
    for (int i = 0; i < kHourBuckets; ++i) store(slot.hours[i], data.hours[i]);
    for (int i = 0; i < days; ++i) store(day_ring(slot)[i], i < data.day_count ? data.days[i] : DayValue{});
    slot.last_sample_unix.store(data.last_sample_unix, relaxed);
  });
}

ReadResult read_latest_minute(Slot& slot, int days, std::string_view name, LatestMinute& out, Counters& counters,
                              bool may_repair) noexcept {
  MinuteValue minute;
  HourValue hour;
  const ReadResult result = read_consistently(slot, days, counters, may_repair, [&] {
    out.holds = slot.state.load(relaxed) == kSlotReady && slot.name_length == name.size() &&
                std::memcmp(slot.name, name.data(), name.size()) == 0;
    out.last_sample_unix = slot.last_sample_unix.load(relaxed);
    const Periods p = periods_of(std::max<std::int64_t>(out.last_sample_unix, 0), 0);
    minute = load(slot.minutes[p.minute_pos]);
    hour = load(slot.hours[p.hour_pos]);
  });
  const Periods p = periods_of(std::max<std::int64_t>(out.last_sample_unix, 0), 0);
  out.minute = bucket_mean(minute, p.minute);
  out.hour = bucket_mean(hour, p.hour);
  return result;
}

void assign_slot(Slot& slot, int days, std::string_view name, std::uint64_t hash,
                 std::int64_t last_sample_unix) noexcept {
  rewrite(slot, [&] {
    if (slot.state.load(relaxed) == kSlotReady) slot.state.store(kSlotRetired, relaxed);
    for (MinuteBucket& b : slot.minutes) store(b, {});
    for (HourBucket& b : slot.hours) store(b, {});
    for (int i = 0; i < days; ++i) store(day_ring(slot)[i], {});
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

void prefetch(const Slot& slot, int days, SlotUse use) noexcept {
  constexpr int kLine = 64;
  const char* base = reinterpret_cast<const char*>(&slot);
  const auto span = [](const void* from, std::size_t bytes, auto hint) {
    const char* first = static_cast<const char*>(from);
    for (std::size_t at = 0; at < bytes; at += kLine) hint(first + at);
    hint(first + bytes - 1);  // a bucket may straddle two lines
  };
  if (use.kind == SlotUse::whole) {
    span(base, slot_bytes(days), [](const char* p) { __builtin_prefetch(p, 0); });
    return;
  }
  const auto write_hint = [](const char* p) { __builtin_prefetch(p, 1); };
  span(base, offsetof(Slot, name) + std::min(use.name_bytes, kNameBytes), write_hint);
  span(&slot.journal, sizeof(Journal), write_hint);
  const Periods p = periods_of(use.now, days);
  span(&slot.minutes[p.minute_pos], sizeof(MinuteBucket), write_hint);
  span(&slot.hours[p.hour_pos], sizeof(HourBucket), write_hint);
  if (days > 0) span(&day_ring(slot)[p.day_pos], sizeof(DayBucket), write_hint);
}

namespace testing {
void set_critical_section_hook(void (*hook)()) noexcept { critical_section_hook.store(hook); }
void set_clearing_hook(void (*hook)()) noexcept { clearing_hook.store(hook); }
void set_stuck_check_hook(void (*hook)()) noexcept { stuck_check_hook.store(hook); }
void set_write_step_hook(void (*hook)(int)) noexcept { write_step_hook.store(hook); }
}  // namespace testing

}  // namespace servertrack::shm
