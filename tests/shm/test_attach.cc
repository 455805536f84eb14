// create() and attach(): refusals name what differs (the remedy is the
// caller's: tests/common/test_segment_advice.cc); permissions; read-only
// attaches.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <initializer_list>
#include <string>

#include "tests/shm/support.h"
#include "shm/segment_internals.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600;

AttachOptions attach_options(const std::string& name, Access access = Access::read_write,
                             std::uint64_t expected_capacity = 0) {
  AttachOptions options;
  options.name = name;
  options.access = access;
  options.expected_capacity = expected_capacity;
  return options;
}

// attach() must throw `kind` for the segment with a message containing every
// one of `parts` and no advice (no tool's name); returns the capacity found.
std::uint64_t expect_refused(const AttachOptions& options, SegmentError::Kind kind,
                             std::initializer_list<std::string> parts) {
  try {
    Segment::attach(options);
    ADD_FAILURE() << "attach of '" << options.name << "' succeeded";
  } catch (const SegmentError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_EQ(e.segment(), options.name);
    EXPECT_EQ(std::string(e.what()).find("shmtool"), std::string::npos) << e.what();
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "message: " << e.what() << "\nlacks: " << part;
    return e.capacity_found();
  }
  return 0;
}

TEST(AttachTest, AttachSeesTheCreatorsData) {
  TestSegment created(16);
  ASSERT_EQ(created->record("web1", 4, 8, kNow), Status::ok);
  Segment attached = Segment::attach(attach_options(created.name(), Access::read_write, 16));
  EXPECT_EQ(attached.capacity(), 16u);
  Snapshot s;
  ASSERT_EQ(attached.snapshot("web1", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  ASSERT_EQ(attached.record("web1", 4, 8, kNow), Status::ok);
  ASSERT_EQ(created->snapshot("web1", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 2u);
}

TEST(AttachTest, CreatingAnExistingNameFailsWithExists) {
  TestSegment existing(16);
  CreateOptions options;
  options.name = existing.name();
  options.capacity = 32;
  options.days = 30;
  try {
    Segment::create(options);
    ADD_FAILURE() << "second create succeeded";
  } catch (const SegmentError& e) {
    EXPECT_EQ(e.kind(), SegmentError::Kind::exists) << e.what();
  }
  EXPECT_EQ(Segment::attach(attach_options(existing.name())).capacity(), 16u);  // untouched
}

TEST(AttachTest, AnAbsentSegmentIsReportedWithItsPath) {
  const std::string name = unique_segment_name();
  expect_refused(attach_options(name), SegmentError::Kind::absent, {"does not exist", "/dev/shm/" + name});
}

TEST(AttachTest, WrongMagicIsRefused) {
  TestSegment segment(16);
  SegmentInternals::header(*segment).magic = 0x1234;
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"not a ServerTrack segment", "0x0000000000001234"});
}

TEST(AttachTest, WrongLayoutVersionIsRefused) {
  TestSegment segment(16);
  SegmentInternals::header(*segment).layout_version.store(kLayoutVersion + 6);
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"layout version " + std::to_string(kLayoutVersion + 6),
                  "reads version " + std::to_string(kLayoutVersion)});
}

TEST(AttachTest, VersionZeroIsRefusedAsNotReady) {
  TestSegment segment(16);
  SegmentInternals::header(*segment).layout_version.store(0);
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"not ready"});
}

TEST(AttachTest, ADamagedSlotsOffsetIsRefused) {
  TestSegment segment(16);
  SegmentInternals::header(*segment).slots_offset += 4096;
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"places its slots at byte " + std::to_string(slots_offset(16) + 4096),
                  "puts them at " + std::to_string(slots_offset(16))});
}

TEST(AttachTest, AnotherSlotSizeIsRefused) {
  TestSegment segment(16, 30);
  SegmentInternals::header(*segment).slot_size = 1000;
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"slot size 1000", std::to_string(slot_bytes(30)), "with 30 days"});
}

TEST(AttachTest, DaysBeyondTheMostOrNotMatchingTheSlotSizeAreRefused) {
  TestSegment segment(16, 30);
  EXPECT_EQ(Segment::attach(attach_options(segment.name())).days(), 30);
  SegmentInternals::header(*segment).days = kMaxDays + 1;
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible, {"367 days", "damaged"});
  SegmentInternals::header(*segment).days = 10;  // 10 days make smaller slots: the slots would be misread
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"slot size " + std::to_string(slot_bytes(30)), "with 10 days"});
}

TEST(AttachTest, AnUnexpectedCapacityIsRefused) {
  TestSegment segment(16);
  EXPECT_EQ(expect_refused(attach_options(segment.name(), Access::read_write, 32), SegmentError::Kind::incompatible,
                           {"capacity 16, expected 32"}),
            16u);
}

TEST(AttachTest, ATruncatedObjectIsRefused) {
  TestSegment segment(16);
  const std::string path = Segment::path_of(segment.name());
  const auto short_size = segment_bytes(16, 0) - slot_bytes(0);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(short_size)), 0);
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {std::to_string(short_size) + " bytes", "needs " + std::to_string(segment_bytes(16, 0)),
                  "truncated"});
  ASSERT_EQ(::truncate(path.c_str(), 100), 0);
  expect_refused(attach_options(segment.name()), SegmentError::Kind::incompatible,
                 {"100 bytes", "smaller than its 4096-byte header"});
}

mode_t file_mode(const std::string& name) {
  struct stat st {};
  EXPECT_EQ(::stat(Segment::path_of(name).c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(AttachTest, TheCreatedObjectHasMode0660WhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    const mode_t old = ::umask(mask);
    TestSegment segment(4);
    ::umask(old);
    EXPECT_EQ(file_mode(segment.name()), 0660u) << "umask " << std::oct << mask;
    EXPECT_EQ(SegmentInternals::header(*segment).mode, 0660u);
  }
}

TEST(AttachTest, AnExplicitModeIsApplied) {
  CreateOptions options;
  options.name = unique_segment_name();
  options.capacity = 4;
  options.days = 30;
  options.mode = 0600;
  const mode_t old = ::umask(077);
  Segment segment = Segment::create(options);
  ::umask(old);
  EXPECT_EQ(file_mode(options.name), 0600u);
  Segment::remove(options.name);
}

TEST(AttachTest, AReadOnlyAttachSnapshotsButDoesNotRecord) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("web1", 4, 8, kNow), Status::ok);
  Segment reader = Segment::attach(attach_options(segment.name(), Access::read_only));
  EXPECT_EQ(reader.access(), Access::read_only);
  EXPECT_EQ(reader.record("web1", 1, 1, kNow), Status::read_only);
  EXPECT_EQ(reader.record("web2", 1, 1, kNow), Status::read_only);
  Snapshot s;
  ASSERT_EQ(reader.snapshot("web1", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.mean, 4);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 1u);
  EXPECT_EQ(segment.counters().used_slots.load(), 1u);
}

TEST(AttachTest, AStrayWriteToTheSharedCapacityDoesNotMisleadAnAttachedProcess) {
  TestSegment segment(16);
  const int code = wait_child(run_child([&] {
    Segment attached = Segment::attach(attach_options(segment.name(), Access::read_write));
    SegmentInternals::header(attached).capacity = std::uint64_t{1} << 40;  // as a stray write would
    for (int i = 0; i < 64; ++i) attached.record("s" + std::to_string(i), 1, 1, kNow);
    int walked = 0;
    attached.for_each_server([&](const ServerEntry&) { ++walked; });
    return attached.capacity() == 16 && walked == 16 ? 0 : 1;
  }), std::chrono::seconds(30));
  EXPECT_EQ(code, 0) << "128 + 11 is SIGSEGV";
}

TEST(AttachTest, ValuesBeyondTheBoundAreRefusedAndNoSumOverflows) {
  TestSegment segment(16);
  EXPECT_EQ(segment->record("big", 1e308, 1, kNow), Status::invalid_value);
  EXPECT_EQ(segment->record("big", 1, kMaxSampleValue * 2, kNow), Status::invalid_value);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(segment->record("big", kMaxSampleValue, kMaxSampleValue, kNow), Status::ok);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("big", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1000u);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.mean, kMaxSampleValue);
  EXPECT_TRUE(std::isfinite(s.last_24_hours.buckets[23].ram.mean));
}

}  // namespace
}  // namespace servertrack::shm::test
