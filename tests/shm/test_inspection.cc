// What shmtool inspects and rebuilds through shm/segment.h and
// shm/slot_check.h alone: the restore of one server, a slot's data as it
// lies, the lock holder, the fingerprint against the table's rule, the process
// registry, the live-server count, and check_segment()'s findings (the facts
// `shmtool check` words).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "shm/name.h"
#include "shm/owner.h"
#include "shm/table.h"
#include "shm/segment_internals.h"
#include "shm/slot_check.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;

std::uint64_t index_of(Segment& segment, std::string_view name) {
  std::uint64_t found = segment.capacity();
  segment.for_each_server([&](const ServerEntry& e) {
    if (e.name == name) found = e.slot_index;
  });
  return found;
}

// Byte for byte: the plain bucket copies have no padding (shm/layout.h).
bool same_data(const SlotCopy& a, const SlotCopy& b) {
  return std::memcmp(a.minutes, b.minutes, sizeof a.minutes) == 0 &&
         std::memcmp(a.hours, b.hours, sizeof a.hours) == 0 && a.day_count == b.day_count &&
         std::memcmp(a.days, b.days, sizeof(DayValue) * static_cast<std::size_t>(a.day_count)) == 0 &&
         a.last_sample_unix == b.last_sample_unix;
}

TEST(InspectionTest, RestoreServerPutsACopiedServerBackWithItsRetryMarks) {
  TestSegment from(8, 30);
  const std::int64_t stated_ms = (kNow - 600) * 1000 + 250;
  ASSERT_EQ(from->record("web-01", stated_sample(5, 6, stated_ms), kNow), Status::ok);
  ASSERT_EQ(from->record("web-01", stated_sample(7, 8, (kNow - 3700) * 1000), kNow), Status::ok);
  ASSERT_EQ(from->record("web-01", 1, 2, kNow), Status::ok);
  SlotCopy copy;
  ASSERT_EQ(from->copy_slot(SegmentInternals::slot(*from, index_of(*from, "web-01")), copy), Status::ok);

  TestSegment to(8, 30);
  ASSERT_EQ(to->restore_server("web-01", copy), Status::ok);
  SlotCopy restored;
  ASSERT_EQ(to->copy_slot(SegmentInternals::slot(*to, index_of(*to, "web-01")), restored), Status::ok);
  EXPECT_EQ(restored.name_view(), "web-01");
  EXPECT_TRUE(same_data(copy, restored));
  EXPECT_EQ(to->record("web-01", stated_sample(5, 6, stated_ms), kNow), Status::repeat);
  EXPECT_EQ(to.counters().used_slots.load(), 1u);
}

TEST(InspectionTest, RestoreServerRefusesWhatASegmentCannotTake) {
  TestSegment segment(1);
  SlotCopy empty{};
  ASSERT_EQ(segment->restore_server("a", empty), Status::ok);
  EXPECT_EQ(segment->restore_server("b", empty), Status::table_full);
  EXPECT_EQ(segment->restore_server("not a name", empty), Status::invalid_name);
  Segment read_only = Segment::attach({.name = segment.name(), .access = Access::read_only});
  EXPECT_EQ(read_only.restore_server("a", empty), Status::read_only);
}

TEST(InspectionTest, ASlotLeftMidWriteIsCopiedAsItLies) {
  TestSegment segment(8);
  ASSERT_EQ(segment->record("web-01", 3, 4, kNow), Status::ok);
  const std::uint64_t index = index_of(*segment, "web-01");
  SegmentInternals::slot(*segment, index).seq.fetch_add(1);  // odd, no holder: a writer died mid-write
  Segment read_only = Segment::attach({.name = segment.name(), .access = Access::read_only});
  SlotCopy copy;
  EXPECT_EQ(read_only.copy_slot(SegmentInternals::slot(read_only, index), copy), Status::busy);
  read_only.copy_slot_as_is(index, copy);
  EXPECT_EQ(copy.last_sample_unix, kNow);
  EXPECT_EQ(copy.name_length, 0u);
  const MinuteValue minute = copy.minutes[(kNow / 60) % kMinuteBuckets];
  EXPECT_EQ(minute.count[kCpu], 1u);
  EXPECT_EQ(minute.sum[kCpu], 3);
}

TEST(InspectionTest, LockHolderNamesTheThreadAndWhetherItLives) {
  TestSegment segment(8);
  EXPECT_FALSE(segment->lock_holder(0).has_value());
  const LockWord me = owner_id();
  SegmentInternals::slot(*segment, 0).lock_owner.store(me);
  auto holder = segment->lock_holder(0);
  ASSERT_TRUE(holder.has_value());
  EXPECT_EQ(holder->thread, thread_of(me));
  EXPECT_EQ(holder->start_tick, me >> 32);
  EXPECT_TRUE(holder->alive);
  SegmentInternals::slot(*segment, 0).lock_owner.store(me + (LockWord{1} << 32));  // the same id, another start: recycled
  holder = segment->lock_holder(0);
  ASSERT_TRUE(holder.has_value());
  EXPECT_FALSE(holder->alive);
  SegmentInternals::slot(*segment, 0).lock_owner.store(0);
}

TEST(InspectionTest, CheckFingerprintNamesEachFault) {
  using Fault = FingerprintCheck::Fault;
  TestSegment segment(8);
  ASSERT_EQ(segment->record("web-01", 1, 1, kNow), Status::ok);
  const std::uint64_t used = index_of(*segment, "web-01");
  const std::uint64_t never_used = (used + 4) % 8;
  const std::uint32_t expected = fingerprint_of(hash_name("web-01"));
  EXPECT_EQ(segment->check_fingerprint(used).fault, Fault::none);
  EXPECT_EQ(segment->check_fingerprint(never_used).fault, Fault::none);

  SegmentInternals::fingerprint(*segment, used).store(0);
  EXPECT_EQ(segment->check_fingerprint(used).fault, Fault::missing);
  SegmentInternals::fingerprint(*segment, used).store(kRetiredFingerprint);
  EXPECT_EQ(segment->check_fingerprint(used).fault, Fault::still_retired);
  SegmentInternals::fingerprint(*segment, used).store(expected ^ 4);
  const FingerprintCheck wrong = segment->check_fingerprint(used);
  EXPECT_EQ(wrong.fault, Fault::wrong);
  EXPECT_EQ(wrong.stored, expected ^ 4);
  EXPECT_EQ(wrong.expected, expected);
  SegmentInternals::fingerprint(*segment, used).store(expected);

  SegmentInternals::fingerprint(*segment, never_used).store(7);
  EXPECT_EQ(segment->check_fingerprint(never_used).fault, Fault::on_never_used);
  SegmentInternals::fingerprint(*segment, never_used).store(0);

  ASSERT_EQ(segment->forget("web-01", kNow), Status::ok);
  EXPECT_EQ(segment->check_fingerprint(used).fault, Fault::none);
  SegmentInternals::fingerprint(*segment, used).store(expected);
  EXPECT_EQ(segment->check_fingerprint(used).fault, Fault::on_deleted);
}

TEST(InspectionTest, RegisteredProcessesListsLiveAndDeadEntries) {
  TestSegment segment(8);
  ASSERT_TRUE(segment->register_process(ProcessKind::ingest, kNow));
  const std::uint32_t dead = dead_pid();
  ProcessEntry& last = SegmentInternals::header(*segment).processes[kMaxAttachedProcesses - 1];
  last.kind.store(static_cast<std::uint32_t>(ProcessKind::query));
  last.pid.store(dead);
  const std::vector<RegisteredProcess> all = segment->registered_processes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(all[0].kind, ProcessKind::ingest);
  EXPECT_EQ(all[0].start_unix, kNow);
  EXPECT_TRUE(all[0].alive);
  EXPECT_EQ(all[1].pid, dead);
  EXPECT_EQ(all[1].kind, ProcessKind::query);
  EXPECT_FALSE(all[1].alive);
}

TEST(InspectionTest, CountingLiveServersLeavesTheHintAndRecountingStoresIt) {
  TestSegment segment(8);
  for (const char* name : {"a", "b", "c"}) ASSERT_EQ(segment->record(name, 1, 1, kNow), Status::ok);
  segment.counters().used_slots.store(7);
  EXPECT_EQ(segment->count_live_servers(kNow), 3u);
  EXPECT_EQ(segment.counters().used_slots.load(), 7u);
  EXPECT_EQ(segment->count_live_servers(kNow + kExpirySeconds), 0u);
  EXPECT_EQ(segment->recount_used_slots(kNow), 3u);
  EXPECT_EQ(segment.counters().used_slots.load(), 3u);
}

TEST(InspectionTest, CheckSegmentJudgesEachSlotsOwnWords) {
  using Kind = SlotFinding::Kind;
  TestSegment segment(8);
  for (const char* name : {"web-01", "db-2.example.com"}) ASSERT_EQ(segment->record(name, 1, 1, kNow), Status::ok);
  const std::uint64_t web = index_of(*segment, "web-01");
  const std::uint64_t db = index_of(*segment, "db-2.example.com");
  std::uint64_t empty = 0;
  while (empty == web || empty == db) ++empty;
  SegmentInternals::slot(*segment, web).seq.fetch_add(1);  // odd, no holder
  SegmentInternals::slot(*segment, db).name_hash ^= 1;
  SegmentInternals::slot(*segment, db).lock_owner.store(owner_id() + (LockWord{1} << 32));  // recycled: dead
  SegmentInternals::slot(*segment, empty).state.store(9);
  SegmentInternals::header(*segment).processes[3].kind.store(17);
  SegmentInternals::header(*segment).processes[3].pid.store(static_cast<std::uint32_t>(::getpid()));

  std::vector<std::pair<std::uint64_t, std::vector<Kind>>> found;
  std::vector<std::string> names;
  const SegmentCheck check = check_segment(*segment, kNow, [&](const SlotReport& report) {
    std::vector<Kind> kinds;
    for (const SlotFinding& f : report.findings) kinds.push_back(f.kind);
    EXPECT_EQ(report.ready, report.data != nullptr);
    EXPECT_TRUE(report.data_problems.empty()) << report.index;
    if (report.ready) names.emplace_back(report.stored_name);
    if (!kinds.empty()) found.emplace_back(report.index, kinds);
  });
  std::sort(found.begin(), found.end());
  std::vector<std::pair<std::uint64_t, std::vector<Kind>>> expected = {
      {web, {Kind::mid_write}},
      {db, {Kind::dead_lock_holder, Kind::name_hash}},
      {empty, {Kind::unknown_state, Kind::fingerprint}}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(found, expected);
  EXPECT_EQ(check.ready_slots, 2u);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"db-2.example.com", "web-01"}));
  ASSERT_EQ(check.unknown_process_kinds.size(), 1u);
  EXPECT_EQ(check.unknown_process_kinds[0].entry, 3);
  EXPECT_EQ(check.unknown_process_kinds[0].kind, 17u);
  // A dead holder with an odd sequence word: a half write dump reports as repaired.
  EXPECT_FALSE(segment->left_mid_write(web));
  SegmentInternals::slot(*segment, db).seq.fetch_add(1);
  EXPECT_TRUE(segment->left_mid_write(db));
  SegmentInternals::slot(*segment, db).seq.fetch_add(1);
  SegmentInternals::slot(*segment, db).lock_owner.store(0);
  SegmentInternals::header(*segment).processes[3].pid.store(0);
}

TEST(InspectionTest, FactsReadTheHeaderAndItsCounters) {
  TestSegment segment(8, 30);
  ASSERT_EQ(segment->record("a", 1, 1, kNow), Status::ok);
  const SegmentFacts facts = segment->facts();
  EXPECT_EQ(facts.layout_version, kLayoutVersion);
  EXPECT_EQ(facts.capacity, 8u);
  EXPECT_EQ(facts.days, 30);
  EXPECT_EQ(facts.slot_size, segment->slot_size());
  EXPECT_EQ(facts.used_slots, 1u);
  EXPECT_EQ(facts.samples_recorded, 1u);
}

}  // namespace
}  // namespace servertrack::shm::test
