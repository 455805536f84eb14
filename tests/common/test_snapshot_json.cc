// append_snapshot_json: the JSON shape of GET /server/<name>, byte for byte.
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

std::string render(const shm::Snapshot& snapshot) {
  fmt::memory_buffer out;
  append_snapshot_json(snapshot, out);
  return fmt::to_string(out);
}

shm::Snapshot empty_snapshot() {
  shm::Snapshot snapshot;
  snapshot.last_60_minutes.start = 1795894560;
  snapshot.last_60_minutes.step = 60;
  snapshot.last_24_hours.start = 1795813200;
  snapshot.last_24_hours.step = 3600;
  return snapshot;
}

TEST(SnapshotJson, EmptyBucketsAreNull) {
  EXPECT_EQ(render(empty_snapshot()),
            R"({"last_60_minutes":{"start":1795894560,"step":60,"cpu":[)" + nulls(60) +
                R"(],"ram":[)" + nulls(60) +
                R"(]},"last_24_hours":{"start":1795813200,"step":3600,"cpu":[)" + nulls(24) +
                R"(],"ram":[)" + nulls(24) + "]}}");
}

TEST(SnapshotJson, MeansAreShortestRoundTripAndLastIsNewest) {
  shm::Snapshot snapshot = empty_snapshot();
  snapshot.last_60_minutes.buckets[59] = {.cpu = {2, 12.04}, .ram = {2, 0.1 + 0.2}};
  snapshot.last_60_minutes.buckets[0] = {.cpu = {1, 0}, .ram = {1, 1e300}};
  snapshot.last_24_hours.buckets[23] = {.cpu = {3, 100}, .ram = {3, 5e-324}};
  const std::string json = render(snapshot);
  EXPECT_NE(json.find(R"("cpu":[0,null,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("ram":[1e+300,null,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,12.04],"ram")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,0.30000000000000004]})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,100],"ram":[)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(null,5e-324]}})"), std::string::npos) << json;
}

TEST(SnapshotJson, NonFiniteMeansAreNullNeverNanOrInf) {
  shm::Snapshot snapshot = empty_snapshot();
  snapshot.last_60_minutes.buckets[59] = {
      .cpu = {1, std::numeric_limits<double>::infinity()}, .ram = {1, std::nan("")}};
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
