// The table of slots: lookup, name rules, collisions, a full table, counters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "shm/name.h"
#include "shm/table.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10;

std::map<std::string, std::uint64_t> slots_by_name(Segment& segment) {
  std::map<std::string, std::uint64_t> found;
  segment.for_each_server([&](const ServerEntry& e) { found[std::string(e.name)] = e.slot_index; });
  return found;
}

// The current minute's sample count and cpu mean of `name`.
BucketMean current_minute(Segment& segment, std::string_view name) {
  Snapshot s;
  EXPECT_EQ(segment.snapshot(name, kNow, s), Status::ok) << name;
  return s.last_60_minutes.buckets[59];
}

// The first `n` names of the form c<i> whose home position is `home`.
std::vector<std::string> names_with_home(std::uint64_t home, std::uint64_t capacity, int n) {
  std::vector<std::string> names;
  for (int i = 0; static_cast<int>(names.size()) < n; ++i) {
    std::string name = "c" + std::to_string(i);
    if (hash_name(name) % capacity == home) names.push_back(name);
  }
  return names;
}

TEST(TableTest, EachNameFindsItsOwnSlot) {
  TestSegment segment(256);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(segment->record("server_" + std::to_string(i), i, 2 * i, kNow), Status::ok);
  }
  for (int i = 0; i < 200; ++i) {
    const BucketMean b = current_minute(*segment, "server_" + std::to_string(i));
    EXPECT_EQ(b.cpu.count, 1u);
    EXPECT_EQ(b.cpu.mean, i);
    EXPECT_EQ(b.ram.mean, 2 * i);
  }
  EXPECT_EQ(slots_by_name(*segment).size(), 200u);
  EXPECT_EQ(segment.counters().used_slots.load(), 200u);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 200u);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("server_200", kNow, s), Status::not_found);
}

TEST(TableTest, HostNamesUpTo253CharactersAreAcceptedAnd254Refused) {
  TestSegment segment(16);
  const std::string longest = "db-2.prod.example.com" + std::string(253 - 21, 'x');
  ASSERT_EQ(segment->record(longest, 1, 1, kNow), Status::ok);
  EXPECT_EQ(current_minute(*segment, longest).cpu.count, 1u);
  EXPECT_EQ(slots_by_name(*segment).count(longest), 1u);

  const std::string too_long = longest + "x";
  EXPECT_EQ(segment->record(too_long, 1, 1, kNow), Status::invalid_name);
  Snapshot s;
  EXPECT_EQ(segment->snapshot(too_long, kNow, s), Status::invalid_name);
  for (const char* bad : {"", "-ab", ".ab", "a b", "a/b", "a:b", "caf\xc3\xa9"}) {
    EXPECT_EQ(segment->record(bad, 1, 1, kNow), Status::invalid_name) << bad;
  }
  EXPECT_EQ(segment.counters().used_slots.load(), 1u);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 1u);
}

TEST(TableTest, BadValuesAreRefusedAndRecordNothing) {
  TestSegment segment(16);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(segment->record("web1", nan, 1, kNow), Status::invalid_value);
  EXPECT_EQ(segment->record("web1", 1, inf, kNow), Status::invalid_value);
  EXPECT_EQ(segment->record("web1", -1, 1, kNow), Status::invalid_value);
  EXPECT_EQ(segment->record("web1", 1, -0.5, kNow), Status::invalid_value);
  EXPECT_EQ(segment->record("web1", 1, 1, -1), Status::invalid_value);
  EXPECT_EQ(segment.counters().used_slots.load(), 0u);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 0u);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("web1", kNow, s), Status::not_found);
}

TEST(TableTest, NamesDifferingOnlyInCaseAreDifferentServers) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("Web1", 1, 1, kNow), Status::ok);
  ASSERT_EQ(segment->record("web1", 2, 2, kNow), Status::ok);
  ASSERT_EQ(segment->record("WEB1", 3, 3, kNow), Status::ok);
  EXPECT_EQ(current_minute(*segment, "Web1").cpu.mean, 1);
  EXPECT_EQ(current_minute(*segment, "web1").cpu.mean, 2);
  EXPECT_EQ(current_minute(*segment, "WEB1").cpu.mean, 3);
  EXPECT_EQ(segment.counters().used_slots.load(), 3u);
}

TEST(TableTest, CollidingNamesProbeOnAndWrapAroundTheTable) {
  constexpr std::uint64_t kCapacity = 8;
  TestSegment segment(kCapacity);
  const auto names = names_with_home(kCapacity - 1, kCapacity, 4);
  for (std::size_t i = 0; i < names.size(); ++i) {
    ASSERT_EQ(segment->record(names[i], i + 1, i + 1, kNow), Status::ok);
  }
  const auto slots = slots_by_name(*segment);
  EXPECT_EQ(slots.at(names[0]), 7u);
  EXPECT_EQ(slots.at(names[1]), 0u);  // wrapped
  EXPECT_EQ(slots.at(names[2]), 1u);
  EXPECT_EQ(slots.at(names[3]), 2u);
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(current_minute(*segment, names[i]).cpu.mean, i + 1) << names[i];
  }
  // An absent name with the same home passes all of them and stops at the gap.
  Snapshot s;
  EXPECT_EQ(segment->snapshot(names_with_home(kCapacity - 1, kCapacity, 5)[4], kNow, s),
            Status::not_found);
}

TEST(TableTest, AFullTableRefusesNewNamesWhileExistingNamesKeepRecording) {
  constexpr std::uint64_t kCapacity = 4;
  TestSegment segment(kCapacity);
  const auto names = names_with_home(1, kCapacity, 5);  // all collide: the worst case
  for (std::uint64_t i = 0; i < kCapacity; ++i) ASSERT_EQ(segment->record(names[i], 1, 1, kNow), Status::ok);
  EXPECT_EQ(segment->record(names[4], 1, 1, kNow), Status::table_full);
  EXPECT_EQ(segment->record("another", 1, 1, kNow), Status::table_full);
  EXPECT_EQ(segment.counters().table_full_rejections.load(), 2u);
  for (std::uint64_t i = 0; i < kCapacity; ++i) ASSERT_EQ(segment->record(names[i], 3, 3, kNow), Status::ok);
  for (std::uint64_t i = 0; i < kCapacity; ++i) {
    const BucketMean b = current_minute(*segment, names[i]);
    EXPECT_EQ(b.cpu.count, 2u);
    EXPECT_EQ(b.cpu.mean, 2);
  }
  Snapshot s;
  EXPECT_EQ(segment->snapshot(names[4], kNow, s), Status::not_found);
  EXPECT_EQ(segment.counters().used_slots.load(), kCapacity);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 2 * kCapacity);
  EXPECT_EQ(slots_by_name(*segment).size(), kCapacity);
}

TEST(TableTest, EveryPublishedSlotCarriesItsFingerprintAndEmptySlotsNone) {
  constexpr std::uint64_t kCapacity = 64;
  TestSegment segment(kCapacity);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(segment->record("f" + std::to_string(i), 1, 1, kNow), Status::ok);
  int published = 0;
  for (std::uint64_t i = 0; i < kCapacity; ++i) {
    const Slot& slot = SegmentInternals::slot(*segment, i);
    const std::uint32_t stored = SegmentInternals::fingerprint(*segment, i).load();
    if (slot.state.load() == kSlotReady) {
      ++published;
      EXPECT_EQ(stored, fingerprint_of(hash_name(std::string_view(slot.name, slot.name_length)))) << i;
    } else {
      EXPECT_EQ(stored, 0u) << i;
    }
  }
  EXPECT_EQ(published, 40);
}

// A claimer killed between publishing a name and storing its fingerprint
// leaves a published slot with fingerprint 0 in the middle of a probe run.
TEST(TableTest, APublishedSlotMissingItsFingerprintIsStillFoundAndGetsItBack) {
  constexpr std::uint64_t kCapacity = 8;
  TestSegment segment(kCapacity);
  const auto names = names_with_home(3, kCapacity, 4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(segment->record(names[i], i + 1, i + 1, kNow), Status::ok);
  SegmentInternals::fingerprint(*segment, 3).store(0);
  SegmentInternals::fingerprint(*segment, 4).store(0);
  // Both the name without a fingerprint and one behind it are found.
  EXPECT_EQ(current_minute(*segment, names[0]).cpu.mean, 1);
  EXPECT_EQ(current_minute(*segment, names[2]).cpu.mean, 3);
  // Recording an existing name writes no fingerprint (lookups need none)...
  ASSERT_EQ(segment->record(names[1], 5, 5, kNow), Status::ok);
  EXPECT_EQ(current_minute(*segment, names[1]).cpu.count, 2u);
  EXPECT_EQ(SegmentInternals::fingerprint(*segment, 4).load(), 0u);
  // ...a new name on the same probe run puts both back, and lands after them.
  ASSERT_EQ(segment->record(names[3], 7, 7, kNow), Status::ok);
  EXPECT_EQ(SegmentInternals::fingerprint(*segment, 3).load(), fingerprint_of(hash_name(names[0])));
  EXPECT_EQ(SegmentInternals::fingerprint(*segment, 4).load(), fingerprint_of(hash_name(names[1])));
  EXPECT_EQ(slots_by_name(*segment).at(names[3]), 6u);
  EXPECT_EQ(segment.counters().used_slots.load(), 4u);
}

// Damage: a fingerprint on an empty slot, or a wrong one on a published slot.
TEST(TableTest, AWrongFingerprintNeverLetsALookupReturnAnotherServersSlot) {
  constexpr std::uint64_t kCapacity = 8;
  TestSegment segment(kCapacity);
  const auto names = names_with_home(2, kCapacity, 3);
  ASSERT_EQ(segment->record(names[0], 1, 1, kNow), Status::ok);
  // Every other slot pretends to hold names[1] and names[0]'s slot pretends
  // to hold names[2]: lookups compare names, so none is fooled.
  for (std::uint64_t i = 0; i < kCapacity; ++i) {
    SegmentInternals::fingerprint(*segment, i).store(fingerprint_of(hash_name(i == 2 ? names[2] : names[1])));
  }
  Snapshot s;
  EXPECT_EQ(segment->snapshot(names[1], kNow, s), Status::not_found);
  EXPECT_EQ(segment->snapshot(names[2], kNow, s), Status::not_found);
  // A claim reads the state of a slot whose fingerprint is not its name's: the
  // new name goes to a slot that is really free, not over names[0]'s.
  EXPECT_EQ(segment->record(names[1], 1, 1, kNow), Status::ok);
  EXPECT_EQ(segment->snapshot(names[1], kNow, s), Status::ok);
  EXPECT_EQ(segment.counters().used_slots.load(), 2u);
}

TEST(TableTest, TheWalkVisitsUsedSlotsInSlotOrder) {
  TestSegment segment(64);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(segment->record("n" + std::to_string(i), 1, 1, kNow), Status::ok);
  std::vector<std::uint64_t> order;
  segment->for_each_server([&](const ServerEntry& e) {
    order.push_back(e.slot_index);
    EXPECT_EQ(e.slot, &SegmentInternals::slot(*segment, e.slot_index));
  });
  ASSERT_EQ(order.size(), 20u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST(TableTest, AUsedSlotsCounterDamagedUpToCapacityIsRecountedNotBelieved) {
  constexpr std::uint64_t kCapacity = 8;
  TestSegment segment(kCapacity);
  ASSERT_EQ(segment->record("old", 1, 1, kNow), Status::ok);
  segment.counters().used_slots.store(kCapacity);  // damage, or lost decrements
  EXPECT_EQ(segment->record("fresh", 1, 1, kNow), Status::ok) << "an almost empty table answered full";
  EXPECT_EQ(segment.counters().used_slots.load(), 2u);
  EXPECT_EQ(segment.counters().table_full_rejections.load(), 0u);
}

TEST(TableTest, AUsedSlotsCounterLeftShortIsCorrectedWhenTheTableFills) {
  constexpr std::uint64_t kCapacity = 8;
  TestSegment segment(kCapacity);
  for (std::uint64_t i = 0; i < kCapacity; ++i) {
    ASSERT_EQ(segment->record("s" + std::to_string(i), 1, 1, kNow), Status::ok);
  }
  segment.counters().used_slots.store(kCapacity - 1);  // a claimer killed before counting
  EXPECT_EQ(segment->record("one_more", 1, 1, kNow), Status::table_full);
  EXPECT_EQ(segment.counters().used_slots.load(), kCapacity);
  EXPECT_EQ(SegmentInternals::table(*segment).count_servers(kNow).live, kCapacity);
}

TEST(TableTest, ANewServersLastSampleIsItsBackfilledSamplesTimeNotTheArrival) {
  TestSegment segment(8);
  const std::int64_t taken = kNow - 40 * 60;  // backfilled: taken 40 minutes before it arrived
  ASSERT_EQ(segment->record("backfilled", stated_sample(95, 50, taken * 1000), kNow), Status::ok);
  ASSERT_EQ(segment->record("backfilled", stated_sample(96, 50, (taken + 60) * 1000), kNow), Status::ok);
  ASSERT_EQ(segment->record("live", 10, 10, kNow), Status::ok);
  std::map<std::string, std::int64_t> last;
  segment->for_each_server([&](const ServerEntry& e) { last[std::string(e.name)] = e.last_sample_unix; });
  EXPECT_EQ(last["backfilled"], taken + 60);
  EXPECT_EQ(last["live"], kNow);
  // Expiry runs from the sample's time too: 24 hours after it, not after the arrival.
  EXPECT_EQ(SegmentInternals::table(*segment).count_servers(taken + 60 + kExpirySeconds - 1).live, 2u);
  EXPECT_EQ(SegmentInternals::table(*segment).count_servers(taken + 60 + kExpirySeconds).live, 1u);
}

}  // namespace
}  // namespace servertrack::shm::test
