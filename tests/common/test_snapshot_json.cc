// append_snapshot_json: the JSON shape of GET /server/<name>, byte for byte,
// with and without ?counts=1 and ?peaks=1.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "common/snapshot_json.h"

namespace servertrack::common {
namespace {

std::string nulls(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += i ? ",null" : "null";
  return out;
}

std::string zeros(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += i ? ",0" : "0";
  return out;
}

std::string render(const shm::Snapshot& snapshot, Details details = {}) {
  fmt::memory_buffer out;
  append_snapshot_json(snapshot, out, details);
  return fmt::to_string(out);
}

shm::Snapshot empty_snapshot(int days = 30) {
  shm::Snapshot snapshot;
  snapshot.last_60_minutes.start = 1795894560;
  snapshot.last_60_minutes.step = 60;
  snapshot.last_24_hours.start = 1795813200;
  snapshot.last_24_hours.step = 3600;
  snapshot.last_days.start = 1793404800;
  snapshot.last_days.step = 86400;
  snapshot.last_days.length = days;
  return snapshot;
}

shm::MetricMean metric(std::uint32_t count, double mean, double max) { return {count, mean, max}; }

TEST(SnapshotJson, EmptyBucketsAreNull) {
  const std::string windows = R"({"last_60_minutes":{"start":1795894560,"step":60,"cpu":[)" + nulls(60) +
                              R"(],"ram":[)" + nulls(60) +
                              R"(]},"last_24_hours":{"start":1795813200,"step":3600,"cpu":[)" + nulls(24) +
                              R"(],"ram":[)" + nulls(24) + "]}";
  EXPECT_EQ(render(empty_snapshot()), windows + R"(,"last_30_days":{"start":1793404800,"step":86400,"cpu":[)" +
                                          nulls(30) + R"(],"ram":[)" + nulls(30) + "]}}");
  // The days window is named after its length, and absent when the segment keeps none.
  EXPECT_NE(render(empty_snapshot(7)).find(R"("last_7_days":{"start":1793404800,"step":86400,"cpu":[)" + nulls(7) +
                                           "]"),
            std::string::npos);
  EXPECT_EQ(render(empty_snapshot(0)), windows + "}");
}

TEST(SnapshotJson, MeansAreShortestRoundTripAndLastIsNewest) {
  shm::Snapshot snapshot = empty_snapshot();
  snapshot.last_60_minutes.buckets[59] = {metric(2, 12.04, 20), metric(2, 0.1 + 0.2, 0.5)};
  snapshot.last_60_minutes.buckets[0] = {metric(1, 0, 0), metric(1, 1e300, 1e300)};
  snapshot.last_24_hours.buckets[23] = {metric(3, 100, 100), metric(3, 5e-324, 5e-324)};
  snapshot.last_days.buckets[29] = {metric(3, 42.5, 100), metric(3, 1, 1)};
  const std::string json = render(snapshot);
  EXPECT_NE(json.find(R"("cpu":[0,null,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("ram":[1e+300,null,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,12.04],"ram")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,0.30000000000000004]})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,100],"ram":[)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,5e-324]},"last_30_days")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,42.5],"ram":[)"), std::string::npos) << json;
  EXPECT_EQ(json.find("max"), std::string::npos) << json;
  EXPECT_EQ(json.find("count"), std::string::npos) << json;
}

TEST(SnapshotJson, AMetricWithoutSamplesIsNullWhereTheOtherHasSome) {
  shm::Snapshot snapshot = empty_snapshot();
  snapshot.last_24_hours.buckets[23] = {metric(1, 50, 50), metric(0, 0, 0)};
  snapshot.last_24_hours.buckets[22] = {metric(0, 0, 0), metric(2, 70, 80)};
  const std::string json = render(snapshot, {.counts = true, .peaks = true});
  EXPECT_NE(json.find(R"("cpu":[)" + nulls(22) + R"(,null,50],"ram":[)" + nulls(22) + R"(,70,null],)"
                      R"("cpu_max":[)" + nulls(22) + R"(,null,50],"ram_max":[)" + nulls(22) + R"(,80,null],)"
                      R"("cpu_count":[)" + zeros(22) + R"(,0,1],"ram_count":[)" + zeros(22) + R"(,2,0],)"
                      R"("count":[)" + zeros(22) + ",2,1]}"),
            std::string::npos)
      << json;
}

TEST(SnapshotJson, PeaksAndCountsAreAddedToEveryWindowOnRequest) {
  shm::Snapshot snapshot = empty_snapshot(2);
  snapshot.last_days.buckets[1] = {metric(3, 40, 100), metric(1, 20, 20)};
  const std::string peaked = render(snapshot, {.counts = false, .peaks = true});
  EXPECT_EQ(peaked.substr(peaked.find(R"("last_2_days")")),
            R"("last_2_days":{"start":1793404800,"step":86400,"cpu":[null,40],"ram":[null,20],)"
            R"("cpu_max":[null,100],"ram_max":[null,20]}})");
  const std::string counted = render(snapshot, {.counts = true, .peaks = false});
  EXPECT_EQ(counted.substr(counted.find(R"("last_2_days")")),
            R"("last_2_days":{"start":1793404800,"step":86400,"cpu":[null,40],"ram":[null,20],)"
            R"("cpu_count":[0,3],"ram_count":[0,1],"count":[0,3]}})");
  const std::string both = render(snapshot, {.counts = true, .peaks = true});
  EXPECT_EQ(both.substr(both.find(R"("last_2_days")")),
            R"("last_2_days":{"start":1793404800,"step":86400,"cpu":[null,40],"ram":[null,20],)"
            R"("cpu_max":[null,100],"ram_max":[null,20],"cpu_count":[0,3],"ram_count":[0,1],"count":[0,3]}})");
  for (const char* window : {"last_60_minutes", "last_24_hours"}) {
    const std::size_t at = both.find(window);
    ASSERT_NE(at, std::string::npos) << window;
    const std::string body = both.substr(at, both.find('}', at) - at);
    for (const char* key : {"\"cpu_max\":[", "\"ram_max\":[", "\"cpu_count\":[", "\"ram_count\":[", "\"count\":["}) {
      EXPECT_NE(body.find(key), std::string::npos) << window << " " << key;
    }
  }
}

TEST(SnapshotJson, NonFiniteMeansAreNullNeverNanOrInf) {
  shm::Snapshot snapshot = empty_snapshot();
  snapshot.last_60_minutes.buckets[59] = {metric(1, std::numeric_limits<double>::infinity(), 1),
                                          metric(1, std::nan(""), 1)};
  EXPECT_EQ(render(snapshot), render(empty_snapshot()));
}

TEST(SnapshotJson, AppendsToWhatIsInTheBuffer) {
  fmt::memory_buffer out;
  out.push_back('[');
  append_snapshot_json(empty_snapshot(), out);
  EXPECT_EQ(fmt::to_string(out), "[" + render(empty_snapshot()));
}

}  // namespace
}  // namespace servertrack::common
