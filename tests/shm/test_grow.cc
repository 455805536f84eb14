// Growing a live segment (shm/grow.h) with real writer processes: every
// sample a writer was told was recorded is in the larger segment, and a grow
// step SIGKILLed at any point leaves one usable segment holding them all.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shm/grow.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;
constexpr int kNamesPerWriter = 20;

std::string writer_name(int writer, int sample) {
  return "w" + std::to_string(writer) + "-" + std::to_string(sample % kNamesPerWriter);
}

// A sample a writer was told was recorded: its index (its name and second follow from it).
struct Acked {
  std::int32_t writer;
  std::int32_t sample;
};

// A writer as a worker and a retrying client are together: on `moved` it
// attaches the segment by name again (as the worker's successor does) and
// resends the same stated sample; `busy` is resent too.
int write_samples(const std::string& segment_name, int writer, int samples, ResultPipe& acks) {
  Segment segment = Segment::attach({.name = segment_name});
  for (int i = 0; i < samples; ++i) {
    // Each sample its own second within the last hour: the retry rule counts it once.
    const SampleValue sample = stated_sample(writer, i, (kNow - 3000 + i) * 1000);
    for (;;) {
      const Status status = segment.record(writer_name(writer, i), sample, kNow);
      if (status == Status::ok) break;
      if (status == Status::moved) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        segment = Segment::attach({.name = segment_name});
      } else if (status != Status::busy) {
        return 10 + static_cast<int>(status);
      }
    }
    const Acked acked{writer, i};
    acks.send(&acked, sizeof acked);
  }
  return 0;
}

// Samples of `name` counted in the segment now named `segment_name`.
std::uint32_t counted(const std::string& segment_name, const std::string& name) {
  Segment segment = Segment::attach({.name = segment_name, .access = Access::read_only});
  Snapshot snapshot;
  if (segment.snapshot(name, kNow, snapshot) != Status::ok) return 0;
  std::uint32_t total = 0;
  for (const BucketMean& bucket : snapshot.last_60_minutes.buckets) total += bucket.cpu.count;
  return total;
}

void expect_every_ack_counted(const std::string& segment_name, const std::vector<Acked>& acks, int writers) {
  std::map<std::string, std::uint32_t> expected;
  for (const Acked& acked : acks) ++expected[writer_name(acked.writer, acked.sample)];
  for (int w = 0; w < writers; ++w) {
    for (int n = 0; n < kNamesPerWriter; ++n) {
      const std::string name = writer_name(w, n);
      EXPECT_EQ(counted(segment_name, name), expected[name]) << name;
    }
  }
}

std::vector<Acked> collect(ResultPipe& pipe, std::size_t at_least, std::chrono::milliseconds limit) {
  std::vector<Acked> acks;
  Acked acked{};
  while (acks.size() < at_least && pipe.receive(&acked, sizeof acked, limit)) acks.push_back(acked);
  return acks;
}

TEST(Grow, EveryAcknowledgedSampleOfLiveWritersIsInTheLargerSegment) {
  constexpr int kWriters = 3, kSamples = 400;
  TestSegment segment(64);
  ResultPipe pipe;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    children.push_back(run_child([&, w] { return write_samples(segment.name(), w, kSamples, pipe); }));
  }
  std::vector<Acked> acks = collect(pipe, 150, std::chrono::seconds(30));
  ASSERT_EQ(acks.size(), 150u) << "the writers are not writing";

  const GrowResult grown = grow(segment.name(), 256, 2000, kNow);
  ASSERT_EQ(grown.outcome, GrowResult::Outcome::grown);
  EXPECT_EQ(grown.old_capacity, 64u);
  EXPECT_TRUE(segment->superseded()) << "the old segment refuses writes for good";

  const std::vector<Acked> rest = collect(pipe, kWriters * kSamples - acks.size(), std::chrono::seconds(60));
  acks.insert(acks.end(), rest.begin(), rest.end());
  for (const pid_t child : children) EXPECT_EQ(wait_child(child, std::chrono::seconds(60)), 0);
  ASSERT_EQ(acks.size(), static_cast<std::size_t>(kWriters * kSamples));
  EXPECT_EQ(Segment::attach({.name = segment.name(), .access = Access::read_only}).capacity(), 256u);
  expect_every_ack_counted(segment.name(), acks, kWriters);
}

TEST(Grow, RefusesToShrinkAndAReplacedSegment) {
  TestSegment segment(64);
  ASSERT_EQ(segment->record("kept", 1, 2, kNow), Status::ok);
  EXPECT_EQ(grow(segment.name(), 64, 2000, kNow).outcome, GrowResult::Outcome::not_larger);
  EXPECT_EQ(grow(segment.name(), 128, 2000, kNow).outcome, GrowResult::Outcome::grown);
  EXPECT_TRUE(segment->superseded());
  EXPECT_EQ(segment->write_state(), Segment::WriteState::replaced);
  EXPECT_EQ(Segment::attach({.name = segment.name(), .access = Access::read_only}).write_state(),
            Segment::WriteState::open);
  EXPECT_EQ(segment->record("late", 1, 2, kNow), Status::moved) << "the replaced copy takes no write";
  EXPECT_EQ(segment->forget("kept", kNow), Status::moved);
  EXPECT_EQ(counted(segment.name(), "kept"), 1u) << "the larger segment holds it";
}

TEST(Grow, AFreezeLeftByADeadStepIsLiftedByTheNextWrite) {
  TestSegment segment(64);
  ASSERT_EQ(segment->record("kept", 1, 2, kNow), Status::ok);
  const pid_t step = run_child([&] {
    Segment own = Segment::attach({.name = segment.name()});
    return own.freeze_writes(2000) ? 0 : 1;  // and dies holding the freeze
  });
  ASSERT_EQ(wait_child(step, std::chrono::seconds(10)), 0);
  EXPECT_EQ(segment->write_state(), Segment::WriteState::frozen_by_dead_step);
  EXPECT_EQ(segment->record("kept", 3, 4, kNow), Status::ok);
  EXPECT_EQ(segment->write_state(), Segment::WriteState::open);
}

// The grow step SIGKILLed at a random moment, again and again, while a writer
// writes: whichever segment then holds the name takes writes and holds every
// acknowledged sample, and the next grow succeeds.
TEST(Grow, AGrowStepKilledAnywhereLeavesOneUsableSegmentWithEverySample) {
  constexpr int kRounds = 12, kPrefilled = 3000, kSamples = 600;
  std::mt19937 random(20261207);
  int left_old = 0, left_new = 0;  // which segment held the name after the kill
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TestSegment segment(4096);
    for (int i = 0; i < kPrefilled; ++i) {
      ASSERT_EQ(segment->record("fill-" + std::to_string(i), 1, 1, kNow), Status::ok);
    }
    // How long a whole grow of this segment takes here, to kill within it.
    double whole_ms = 0;
    {
      TestSegment probe(4096);
      for (int i = 0; i < kPrefilled; ++i) ASSERT_EQ(probe->record("p" + std::to_string(i), 1, 1, kNow), Status::ok);
      whole_ms = elapsed_ms([&] { ASSERT_EQ(grow(probe.name(), 8192, 2000, kNow).outcome, GrowResult::Outcome::grown); });
    }
    ResultPipe pipe;
    const pid_t writer = run_child([&] { return write_samples(segment.name(), 0, kSamples, pipe); });
    std::vector<Acked> acks = collect(pipe, 50, std::chrono::seconds(30));
    const pid_t grower = run_child([&] {
      return grow(segment.name(), 8192, 2000, kNow).outcome == GrowResult::Outcome::grown ? 0 : 1;
    });
    std::this_thread::sleep_for(std::chrono::microseconds(
        std::uniform_int_distribution<int>(0, static_cast<int>(whole_ms * 1200))(random)));
    ::kill(grower, SIGKILL);
    const int grower_exit = wait_child(grower, std::chrono::seconds(30));
    EXPECT_TRUE(grower_exit == 0 || grower_exit == 128 + SIGKILL) << grower_exit;

    const std::vector<Acked> rest = collect(pipe, kSamples - acks.size(), std::chrono::seconds(60));
    acks.insert(acks.end(), rest.begin(), rest.end());
    ASSERT_EQ(wait_child(writer, std::chrono::seconds(60)), 0) << "the writer was wedged or refused";
    ASSERT_EQ(acks.size(), static_cast<std::size_t>(kSamples));
    expect_every_ack_counted(segment.name(), acks, 1);
    EXPECT_EQ(counted(segment.name(), "fill-" + std::to_string(kPrefilled - 1)), 1u);
    // The next grow succeeds whatever the killed one left (a temporary segment, a dead freeze).
    const std::uint64_t capacity = Segment::attach({.name = segment.name(), .access = Access::read_only}).capacity();
    (capacity == 4096 ? left_old : left_new) += 1;
    EXPECT_EQ(grow(segment.name(), capacity * 2, 2000, kNow).outcome, GrowResult::Outcome::grown);
    Segment::remove(grow_name(segment.name()));
  }
  std::printf("killed grow steps: %d left the old segment named, %d the new one\n", left_old, left_new);
}

}  // namespace
}  // namespace servertrack::shm::test
