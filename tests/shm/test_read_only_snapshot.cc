// A read-only snapshot (shmtool dump's way of reading) never calls a slot with
// live writers stuck: it does so only when the writer that made the sequence
// word odd is dead (shm/slot.cc, read_consistently()), however long the reader
// is held up between its looks at the sequence word and the lock holder.
//
// Writers in child processes record into one slot back to back, so the
// reader's copies keep overlapping a write, its spin runs out and it checks
// for a dead writer again and again; the reader's stuck-check hook holds it
// between its two looks for several write cycles, as a preemption would, so
// the lock changes hands between them. A snapshot may still answer busy when
// its patience runs out (2,000 rounds, each with the hook's pause: at least
// kPatienceFloor); the stuck verdict answers on the round that reaches it. So
// a busy answered in under kStuckVerdict can only be that verdict, and there
// must be none.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "shm/slot.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10;
constexpr int kWriters = 3;
constexpr auto kLoad = seconds(5);
constexpr auto kReaderHeldUp = microseconds(10);
constexpr auto kPatienceFloor = 2000 * kReaderHeldUp;
constexpr auto kStuckVerdict = kPatienceFloor / 2;

std::atomic<std::uint64_t> checks_for_a_dead_writer{0};

void busy_wait(microseconds duration) {
  const auto until = steady_clock::now() + duration;
  while (steady_clock::now() < until) {
  }
}

TEST(ReadOnlySnapshotTest, LiveWritersHandingTheLockOnNeverReadAsStuck) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("hot", 1, 1, kNow), Status::ok);
  Segment reader = Segment::attach({.name = segment.name(), .access = Access::read_only});
  ProcessBarrier start(kWriters + 1);

  pid_t writers[kWriters];
  for (pid_t& pid : writers) {
    pid = run_child([&] {
      Segment writer = Segment::attach({.name = segment.name()});
      start.arrive_and_wait();
      const auto began = steady_clock::now();
      for (const auto end = began + kLoad; steady_clock::now() < end;) {
        // A new minute every 5 ms, so that no minute reaches kMaxMinuteCount samples.
        const auto minutes = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - began).count() / 5;
        const Status status = writer.record("hot", 1, 1, kNow + 60 * minutes);
        if (status != Status::ok && status != Status::busy) return 1;
      }
      return 0;
    });
  }
  testing::set_stuck_check_hook([] {
    checks_for_a_dead_writer.fetch_add(1, std::memory_order_relaxed);
    busy_wait(kReaderHeldUp);
  });
  start.arrive_and_wait();

  std::uint64_t ok = 0, stuck_verdicts = 0, patience_ran_out = 0, other = 0;
  for (const auto end = steady_clock::now() + kLoad; steady_clock::now() < end;) {
    Snapshot s;
    const auto asked = steady_clock::now();
    const Status status = reader.snapshot("hot", kNow, s);
    if (status == Status::ok) {
      ++ok;
    } else if (status == Status::busy) {
      ++(steady_clock::now() - asked < kStuckVerdict ? stuck_verdicts : patience_ran_out);
    } else {
      ++other;
    }
  }
  testing::set_stuck_check_hook(nullptr);
  for (pid_t pid : writers) EXPECT_EQ(wait_child(pid, seconds(30)), 0) << "a writer failed or hung";
  EXPECT_EQ(stuck_verdicts, 0u) << "fast busy answers out of " << ok + stuck_verdicts + patience_ran_out + other
                                << " snapshots of a slot with live writers (" << patience_ran_out << " slow ones)";
  EXPECT_EQ(other, 0u);
  EXPECT_GT(checks_for_a_dead_writer.load(), 0u) << "the writers never kept the reader from a stable copy";
}

}  // namespace
}  // namespace servertrack::shm::test
