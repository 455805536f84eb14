// The agent's sample JSON (agent/sample.h): the longest sample stays within
// kMaxSampleJsonBytes, so kBatchSamples of them always fit the appliance's
// 64 KiB body limit (agent/appliance_client.h); prints what an array of
// kBatchSamples usual samples weighs (docs/design.md, "The agent", quotes both).
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <vector>

#include "agent/appliance_client.h"
#include "agent/proc_load.h"
#include "agent/sample.h"
#include "http/request_body.h"

namespace servertrack::agent {
namespace {

TEST(SampleJson, TheLongestSamplesStayWithinTheBound) {
  const double longest_numbers[] = {1.2345678901234567e-100, std::numeric_limits<double>::denorm_min(),
                                    2.2250738585072014e-308, 99.99999999999999, 12.345678901234567,
                                    0.00012345678901234567};
  for (const double number : longest_numbers) {
    for (const std::int64_t time : {std::numeric_limits<std::int64_t>::min(), std::int64_t{1795894560}}) {
      const std::string json = sample_json(Sample{time, number, number});
      EXPECT_LE(json.size(), kMaxSampleJsonBytes) << json;
    }
  }
  const std::string longest = sample_json(
      Sample{std::numeric_limits<std::int64_t>::min(), 1.2345678901234567e-100, 2.2250738585072014e-308});
  EXPECT_EQ(longest.size(), kMaxSampleJsonBytes) << longest;
}

TEST(SampleJson, ABatchOfTheLongestSamplesFitsTheBodyLimit) {
  const std::vector<Sample> longest(kBatchSamples, Sample{std::numeric_limits<std::int64_t>::min(),
                                                          1.2345678901234567e-100, 2.2250738585072014e-308});
  const std::string body = samples_json(longest);
  EXPECT_LE(body.size(), http::kMaxBodyBytes);
  // Usual samples: busy ticks over an interval's ticks, used over total memory.
  std::vector<Sample> usual;
  for (std::size_t i = 0; i < kBatchSamples; ++i) {
    const CpuTimes before{1000 * i, 10000 * i};
    const CpuTimes after{1000 * i + 37 + i % 991, 10000 * i + 6000 + i % 7};
    usual.push_back(Sample{1795894560 + 60 * static_cast<std::int64_t>(i), *cpu_busy_percent(before, after),
                           100.0 * static_cast<double>(16303472 - 9876543 - i) / 16303472.0});
  }
  const std::string usual_body = samples_json(usual);
  std::printf("an array of %zu samples: %zu bytes at most, %zu bytes for usual ones (%s)\n", kBatchSamples,
              body.size(), usual_body.size(), sample_json(usual[1]).c_str());
  EXPECT_LT(usual_body.size(), body.size());
}

}  // namespace
}  // namespace servertrack::agent
