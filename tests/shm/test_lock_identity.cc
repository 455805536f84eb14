// Lock identity (shm/owner.h): a lock word whose thread id the kernel has
// recycled for an unrelated process is taken over at once, and a slot wedged
// by a live holder answers busy fast instead of holding the caller.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "shm/owner.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::seconds;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10;

// A live process that is no writer; killed and reaped at scope exit.
class UnrelatedProcess {
 public:
  UnrelatedProcess() : pid_(run_child([] {
      for (;;) ::pause();
      return 0;
    })) {}
  ~UnrelatedProcess() {
    ::kill(pid_, SIGKILL);
    wait_child(pid_, seconds(10));
  }
  std::uint32_t pid() const { return static_cast<std::uint32_t>(pid_); }

 private:
  pid_t pid_;
};

Slot& slot_of(Segment& segment, std::string_view name) {
  Slot* found = nullptr;
  segment.for_each_server([&](const ServerEntry& e) {
    if (e.name == name) found = e.slot;
  });
  return *found;
}

TEST(LockIdentityTest, TheWordNamesTheThreadAndItsStartTime) {
  const LockWord me = owner_id();
  EXPECT_EQ(thread_of(me), static_cast<std::uint32_t>(::syscall(SYS_gettid)));
  EXPECT_EQ(identity_of(thread_of(me)), me);
  EXPECT_TRUE(owner_alive(me));
  LockWord other = 0;
  std::thread([&] { other = owner_id(); }).join();
  EXPECT_NE(other, me);
  EXPECT_FALSE(owner_alive(other)) << "an exited thread";
  EXPECT_FALSE(owner_alive(me + (std::uint64_t{1} << 32))) << "the same id, started at another time";
}

TEST(LockIdentityTest, AWordWhoseIdWasRecycledByALiveUnrelatedProcessIsTakenOverAtOnce) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("victim", 10, 10, kNow), Status::ok);
  Slot& slot = slot_of(*segment, "victim");
  UnrelatedProcess unrelated;
  const LockWord live = identity_of(unrelated.pid()).value();
  // What a writer that died holding the lock leaves once the kernel gave its
  // id to `unrelated`: the id, with the dead writer's own start time.
  slot.lock_owner.store(live ^ (std::uint64_t{0x5a} << 32));
  Status status = Status::busy;
  const double ms = elapsed_ms([&] { status = segment->record("victim", 20, 20, kNow); });
  std::printf("record() over a recycled holder id: %.3f ms\n", ms);
  EXPECT_EQ(status, Status::ok);
  EXPECT_LT(ms, 100);
  EXPECT_EQ(segment.counters().lock_takeovers.load(), 1u);
  EXPECT_EQ(slot.lock_owner.load(), 0u);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("victim", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 2u);
}

TEST(LockIdentityTest, AWedgedSlotAnswersBusyFastAndOtherServersKeepWorking) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("wedged", 1, 1, kNow), Status::ok);
  Slot& slot = slot_of(*segment, "wedged");
  UnrelatedProcess unrelated;
  slot.lock_owner.store(identity_of(unrelated.pid()).value());  // a live holder that never writes

  Status status = Status::ok;
  const double first_ms = elapsed_ms([&] { status = segment->record("wedged", 2, 2, kNow); });
  EXPECT_EQ(status, Status::busy);
  double worst_ms = 0;
  for (int i = 0; i < 50; ++i) {
    worst_ms = std::max(worst_ms, elapsed_ms([&] { status = segment->record("wedged", 2, 2, kNow); }));
    EXPECT_EQ(status, Status::busy);
  }
  std::printf("wedged slot: first record() %.3f ms, then at most %.3f ms\n", first_ms, worst_ms);
  EXPECT_LT(first_ms, 1000);
  EXPECT_LT(worst_ms, 20) << "a retry waited for the wedged holder again";
  EXPECT_EQ(segment->record("other", 3, 3, kNow), Status::ok);
  EXPECT_EQ(segment.counters().lock_takeovers.load(), 0u);

  slot.lock_owner.store(0);  // the holder let go: the slot works again at once
  EXPECT_EQ(segment->record("wedged", 4, 4, kNow), Status::ok);
}

TEST(LockIdentityTest, AReadWriteAttachFromAnotherPidNamespaceIsRefused) {
  TestSegment segment(16);
  SegmentInternals::header(*segment).pid_namespace ^= 1;  // as if created in another namespace
  AttachOptions options;
  options.name = segment.name();
  try {
    Segment::attach(options);
    ADD_FAILURE() << "attached read-write from another pid namespace";
  } catch (const SegmentError& e) {
    EXPECT_EQ(e.kind(), SegmentError::Kind::other_namespace);
    EXPECT_NE(std::string(e.what()).find("another pid namespace"), std::string::npos) << e.what();
  }
  options.access = Access::read_only;
  EXPECT_NO_THROW(Segment::attach(options));
}

}  // namespace
}  // namespace servertrack::shm::test
