// Deleting a server (Segment::forget) and a stated sample time: a delete
// racing records of the same name from other processes ends with the name in
// one whole slot or in none; the retry rule counts a resent sample once.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "shm/table.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;

int ready_slots(Segment& segment) {
  int ready = 0;
  for (std::uint64_t i = 0; i < segment.capacity(); ++i) ready += segment.slot(i).state.load() == kSlotReady;
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
  EXPECT_EQ(s.last_60_minutes.buckets[59].count, 1u);
  EXPECT_EQ(segment.counters().used_slots.load(), 1u);
}

TEST(BackfillTest, AStatedTimeCountsOnceAndOnlyInsideTheWindows) {
  TestSegment segment(4);
  const SampleTime earlier{(kNow - 300) * 1000 + 250, true};
  EXPECT_EQ(segment->record("a", 10, 10, earlier, kNow), Status::ok);
  EXPECT_EQ(segment->record("a", 10, 10, earlier, kNow), Status::repeat);
  EXPECT_EQ(segment->record("a", 20, 20, SampleTime{(kNow - 301) * 1000, true}, kNow), Status::repeat);
  EXPECT_EQ(segment->record("a", 30, 30, SampleTime{(kNow - 299) * 1000, true}, kNow), Status::ok);
  EXPECT_EQ(segment->record("a", 1, 1, SampleTime{(kNow + 61) * 1000, true}, kNow), Status::time_in_future);
  EXPECT_EQ(segment->record("a", 1, 1, SampleTime{(kNow - 24 * 3600) * 1000, true}, kNow),
            Status::time_too_old);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[54].count, 2u);  // kNow - 300 is 5 minutes back
  EXPECT_EQ(s.last_60_minutes.buckets[54].cpu, 20.0);
  EXPECT_EQ(s.last_24_hours.buckets[23].count, 2u);
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
        const Status status = mine.record("victim", 7, 7, kNow);
        if (status != Status::ok) return 1;
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
    EXPECT_GE(s.last_60_minutes.buckets[59].count, 1u);
    EXPECT_EQ(s.last_60_minutes.buckets[59].count, s.last_24_hours.buckets[23].count);
    EXPECT_EQ(s.last_60_minutes.buckets[59].cpu, 7.0);
  }
  EXPECT_EQ(segment->forget("victim", kNow), status == Status::ok ? Status::ok : Status::not_found);
}

}  // namespace
}  // namespace servertrack::shm::test
