// A writer that dies at the worst moment wedges nobody: its lock is taken over,
// its half-written sample rolled back, and readers get an answer in bounded time.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "shm/name.h"
#include "shm/owner.h"
#include "shm/slot.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::seconds;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;
// How long a dead writer may hold up others (docs/design.md, "Concurrency rules").
constexpr double kLivenessMs = 100;

ResultPipe* parked_signal = nullptr;

// The critical-section hook of a child writer: tell the parent, then wait to be killed.
void park() {
  const char byte = 1;
  parked_signal->send(&byte, 1);
  for (;;) ::pause();
}

class TakeoverTest : public ::testing::Test {
 protected:
  // Records three samples (10, 20, 30) of "victim" in full.
  void SetUp() override {
    for (double v : {10.0, 20.0, 30.0}) ASSERT_EQ(segment_->record("victim", v, v, kNow), Status::ok);
    segment_->for_each_server([&](const ServerEntry& e) { slot_ = e.slot; });
  }

  // A child parked inside record("victim", 99, ...), after the minute bucket
  // was written and before the hour bucket was: lock held, sequence word odd.
  pid_t park_a_writer_mid_sample() {
    const pid_t pid = run_child([&] {
      parked_signal = &parked_;
      shm::testing::set_critical_section_hook(&park);
      segment_->record("victim", 99, 99, kNow);
      return 1;
    });
    char byte;
    EXPECT_TRUE(parked_.receive(&byte, 1, seconds(10))) << "the writer never reached its critical section";
    EXPECT_EQ(thread_of(slot_->lock_owner.load()), static_cast<std::uint32_t>(pid));
    EXPECT_EQ(slot_->lock_owner.load(), identity_of(static_cast<std::uint32_t>(pid)));
    EXPECT_EQ(slot_->seq.load() % 2, 1u);
    return pid;
  }

  // The same child, killed there and reaped.
  void kill_a_writer_mid_sample() {
    const pid_t pid = park_a_writer_mid_sample();
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    EXPECT_EQ(wait_child(pid, seconds(10)), 128 + SIGKILL);
  }

  // The snapshot of "victim" holds exactly `count` samples of mean `mean`.
  void expect_victim(std::uint32_t count, double mean) {
    Snapshot s;
    ASSERT_EQ(segment_->snapshot("victim", kNow, s), Status::ok);
    for (const BucketMean& b : {s.last_60_minutes.buckets[59], s.last_24_hours.buckets[23]}) {
      EXPECT_EQ(b.cpu.count, count);
      EXPECT_EQ(b.ram.count, count);
      EXPECT_DOUBLE_EQ(b.cpu.mean, mean);
      EXPECT_DOUBLE_EQ(b.ram.mean, mean);
    }
    EXPECT_EQ(slot_->seq.load() % 2, 0u);
    EXPECT_EQ(slot_->lock_owner.load(), 0u);
  }

  TestSegment segment_{16};
  ResultPipe parked_;
  Slot* slot_ = nullptr;
};

TEST_F(TakeoverTest, AWriterProceedsAtOnceAndTheHalfWrittenSampleIsRolledBack) {
  kill_a_writer_mid_sample();
  const double record_ms = elapsed_ms([&] { EXPECT_EQ(segment_->record("victim", 40, 40, kNow), Status::ok); });
  std::printf("record() after the holder was killed: %.3f ms\n", record_ms);
  EXPECT_LT(record_ms, kLivenessMs);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
  expect_victim(4, 25);  // 10, 20, 30, 40; the dead writer's 99 is gone from both windows
  EXPECT_EQ(segment_.counters().samples_recorded.load(), 4u);
}

TEST_F(TakeoverTest, AReaderProceedsAtOnceAndSeesOnlyCompleteSamples) {
  kill_a_writer_mid_sample();
  Snapshot s;
  const double snapshot_ms = elapsed_ms([&] { EXPECT_EQ(segment_->snapshot("victim", kNow, s), Status::ok); });
  std::printf("snapshot() after the holder was killed: %.3f ms\n", snapshot_ms);
  EXPECT_LT(snapshot_ms, kLivenessMs);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 3u);
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, 3u);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
  ASSERT_EQ(segment_->record("victim", 40, 40, kNow), Status::ok);
  expect_victim(4, 25);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
}

TEST_F(TakeoverTest, AWriterAlreadyWaitingForTheLockProceedsWhenTheHolderDies) {
  const pid_t holder = park_a_writer_mid_sample();
  const pid_t waiter = run_child([&] { return segment_->record("victim", 40, 40, kNow) == Status::ok ? 0 : 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it is spinning on the lock by now
  EXPECT_EQ(::waitpid(waiter, nullptr, WNOHANG), 0) << "the waiter got the lock of a live holder";
  int code = -1;
  const double ms = elapsed_ms([&] {
    ::kill(holder, SIGKILL);
    wait_child(holder, seconds(10));
    code = wait_child(waiter, seconds(10));
  });
  std::printf("waiting writer finished %.3f ms after its lock's holder was killed\n", ms);
  EXPECT_EQ(code, 0);
  EXPECT_LT(ms, kLivenessMs);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
  expect_victim(4, 25);
}

TEST_F(TakeoverTest, AWriterProceedsWhileTheDeadHolderIsNotYetReaped) {
  const pid_t holder = park_a_writer_mid_sample();
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(holder), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  int code = -1;
  const double ms = elapsed_ms([&] {
    code = wait_child(run_child([&] { return segment_->record("victim", 40, 40, kNow) == Status::ok ? 0 : 1; }),
                      seconds(5));
  });
  std::printf("a writer finished %.3f ms after it started, its lock's dead holder unreaped\n", ms);
  EXPECT_EQ(code, 0) << "a zombie holder wedged the slot";
  EXPECT_LT(ms, kLivenessMs);
  EXPECT_EQ(wait_child(holder, seconds(10)), 128 + SIGKILL);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
  expect_victim(4, 25);
}

TEST_F(TakeoverTest, AReadOnlyReaderAnswersBusyAndAReadWriteReaderRepairs) {
  kill_a_writer_mid_sample();
  AttachOptions options;
  options.name = segment_.name();
  options.access = Access::read_only;
  Segment read_only = Segment::attach(options);
  Snapshot s;
  const double busy_ms = elapsed_ms([&] { EXPECT_EQ(read_only.snapshot("victim", kNow, s), Status::busy); });
  std::printf("read-only snapshot() answered busy in %.3f ms\n", busy_ms);
  EXPECT_LT(busy_ms, kLivenessMs);
  EXPECT_EQ(slot_->seq.load() % 2, 1u) << "a read-only reader changed the slot";
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 0u);

  options.access = Access::read_write;
  Segment read_write = Segment::attach(options);
  ASSERT_EQ(read_write.snapshot("victim", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 3u);
  EXPECT_EQ(segment_.counters().lock_takeovers.load(), 1u);
  EXPECT_EQ(read_only.snapshot("victim", kNow, s), Status::ok);  // repaired for everyone
  expect_victim(3, 20);
}

// The write step a child parks at (shm::testing::set_write_step_hook), and
// the hook that parks it there.
int park_at_step = 0;
void park_at(int step) {
  if (step == park_at_step) park();
}

// A writer killed after each ring of a stated sample (1: its minute written,
// 2: its hour, 3: its day) leaves no trace of it: counts, sums, peaks and
// retry marks are rolled back in all three rings, so the same sample, sent
// again, counts exactly once (a mark left behind would make it a repeat; a
// count left behind would count it twice).
TEST(CrashPointTest, AStatedSampleCutShortAtAnyRingCountsOnceWhenSentAgain) {
  for (int step = 1; step <= 3; ++step) {
    SCOPED_TRACE("killed after step " + std::to_string(step));
    TestSegment segment(4, 30);
    const SampleValue before = stated_sample(10, 20, (kNow - 30) * 1000);
    const SampleValue victim = stated_sample(99, 98, (kNow - 20) * 1000);
    ASSERT_EQ(segment->record("web-1", before, kNow), Status::ok);
    ResultPipe parked;
    const pid_t pid = run_child([&] {
      parked_signal = &parked;
      park_at_step = step;
      shm::testing::set_write_step_hook(&park_at);
      segment->record("web-1", victim, kNow);
      return 1;
    });
    char byte;
    ASSERT_TRUE(parked.receive(&byte, 1, seconds(10))) << "the writer never reached the step";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, seconds(10)), 128 + SIGKILL);

    Snapshot s;
    ASSERT_EQ(segment->snapshot("web-1", kNow, s), Status::ok);  // repairs
    EXPECT_EQ(segment.counters().lock_takeovers.load(), 1u);
    EXPECT_EQ(s.last_sample_unix, kNow - 30);
    for (const BucketMean& b : {s.last_60_minutes.buckets[58], s.last_24_hours.buckets[23], s.last_days.buckets[29]}) {
      EXPECT_EQ(b.cpu.count, 1u);
      EXPECT_EQ(b.ram.count, 1u);
      EXPECT_EQ(b.cpu.max, 10.0);
      EXPECT_EQ(b.ram.max, 20.0);
    }
    ASSERT_EQ(segment->record("web-1", victim, kNow), Status::ok);
    EXPECT_EQ(segment->record("web-1", victim, kNow), Status::repeat);
    EXPECT_EQ(segment->record("web-1", before, kNow), Status::repeat);
    ASSERT_EQ(segment->snapshot("web-1", kNow, s), Status::ok);
    for (const BucketMean& b : {s.last_60_minutes.buckets[58], s.last_24_hours.buckets[23], s.last_days.buckets[29]}) {
      EXPECT_EQ(b.cpu.count, 2u);
      EXPECT_EQ(b.cpu.max, 99.0);
      EXPECT_EQ(b.ram.mean, 59.0);
    }
  }
}

TEST(ClaimTakeoverTest, ASlotLeftMidClaimByADeadProcessIsClaimedByTheNextInserter) {
  TestSegment segment(16);
  const std::uint64_t home = hash_name("fresh") % 16;
  Slot& slot = SegmentInternals::slot(*segment, home);
  // What a claimer that died after locking and half-writing the name leaves.
  slot.lock_owner.store(dead_pid());
  slot.name_length = 7;
  std::memcpy(slot.name, "garbage", 7);

  Status status = Status::busy;
  const double ms = elapsed_ms([&] { status = segment->record("fresh", 5, 5, kNow); });
  std::printf("record() of a new name over a dead claimer: %.3f ms\n", ms);
  EXPECT_EQ(status, Status::ok);
  EXPECT_LT(ms, kLivenessMs);
  std::uint64_t found = 16;
  segment->for_each_server([&](const ServerEntry& e) {
    EXPECT_EQ(e.name, "fresh");
    found = e.slot_index;
  });
  EXPECT_EQ(found, home);
  EXPECT_EQ(slot.lock_owner.load(), 0u);
  EXPECT_EQ(segment.counters().lock_takeovers.load(), 1u);
  EXPECT_EQ(segment.counters().used_slots.load(), 1u);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("fresh", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
}

}  // namespace
}  // namespace servertrack::shm::test
