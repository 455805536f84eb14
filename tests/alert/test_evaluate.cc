// The rules judged on a real segment filled through record() with stated
// times (alert/evaluate.h), and the alerts they make (alert/alert_book.h):
// event times, a spool replayed after a partition, silence, hours, a server
// gone, and a restart that neither resolves nor repeats.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "alert/alert_book.h"
#include "alert/evaluate.h"
#include "tests/shm/support.h"

namespace servertrack::alert {
namespace {

constexpr std::int64_t kMinute = 29931000;  // a minute index: 10:00 UTC on 2026-11-28
constexpr std::int64_t at(int minutes, int seconds = 0) { return (kMinute + minutes) * 60 + seconds; }

Rule rule(int count, Kind kind = Kind::minutes, bool above = true, double threshold = 90) {
  Rule r;
  r.name = "r";
  r.severity = "critical";
  r.kind = kind;
  r.above = above;
  r.threshold = threshold;
  r.count = count;
  return r;
}

class Evaluate : public ::testing::Test {
 protected:
  shm::test::TestSegment segment{64};

  // Three cpu samples in each minute [from, to) at `cpu`, stated, arriving at `now`.
  void post(const char* name, int from, int to, double cpu, std::int64_t now) {
    for (int m = from; m < to; ++m) {
      for (int s : {5, 25, 45}) {
        ASSERT_EQ(segment->record(name, shm::stated_sample(cpu, 50, at(m, s) * 1000), now), shm::Status::ok);
      }
    }
  }
  shm::Snapshot windows(const char* name, std::int64_t now) {
    shm::Snapshot out;
    EXPECT_EQ(segment->snapshot(name, now, out), shm::Status::ok);
    return out;
  }
  Finding find(const Rule& r, const char* name, std::int64_t now) { return evaluate(r, windows(name, now), now); }
};

TEST_F(Evaluate, FiresAfterNCompleteMinutesByTheirOwnTime) {
  const Rule cpu = rule(5);
  post("web-01", 0, 4, 95, at(4, 1));
  Finding f = find(cpu, "web-01", at(4, 1));
  EXPECT_EQ(f.state, Finding::State::pending);
  EXPECT_EQ(f.starts_at, at(0));
  post("web-01", 4, 5, 95, at(5, 0));
  // The 5th minute is complete only once the clock leaves it.
  EXPECT_EQ(find(cpu, "web-01", at(4, 59)).state, Finding::State::pending);
  f = find(cpu, "web-01", at(5, 2));
  EXPECT_EQ(f.state, Finding::State::firing);
  EXPECT_EQ(f.starts_at, at(0));
  EXPECT_EQ(f.last_end, at(5));
  EXPECT_DOUBLE_EQ(f.value, 95);
  // Silence after the run keeps it firing (the silent rule is another rule's).
  EXPECT_EQ(find(cpu, "web-01", at(12)).state, Finding::State::firing);
  // A minute below closes it: resolved at the end of the last minute above.
  post("web-01", 12, 13, 20, at(13, 1));
  f = find(cpu, "web-01", at(13, 1));
  EXPECT_EQ(f.state, Finding::State::resolved);
  EXPECT_EQ(f.starts_at, at(0));
  EXPECT_EQ(f.ends_at, at(5));
}

TEST_F(Evaluate, AMinuteWithoutSampleBreaksARunAndBelowWorks) {
  post("db-1", 0, 3, 95, at(3));
  post("db-1", 4, 7, 95, at(7, 1));
  Finding f = find(rule(5), "db-1", at(7, 1));
  EXPECT_EQ(f.state, Finding::State::pending);
  EXPECT_EQ(f.starts_at, at(4));
  const Rule low = rule(2, Kind::minutes, false, 10);
  EXPECT_EQ(find(low, "db-1", at(7, 1)).state, Finding::State::none);
  post("db-1", 7, 9, 5, at(9, 1));
  f = find(low, "db-1", at(9, 1));
  EXPECT_EQ(f.state, Finding::State::firing);
  EXPECT_EQ(f.starts_at, at(7));
}

TEST_F(Evaluate, ASpoolReplayedAfterAPartitionCarriesTheEventTimes) {
  // The agent was cut off from 10:00 to 10:21: its spool arrives at 10:21:10,
  // above 90 from 10:02 to 10:16 (14 minutes), then back down.
  post("web-02", 0, 2, 30, at(21, 10));
  post("web-02", 2, 16, 95, at(21, 10));
  post("web-02", 16, 21, 30, at(21, 10));
  const Rule cpu = rule(5);
  const Finding f = find(cpu, "web-02", at(21, 10));
  EXPECT_EQ(f.state, Finding::State::resolved);
  EXPECT_EQ(f.starts_at, at(2));
  EXPECT_EQ(f.ends_at, at(16));

  AlertBook book;
  book.begin_round();
  book.apply(cpu, "web-02", f, windows("web-02", at(21, 10)), at(21, 10));
  book.end_round(at(21, 10));
  auto changes = book.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertRecord::State::resolved);
  EXPECT_EQ(changes[0].starts_at, at(2));
  EXPECT_EQ(changes[0].ends_at, at(16));
  EXPECT_EQ(changes[0].summary, "web-02: cpu above 90 for 5 minutes, from 10:02 to 10:16 UTC (last minute 95.0)");
  // The next evaluation finds the same episode: told once.
  book.begin_round();
  book.apply(cpu, "web-02", find(cpu, "web-02", at(22, 2)), windows("web-02", at(22, 2)), at(22, 2));
  book.end_round(at(22, 2));
  EXPECT_TRUE(book.take_changes().empty());
}

TEST_F(Evaluate, SilentByTheNewestSampleTime) {
  const Rule quiet = rule(10, Kind::silent);
  post("app-1", 0, 1, 10, at(1));  // newest sample at 10:00:45
  EXPECT_EQ(find(quiet, "app-1", at(10, 44)).state, Finding::State::none);
  Finding f = find(quiet, "app-1", at(10, 45));
  EXPECT_EQ(f.state, Finding::State::firing);
  EXPECT_EQ(f.starts_at, at(10, 45));
  AlertBook book;
  book.begin_round();
  book.apply(quiet, "app-1", f, windows("app-1", at(10, 45)), at(10, 45));
  book.end_round(at(10, 45));
  ASSERT_EQ(book.take_changes().size(), 1u);
  // Its spool arrives: the silence ended at the first minute sampled after it.
  post("app-1", 3, 14, 10, at(14, 5));
  book.begin_round();
  book.apply(quiet, "app-1", find(quiet, "app-1", at(14, 5)), windows("app-1", at(14, 5)), at(14, 5));
  book.end_round(at(14, 5));
  auto changes = book.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertRecord::State::resolved);
  EXPECT_EQ(changes[0].ends_at, at(10, 45));  // the spool shows samples from 10:03: never N minutes silent after
}

TEST_F(Evaluate, MeanOfCompleteHours) {
  // 10:00-12:00 at 80 and 60: the mean of hours 10 and 11 is 70.
  const std::int64_t now = at(120, 30);
  for (int m = 0; m < 120; m += 10) {
    ASSERT_EQ(segment->record("h-1", shm::stated_sample(m < 60 ? 80 : 60, 1, at(m, 1) * 1000), now), shm::Status::ok);
  }
  Finding f = find(rule(2, Kind::hours, true, 69), "h-1", now);
  EXPECT_EQ(f.state, Finding::State::firing);
  EXPECT_DOUBLE_EQ(f.value, 70);
  EXPECT_EQ(f.starts_at, at(0));
  EXPECT_EQ(find(rule(2, Kind::hours, true, 70), "h-1", now).state, Finding::State::none);
  EXPECT_EQ(find(rule(1, Kind::hours, true, 61), "h-1", now).state, Finding::State::none);
}

TEST_F(Evaluate, AServerGoneEndsItsAlertAndARestartKeepsIt) {
  const Rule cpu = rule(2);
  post("gone-1", 0, 3, 99, at(3, 1));
  AlertBook book;
  book.begin_round();
  book.apply(cpu, "gone-1", find(cpu, "gone-1", at(3, 1)), windows("gone-1", at(3, 1)), at(3, 1));
  book.end_round(at(3, 1));
  ASSERT_EQ(book.take_changes().size(), 1u);
  book.counters().evaluations = 7;

  const std::string path = std::filesystem::temp_directory_path() / ("alert_book_" + std::to_string(getpid()) + ".json");
  ASSERT_TRUE(book.save(path, at(3, 1), 1));
  AlertBook restarted;
  ASSERT_FALSE(restarted.load(path));
  EXPECT_EQ(restarted.counters().evaluations, 7u);
  restarted.begin_round();
  restarted.apply(cpu, "gone-1", find(cpu, "gone-1", at(4, 1)), windows("gone-1", at(4, 1)), at(4, 1));
  restarted.end_round(at(4, 1));
  EXPECT_TRUE(restarted.take_changes().empty()) << "a restart neither resolves nor repeats a firing alert";
  ASSERT_EQ(restarted.records().size(), 1u);
  EXPECT_EQ(restarted.records().begin()->second.state, AlertRecord::State::firing);

  ASSERT_EQ(segment->forget("gone-1", at(5)), shm::Status::ok);
  restarted.begin_round();  // the walk no longer finds it
  restarted.end_round(at(5, 2));
  auto changes = restarted.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertRecord::State::resolved);
  EXPECT_EQ(changes[0].ends_at, at(5, 2));

  std::FILE* damaged = std::fopen(path.c_str(), "w");
  std::fputs("{\"alerts\":[{\"rule\":\"r\"", damaged);
  std::fclose(damaged);
  AlertBook unreadable;
  EXPECT_TRUE(unreadable.load(path));
  EXPECT_TRUE(unreadable.records().empty());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace servertrack::alert
