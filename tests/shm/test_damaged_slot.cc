// A slot damaged by random bytes or by values no writer produces never crashes
// or wedges a reader or a writer: every segment call returns in bounded time.
//
// Each case damages the slot of "victim" in the parent, then runs the calls in
// a forked child (run_child/wait_child), so a crash or an endless loop fails
// the case instead of hanging the test binary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "shm/name.h"
#include "shm/owner.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::seconds;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;
constexpr std::uint64_t kCapacity = 8;
// Generous: a sound call takes microseconds; a wedged one never returns.
constexpr auto kBound = seconds(20);
constexpr std::uint32_t kInitPid = 1;  // alive in every PID namespace, and no writer

// Every call a worker or shmtool makes, on every slot and a few names, with a
// read-only and a read-write attach. 0 when all returned; the case's own
// checks (`then`) decide the rest.
int exercise(const std::string& segment_name) {
  for (Access access : {Access::read_only, Access::read_write}) {
    Segment segment = Segment::attach({.name = segment_name, .access = access});
    segment.for_each_server([&](const ServerEntry& entry) {
      SlotCopy copy;
      if (segment.copy_slot(*entry.slot, copy) == Status::ok) make_snapshot(copy, kNow);
      Snapshot snapshot;
      if (is_valid_name(entry.name)) segment.snapshot(entry.name, kNow, snapshot);
    });
    for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
      SlotCopy copy;
      segment.copy_slot(SegmentInternals::slot(segment, i), copy);
    }
    for (const char* name : {"victim", "other_a", "other_b", "other_c"}) {
      segment.record(name, 1, 2, kNow);
      Snapshot snapshot;
      segment.snapshot(name, kNow, snapshot);
    }
  }
  return 0;
}

class DamagedSlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(segment_->record("victim", 10, 20, kNow), Status::ok);
    segment_->for_each_server([&](const ServerEntry& e) { victim_ = e.slot; });
    ASSERT_NE(victim_, nullptr);
  }

  // Runs `exercise`, then `then` (0 = its expectations hold), in a child.
  void expect_bounded(const std::function<int()>& then = [] { return 0; }) {
    const pid_t pid = run_child([&] {
      const int code = exercise(segment_.name());
      return code != 0 ? code : then();
    });
    EXPECT_EQ(wait_child(pid, kBound), 0)
        << "-1: still running after the bound (a loop); 128+N: killed by signal N; else a failed check";
  }

  void fill_random(std::uint64_t seed, std::size_t from, std::size_t to) {
    std::mt19937_64 random(seed);
    auto* bytes = reinterpret_cast<unsigned char*>(victim_);
    for (std::size_t i = from; i < to; ++i) bytes[i] = static_cast<unsigned char>(random());
  }

  Snapshot snapshot_of(Segment& segment, std::string_view name, Status& status) {
    Snapshot snapshot;
    status = segment.snapshot(name, kNow, snapshot);
    return snapshot;
  }

  TestSegment segment_{kCapacity, 30};
  Slot* victim_ = nullptr;
};

TEST_F(DamagedSlotTest, RandomBytesOverTheWholeSlot) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    fill_random(seed, 0, slot_bytes(30));
    expect_bounded();
  }
}

TEST_F(DamagedSlotTest, RandomBytesOverTheDataOfAPublishedSlot) {
  // State, name and hash stay sound, so "victim" is found and its data read.
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    fill_random(seed, offsetof(Slot, seq), offsetof(Slot, name_length));
    fill_random(seed + 100, offsetof(Slot, last_sample_unix), offsetof(Slot, name));
    fill_random(seed + 200, offsetof(Slot, journal), slot_bytes(30));
    expect_bounded();
  }
}

TEST_F(DamagedSlotTest, OddSequenceWordWithAFreeLock) {
  victim_->lock_owner.store(0);
  victim_->seq.store(7);
  expect_bounded([&] {
    Segment read_only = Segment::attach({.name = segment_.name(), .access = Access::read_only});
    Status status;
    snapshot_of(read_only, "victim", status);
    if (status != Status::ok) return 10;  // the read-write attach in exercise() repaired it
    return victim_->seq.load() % 2 == 0 ? 0 : 11;
  });
}

TEST_F(DamagedSlotTest, LockWordsNoWriterHolds) {
  // A thread id of 0xffffffff is -1 to kill(2), "every process"; 1 is init,
  // alive and no writer, named by id alone and by its true identity.
  for (LockWord owner : {LockWord{std::numeric_limits<std::uint32_t>::max()}, LockWord{0x80000001u},
                         ~LockWord{0}, LockWord{kInitPid}, identity_of(kInitPid).value_or(kInitPid)}) {
    for (std::uint32_t seq : {8u, 9u}) {
      SCOPED_TRACE("lock_owner " + std::to_string(owner) + ", seq " + std::to_string(seq));
      victim_->lock_owner.store(owner);
      victim_->seq.store(seq);
      expect_bounded();
    }
  }
}

TEST_F(DamagedSlotTest, NameLengthBeyondTheNameField) {
  for (std::uint32_t length : {65u, 4096u, 0xffffffffu, 0u}) {
    SCOPED_TRACE("name_length " + std::to_string(length));
    victim_->name_length = length;
    expect_bounded([&] {
      int walked = 0;
      segment_->for_each_server([&](const ServerEntry& e) {
        walked += e.name.size() <= kMaxNameLength ? 1 : 100;
      });
      return walked >= 1 && walked < 100 ? 0 : 12;
    });
  }
}

TEST_F(DamagedSlotTest, StatesOtherThanEmptyAndReady) {
  for (std::uint32_t state : {2u, 0x80000000u, 0xffffffffu}) {
    SCOPED_TRACE("state " + std::to_string(state));
    victim_->state.store(state);
    expect_bounded([&] {
      int walked = 0;
      // Only published slots are walked; a slot of an unknown state is free,
      // so the record of "victim" may have claimed it again, whole.
      segment_->for_each_server([&](const ServerEntry& e) { walked += e.slot == victim_ && e.name != "victim"; });
      return walked == 0 ? 0 : 13;
    });
  }
}

TEST_F(DamagedSlotTest, BucketIndicesFarInTheFuture) {
  for (MinuteBucket& b : victim_->minutes) b.index.store(0xfffffff0u);
  for (HourBucket& b : victim_->hours) b.index.store(0xfffffff0u);
  for (int i = 0; i < 30; ++i) day_ring(*victim_)[i].key.store(day_key(0xfff0, 0, 0));
  expect_bounded([&] {
    Status status;
    const Snapshot s = snapshot_of(*segment_, "victim", status);
    if (status != Status::ok) return 14;
    for (int i = 0; i < kMinuteBuckets - 1; ++i) {
      if (s.last_60_minutes.buckets[i].cpu.count != 0) return 15;  // a future bucket is stale, not data
    }
    return s.last_60_minutes.buckets[kMinuteBuckets - 1].cpu.count == 1 ? 0 : 16;  // the sample exercise() added
  });
}

TEST_F(DamagedSlotTest, NonFiniteSums) {
  const std::uint32_t minute = kNow / 60;
  MinuteBucket& current = victim_->minutes[minute % kMinuteBuckets];
  for (double sum : {std::nan(""), std::numeric_limits<double>::infinity(), -1e300}) {
    SCOPED_TRACE("sum " + std::to_string(sum));
    for (int m = 0; m < kMetrics; ++m) {
      current.sum[m].store(sum);
      current.max[m].store(static_cast<float>(sum));
    }
    expect_bounded();
  }
}

}  // namespace
}  // namespace servertrack::shm::test
