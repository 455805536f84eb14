// Real processes (fork) sharing one segment: concurrent writers and readers
// lose no sample and never see a torn bucket; concurrent first inserts of one
// name converge on one slot.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "tests/shm/support.h"
#include "shm/segment_internals.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::seconds;

constexpr std::int64_t kHour = 1735689600 + 3600 * 10;  // every sample falls in this hour
constexpr int kWriters = 4;
constexpr int kReaders = 2;
constexpr int kNames = 1000;

constexpr int kRecordsPerWriter = 100000;
// Writers meet every this many records, so their clocks (the sample times)
// differ by at most 36 s: less than kClockSlack, within which writers keep
// each other's samples (shm/slot.h, clock policy).
constexpr int kRecordsPerStep = 1000;
static_assert(std::int64_t{kRecordsPerStep} * 3600 / kRecordsPerWriter < kClockSlack);

std::string server(int i) { return "server_" + std::to_string(i); }

// Writer w's i-th sample: all writers walk the names in the same order (so they
// contend for the same slots) through the hour, with integer values so every
// sum is exact; cpu == ram, so a snapshot whose cpu and ram differ is torn.
struct Sample {
  int name;
  std::int64_t now;
  double value;
};
Sample sample(int writer, int i, int records) {
  return {i % kNames, kHour + std::int64_t{i} * 3600 / records, double((writer * 7919 + i) % 1000)};
}

struct ReaderReport {
  std::uint64_t snapshots = 0;
  std::uint64_t with_data = 0;
  std::uint64_t torn = 0;          // a bucket whose cpu and ram means differ
  std::uint64_t inconsistent = 0;  // minute counts not summing to the hour's count
  std::uint64_t failed = 0;        // a status other than ok / not_found
};

// Snapshots the name the writers are at (they walk the names in step) until
// every writer's sample is counted: the slots most likely mid-write.
ReaderReport read_until_done(Segment& segment, std::uint64_t total) {
  ReaderReport r;
  const auto deadline = std::chrono::steady_clock::now() + seconds(90);
  Counters& counters = SegmentInternals::header(segment).counters;
  for (std::uint64_t done; (done = counters.samples_recorded.load()) < total;) {
    if (std::chrono::steady_clock::now() > deadline) break;
    const int n = static_cast<int>(done / kWriters % kNames);
    Snapshot s;
    const Status status = segment.snapshot(server(n), kHour + 3599, s);
    if (status == Status::not_found) continue;
    ++r.snapshots;
    if (status != Status::ok) {
      ++r.failed;
      continue;
    }
    std::uint64_t minute_counts = 0;
    for (const BucketMean& b : s.last_60_minutes.buckets) {
      minute_counts += b.cpu.count;
      r.torn += b.cpu.mean != b.ram.mean || b.cpu.count != b.ram.count;
    }
    const BucketMean& hour = s.last_24_hours.buckets[23];
    r.torn += hour.cpu.mean != hour.ram.mean || hour.cpu.count != hour.ram.count;
    r.inconsistent += minute_counts != hour.cpu.count;
    r.with_data += hour.cpu.count != 0;
  }
  return r;
}

Slot* slot_of(Segment& segment, const std::string& name) {
  Slot* found = nullptr;
  segment.for_each_server([&](const ServerEntry& e) {
    if (e.name == name) found = e.slot;
  });
  return found;
}

TEST(MultiProcessTest, ConcurrentWritersLoseNothingAndReadersNeverSeeATornBucket) {
  const int records = kRecordsPerWriter;
  const std::uint64_t total = std::uint64_t{kWriters} * records;
  TestSegment segment(2048);
  ProcessBarrier start(kWriters + kReaders);
  ProcessBarrier step(kWriters);
  ResultPipe reports;

  std::vector<pid_t> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.push_back(run_child([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < records; ++i) {
        if (i % kRecordsPerStep == 0) step.arrive_and_wait();
        const Sample x = sample(w, i, records);
        if (record_retrying_busy(*segment, server(x.name), x.value, x.value, x.now) != Status::ok) return 1;
      }
      return 0;
    }));
  }
  std::vector<pid_t> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(run_child([&, r] {
      AttachOptions options;
      options.name = segment.name();
      options.access = r == 0 ? Access::read_only : Access::read_write;  // a query worker's and a tool's view
      Segment own = Segment::attach(options);
      start.arrive_and_wait();
      const ReaderReport report = read_until_done(own, total);
      reports.send(&report, sizeof report);
      return 0;
    }));
  }

  for (pid_t pid : writers) EXPECT_EQ(wait_child(pid, seconds(90)), 0);
  for (int r = 0; r < kReaders; ++r) {
    ReaderReport report;
    ASSERT_TRUE(reports.receive(&report, sizeof report, seconds(60)));
    EXPECT_EQ(report.torn, 0u);
    EXPECT_EQ(report.inconsistent, 0u);
    EXPECT_EQ(report.failed, 0u);
    EXPECT_GT(report.with_data, 0u) << "the reader never overlapped the writers";
    std::printf("reader: %llu snapshots, %llu with data\n", static_cast<unsigned long long>(report.snapshots),
                static_cast<unsigned long long>(report.with_data));
  }
  for (pid_t pid : readers) EXPECT_EQ(wait_child(pid, seconds(60)), 0);

  // The exact count and sum of every (name, minute) bucket and every name's hour.
  struct Expected {
    std::uint32_t count = 0;
    double sum = 0;
  };
  std::vector<std::array<Expected, kMinuteBuckets>> minutes(kNames);
  std::vector<Expected> hours(kNames);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < records; ++i) {
      const Sample x = sample(w, i, records);
      Expected& m = minutes[x.name][(x.now - kHour) / 60];
      ++m.count;
      m.sum += x.value;
      ++hours[x.name].count;
      hours[x.name].sum += x.value;
    }
  }
  int mismatches = 0;
  for (int n = 0; n < kNames; ++n) {
    Slot* slot = slot_of(*segment, server(n));
    ASSERT_NE(slot, nullptr) << server(n);
    SlotCopy copy;
    ASSERT_EQ(segment->copy_slot(*slot, copy), Status::ok);
    for (int k = 0; k < kMinuteBuckets; ++k) {
      const MinuteValue& b = copy.minutes[(kHour / 60 + k) % kMinuteBuckets];
      const Expected& e = minutes[n][k];
      const bool same = b.count[kCpu] == e.count && b.count[kRam] == e.count && b.sum[kCpu] == e.sum &&
                        b.sum[kRam] == e.sum && (e.count == 0 || b.index == kHour / 60 + k);
      if (!same && ++mismatches <= 5) {
        ADD_FAILURE() << server(n) << " minute " << k << ": count " << b.count[kCpu] << " sum " << b.sum[kCpu]
                      << "/" << b.sum[kRam] << ", expected " << e.count << " " << e.sum;
      }
    }
    const HourValue& h = copy.hours[(kHour / 3600) % kHourBuckets];
    EXPECT_EQ(h.count[kCpu], hours[n].count) << server(n);
    EXPECT_EQ(h.count[kRam], hours[n].count) << server(n);
    EXPECT_EQ(h.sum[kCpu], hours[n].sum) << server(n);
    EXPECT_EQ(h.sum[kRam], hours[n].sum) << server(n);
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(segment.counters().samples_recorded.load(), total);
  EXPECT_EQ(segment.counters().used_slots.load(), std::uint64_t{kNames});
  EXPECT_EQ(segment.counters().lock_takeovers.load(), 0u);
}

TEST(MultiProcessTest, ConcurrentFirstInsertsOfOneNameEndInOneSlot) {
  constexpr int kProcesses = 8;
  constexpr int kRounds = 500;          // one new name per round, all processes racing for it
  constexpr int kRecordsPerRound = 20;
  TestSegment segment(640);             // 78% full at the end: probe sequences overlap
  ProcessBarrier round_start(kProcesses);

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(run_child([&, p] {
      for (int r = 0; r < kRounds; ++r) {
        round_start.arrive_and_wait();
        for (int i = 0; i < kRecordsPerRound; ++i) {
          if (record_retrying_busy(*segment, "fresh_" + std::to_string(r), p, p, kHour) != Status::ok) return 1;
        }
      }
      return 0;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(wait_child(pid, seconds(60)), 0);

  std::map<std::string, int> slots_per_name;
  segment->for_each_server([&](const ServerEntry& e) { ++slots_per_name[std::string(e.name)]; });
  EXPECT_EQ(slots_per_name.size(), std::size_t{kRounds});
  for (int r = 0; r < kRounds; ++r) {
    const std::string name = "fresh_" + std::to_string(r);
    EXPECT_EQ(slots_per_name[name], 1) << name;
    Snapshot s;
    ASSERT_EQ(segment->snapshot(name, kHour, s), Status::ok) << name;
    EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, std::uint32_t{kProcesses * kRecordsPerRound}) << name;
    EXPECT_DOUBLE_EQ(s.last_60_minutes.buckets[59].cpu.mean, (kProcesses - 1) / 2.0) << name;
  }
  EXPECT_EQ(segment.counters().used_slots.load(), std::uint64_t{kRounds});
  EXPECT_EQ(segment.counters().samples_recorded.load(),
            std::uint64_t{kProcesses} * kRounds * kRecordsPerRound);
}

}  // namespace
}  // namespace servertrack::shm::test
