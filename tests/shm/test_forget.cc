// Deleting a server (Segment::forget) and a stated sample time: a delete
// racing records of the same name from other processes ends with the name in
// one whole slot or in none; the retry rule counts a resent sample once.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "shm/name.h"
#include "shm/owner.h"
#include "shm/slot.h"
#include "shm/table.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;

ResultPipe* parked_signal = nullptr;

// The critical-section hook of a child: tell the parent, then wait to be killed.
void park() {
  const char byte = 1;
  parked_signal->send(&byte, 1);
  for (;;) ::pause();
}

// Runs `body` in a child that parks in its first critical section (shm/slot.h,
// testing::set_critical_section_hook), then SIGKILLs and reaps it there.
void kill_inside_critical_section(const std::function<void()>& body) {
  ResultPipe parked;
  const pid_t pid = run_child([&] {
    parked_signal = &parked;
    shm::testing::set_critical_section_hook(&park);
    body();
    return 1;
  });
  char byte;
  ASSERT_TRUE(parked.receive(&byte, 1, std::chrono::seconds(10))) << "the child never reached its critical section";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_EQ(wait_child(pid, std::chrono::seconds(10)), 128 + SIGKILL);
}

// What `shmtool check` verifies of the table, for a segment nobody is writing:
// sequence words even, locks free, a fingerprint that says what each slot
// holds, valid and distinct names, the used_slots hint equal to the count.
void expect_consistent(Segment& segment, std::int64_t now) {
  std::set<std::string> names;
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
    SCOPED_TRACE("slot " + std::to_string(i));
    const Slot& slot = SegmentInternals::slot(segment, i);
    EXPECT_EQ(slot.seq.load() % 2, 0u);
    EXPECT_EQ(slot.lock_owner.load(), 0u);
    const std::uint32_t fingerprint = SegmentInternals::fingerprint(segment, i).load();
    switch (slot.state.load()) {
      case kSlotEmpty:
        EXPECT_EQ(fingerprint, 0u);
        break;
      case kSlotRetired:
        EXPECT_EQ(fingerprint, kRetiredFingerprint);
        break;
      case kSlotReady: {
        const std::string name(slot.name, slot.name_length);
        EXPECT_TRUE(is_valid_name(name)) << name;
        EXPECT_EQ(slot.name_hash, hash_name(name));
        EXPECT_EQ(fingerprint, fingerprint_of(slot.name_hash));
        EXPECT_TRUE(names.insert(name).second) << name << " in two slots";
        break;
      }
      default:
        ADD_FAILURE() << "state " << slot.state.load();
    }
  }
  EXPECT_EQ(SegmentInternals::header(segment).counters.used_slots.load(),
            SegmentInternals::table(segment).count_servers(now).live);
}

// The server's current minute and hour both hold exactly `count` samples.
void expect_samples(Segment& segment, std::string_view name, std::uint32_t count) {
  Snapshot s;
  ASSERT_EQ(segment.snapshot(name, kNow, s), Status::ok) << name;
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, count) << name;
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, count) << name;
}

int ready_slots(Segment& segment) {
  int ready = 0;
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) {
    ready += SegmentInternals::slot(segment, i).state.load() == kSlotReady;
  }
  return ready;
}

TEST(ForgetTest, ForgetFreesTheSlotForANewName) {
  TestSegment segment(2);
  ASSERT_EQ(segment->record("web-01", 1, 1, kNow), Status::ok);
  ASSERT_EQ(segment->record("web-02", 1, 1, kNow), Status::ok);
  EXPECT_EQ(segment->record("web-03", 1, 1, kNow), Status::table_full);
  EXPECT_EQ(segment->forget("web-01", kNow), Status::ok);
  EXPECT_EQ(segment->forget("web-01", kNow), Status::not_found);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("web-01", kNow, s), Status::not_found);
  EXPECT_EQ(segment->record("web-03", 1, 1, kNow), Status::ok);
  EXPECT_EQ(segment->snapshot("web-02", kNow, s), Status::ok);
  EXPECT_EQ(segment.counters().used_slots.load(), 2u);
}

TEST(ForgetTest, AnExpiredSlotIsReusedAndItsServerIsGone) {
  TestSegment segment(1);
  ASSERT_EQ(segment->record("old", 1, 1, kNow), Status::ok);
  const std::int64_t later = kNow + kExpirySeconds;
  Snapshot s;
  EXPECT_EQ(segment->snapshot("old", later - 1, s), Status::ok);
  EXPECT_EQ(segment->snapshot("old", later, s), Status::not_found);
  ASSERT_EQ(segment->record("new", 5, 5, later), Status::ok);
  ASSERT_EQ(segment->snapshot("new", later, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  EXPECT_EQ(segment.counters().used_slots.load(), 1u);
}

// A full table is refused without a walk (the used_slots hint) until one of
// its servers expires: from that second on its slot takes a new name, even
// right after a recount found the table full.
TEST(ForgetTest, AFullTableTakesANewNameTheSecondOneOfItsServersExpires) {
  TestSegment segment(2);
  ASSERT_EQ(segment->record("a", 1, 1, kNow), Status::ok);
  ASSERT_EQ(segment->record("b", 1, 1, kNow + 10), Status::ok);
  EXPECT_EQ(segment->record("c", 1, 1, kNow + 20), Status::table_full);
  EXPECT_EQ(segment->record("c", 1, 1, kNow + kExpirySeconds - 1), Status::table_full);
  EXPECT_EQ(segment->record("c", 1, 1, kNow + kExpirySeconds), Status::ok);
  EXPECT_EQ(segment->record("d", 1, 1, kNow + kExpirySeconds), Status::table_full);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("b", kNow + kExpirySeconds, s), Status::ok);
  EXPECT_EQ(segment->snapshot("a", kNow + kExpirySeconds, s), Status::not_found);
  EXPECT_EQ(segment.counters().used_slots.load(), 2u);
}

TEST(BackfillTest, AStatedTimeCountsOnceAndOnlyInsideTheWindows) {
  TestSegment segment(4);
  const SampleValue earlier = stated_sample(10, 10, (kNow - 300) * 1000 + 250);
  EXPECT_EQ(segment->record("a", earlier, kNow), Status::ok);
  EXPECT_EQ(segment->record("a", earlier, kNow), Status::repeat);
  EXPECT_EQ(segment->record("a", stated_sample(20, 20, (kNow - 300) * 1000 + 900), kNow), Status::repeat);  // its second
  EXPECT_EQ(segment->record("a", stated_sample(20, 20, (kNow - 301) * 1000), kNow), Status::ok);  // earlier, distinct
  EXPECT_EQ(segment->record("a", stated_sample(30, 30, (kNow - 299) * 1000), kNow), Status::ok);
  EXPECT_EQ(segment->record("a", stated_sample(1, 1, (kNow + 61) * 1000), kNow), Status::time_in_future);
  EXPECT_EQ(segment->record("a", stated_sample(1, 1, (kNow - 24 * 3600) * 1000), kNow), Status::time_too_old);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[54].cpu.count, 2u);  // kNow - 300 is 5 minutes back
  EXPECT_EQ(s.last_60_minutes.buckets[54].cpu.mean, 20.0);
  EXPECT_EQ(s.last_60_minutes.buckets[53].cpu.count, 1u);  // kNow - 301
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, 3u);
}

// A sample stated up to a minute ahead (a sender's clock a little fast) is
// counted, and a backfilled sample for the minute its ring position shares
// leaves it there: the older one is counted only in its hour.
TEST(BackfillTest, ASampleStatedAheadIsNeitherClearedNorOverwrittenByABackfill) {
  TestSegment segment(4);
  const std::int64_t ahead = kNow + 60;
  ASSERT_EQ(segment->record("a", stated_sample(50, 50, ahead * 1000), kNow), Status::ok);
  ASSERT_EQ(segment->record("a", stated_sample(10, 10, (ahead - 3600) * 1000), kNow), Status::ok);
  ASSERT_EQ(segment->record("a", 20, 20, kNow), Status::ok);  // the writer's own clock: no clearing
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", ahead, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.mean, 50.0);
  EXPECT_EQ(s.last_24_hours.buckets[22].cpu.count + s.last_24_hours.buckets[23].cpu.count, 3u);
}

// Two processes record one name while a third deletes it, all as fast as they
// can: no moment leaves a half slot, and at the end the name is in one whole
// slot (the last record came after the last delete) or in none.
TEST(ForgetTest, ARecordRacingADeleteEndsInOneWholeSlotOrNone) {
  constexpr int kRounds = 20000;
  TestSegment segment(64);
  ASSERT_EQ(segment->record("other", 1, 1, kNow), Status::ok);
  ProcessBarrier barrier(3);
  std::vector<pid_t> children;
  for (int writer = 0; writer < 2; ++writer) {
    children.push_back(run_child([&] {
      Segment mine = Segment::attach({.name = segment.name()});
      barrier.arrive_and_wait();
      for (int i = 0; i < kRounds; ++i) {
        if (record_retrying_busy(mine, "victim", 7, 7, kNow) != Status::ok) return 1;
      }
      return 0;
    }));
  }
  children.push_back(run_child([&] {
    Segment mine = Segment::attach({.name = segment.name()});
    barrier.arrive_and_wait();
    for (int i = 0; i < kRounds; ++i) {
      const Status status = mine.forget("victim", kNow);
      if (status != Status::ok && status != Status::not_found) return 1;
    }
    return 0;
  }));
  for (const pid_t child : children) EXPECT_EQ(wait_child(child, std::chrono::seconds(120)), 0);

  std::map<std::string, int> slots_per_name;
  segment->for_each_server([&](const ServerEntry& e) { ++slots_per_name[std::string(e.name)]; });
  EXPECT_LE(slots_per_name["victim"], 1);
  EXPECT_EQ(slots_per_name["other"], 1);
  EXPECT_EQ(static_cast<int>(segment.counters().used_slots.load()), ready_slots(*segment));
  Snapshot s;
  const Status status = segment->snapshot("victim", kNow, s);
  ASSERT_TRUE(status == Status::ok || status == Status::not_found);
  EXPECT_EQ(status == Status::ok, slots_per_name["victim"] == 1);
  if (status == Status::ok) {
    EXPECT_GE(s.last_60_minutes.buckets[59].cpu.count, 1u);
    EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, s.last_24_hours.buckets[23].cpu.count);
    EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.mean, 7.0);
  }
  EXPECT_EQ(segment->forget("victim", kNow), status == Status::ok ? Status::ok : Status::not_found);
}

// A deleter SIGKILLed inside its critical section (state retired, sequence
// word odd, lock held, fingerprint and counter not yet updated): the server
// reads as gone, the next writer of its name takes the lock over and claims it
// anew, and the table ends consistent; a neighbour is untouched.
TEST(KilledMidChangeTest, ADeleterKilledMidDeleteLeavesTheNameUsable) {
  TestSegment segment(2);
  ASSERT_EQ(segment->record("other", 5, 5, kNow), Status::ok);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(segment->record("victim", 1, 1, kNow), Status::ok);
  kill_inside_critical_section([&] { segment->forget("victim", kNow); });

  Snapshot s;
  EXPECT_EQ(segment->snapshot("victim", kNow, s), Status::not_found);
  expect_samples(*segment, "other", 1);
  EXPECT_EQ(segment->record("victim", 2, 2, kNow), Status::ok);
  expect_samples(*segment, "victim", 1);  // created anew: the deleted samples stay deleted
  EXPECT_EQ(segment->record("third", 1, 1, kNow), Status::table_full);
  expect_consistent(*segment, kNow);
  EXPECT_EQ(segment->forget("victim", kNow), Status::ok);
  expect_consistent(*segment, kNow);
}

// A claimer SIGKILLed inside its critical section, reusing a deleted server's
// slot (old data cleared, new name not yet written): neither name reads as
// present, the next claim takes the lock over and the slot, and the table
// ends consistent.
TEST(KilledMidChangeTest, AClaimerKilledMidClaimLeavesTheSlotUsable) {
  TestSegment segment(1);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(segment->record("old", 1, 1, kNow), Status::ok);
  ASSERT_EQ(segment->forget("old", kNow), Status::ok);
  kill_inside_critical_section([&] { segment->record("newbie", 9, 9, kNow); });

  Snapshot s;
  EXPECT_EQ(segment->snapshot("old", kNow, s), Status::not_found);
  EXPECT_EQ(segment->snapshot("newbie", kNow, s), Status::not_found);
  EXPECT_EQ(segment->record("newbie", 4, 4, kNow), Status::ok);
  expect_samples(*segment, "newbie", 1);  // the killed claimer's sample was never acknowledged
  EXPECT_EQ(segment->record("old", 1, 1, kNow), Status::table_full);
  expect_consistent(*segment, kNow);
  EXPECT_GE(segment.counters().lock_takeovers.load(), 1u);
}

// The same for a claim of a slot that never held a name.
TEST(KilledMidChangeTest, AClaimerKilledClaimingAnEmptySlotLeavesItUsable) {
  TestSegment segment(4);
  kill_inside_critical_section([&] { segment->record("first.example.com", 9, 9, kNow); });
  Snapshot s;
  EXPECT_EQ(segment->snapshot("first.example.com", kNow, s), Status::not_found);
  EXPECT_EQ(segment->record("first.example.com", 4, 4, kNow), Status::ok);
  expect_samples(*segment, "first.example.com", 1);
  expect_consistent(*segment, kNow);
}

}  // namespace
}  // namespace servertrack::shm::test
