// The agent's reading of /proc/stat and /proc/meminfo (agent/proc_load.h):
// real-kernel text, older kernels with fewer fields, malformed files, and the
// readers against a fake proc root.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "agent/proc_load.h"

namespace servertrack::agent {
namespace {

// /proc/stat of a Linux 6 host, shortened.
constexpr const char* kProcStat =
    "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n"
    "cpu0 1393280 32966 572056 13366824 6021 0 4696 0 0 0\n"
    "intr 199292350 39 10 0 0 0 0 0 0 1 0 0\n"
    "ctxt 425009848\n";

TEST(ParseCpuTimes, SumsTheAggregateLineWithoutGuestTime) {
  const std::optional<CpuTimes> times = parse_cpu_times(kProcStat);
  ASSERT_TRUE(times);
  const std::uint64_t total = 10132153ull + 290696 + 3084719 + 46828483 + 16683 + 0 + 25195 + 0;
  EXPECT_EQ(times->total, total);
  EXPECT_EQ(times->busy, total - 46828483 - 16683);
}

TEST(ParseCpuTimes, AcceptsAnOldKernelWithFourFields) {
  const std::optional<CpuTimes> times = parse_cpu_times("cpu  1 2 3 4\n");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->total, 10u);
  EXPECT_EQ(times->busy, 6u);
}

TEST(ParseCpuTimes, RefusesMissingOrMalformedLines) {
  for (const char* text : {"", "cpu0 1 2 3 4\n", "cpu  1 2 3\n", "cpu  1 2 x 4\n", "cpu  1 2 3 -4\n",
                           "cpu  1 2 3 4x\n", "intr 1\ncpu1 5 5 5 5\n"}) {
    EXPECT_FALSE(parse_cpu_times(text)) << text;
  }
}

TEST(CpuBusyPercent, IsBusyTicksOverAllTicksBetweenReadings) {
  EXPECT_EQ(cpu_busy_percent({100, 1000}, {150, 1400}), 12.5);
  EXPECT_EQ(cpu_busy_percent({100, 1000}, {100, 1400}), 0.0);
  EXPECT_EQ(cpu_busy_percent({100, 1000}, {500, 1400}), 100.0);
}

TEST(CpuBusyPercent, NoElapsedTickOrARebootGivesNoValue) {
  EXPECT_FALSE(cpu_busy_percent({100, 1000}, {100, 1000}));
  EXPECT_FALSE(cpu_busy_percent({100, 1000}, {10, 200}));
}

TEST(CpuBusyPercent, BusyRunningBackwardsIsClampedToZero) {
  // iowait can run backwards on some kernels, which moves busy = total - idle.
  EXPECT_EQ(cpu_busy_percent({500, 1000}, {400, 1100}), 0.0);
}

TEST(ParseRamUsedPercent, IsTotalMinusAvailableOverTotal) {
  EXPECT_EQ(parse_ram_used_percent("MemTotal:       16000000 kB\n"
                                   "MemFree:         1000000 kB\n"
                                   "MemAvailable:   12000000 kB\n"
                                   "Buffers:          200000 kB\n"),
            25.0);
}

TEST(ParseRamUsedPercent, RefusesAnOldKernelOrAZeroTotal) {
  EXPECT_FALSE(parse_ram_used_percent("MemTotal: 1000 kB\nMemFree: 10 kB\n"));
  EXPECT_FALSE(parse_ram_used_percent("MemAvailable: 10 kB\n"));
  EXPECT_FALSE(parse_ram_used_percent("MemTotal: 0 kB\nMemAvailable: 0 kB\n"));
  EXPECT_FALSE(parse_ram_used_percent("MemTotal: lots\nMemAvailable: 1 kB\n"));
  // A key that merely starts like the wanted one does not count.
  EXPECT_FALSE(parse_ram_used_percent("MemTotalX: 1000 kB\nMemAvailable: 10 kB\n"));
}

TEST(ParseRamUsedPercent, MoreAvailableThanTotalIsZero) {
  EXPECT_EQ(parse_ram_used_percent("MemTotal: 1000 kB\nMemAvailable: 1200 kB\n"), 0.0);
}

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("servertrack-agent-proc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const char* file, const char* text) { std::ofstream(root_ / file) << text; }

  std::filesystem::path root_;
};

TEST_F(FakeProc, ReadsBothFiles) {
  write("stat", kProcStat);
  write("meminfo", "MemTotal: 2000 kB\nMemAvailable: 500 kB\n");
  EXPECT_EQ(read_cpu_times(root_).busy, parse_cpu_times(kProcStat)->busy);
  EXPECT_EQ(read_ram_used_percent(root_), 75.0);
}

TEST_F(FakeProc, MissingOrMalformedFilesThrowNamingTheFile) {
  try {
    read_cpu_times(root_);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find((root_ / "stat").string()), std::string::npos);
  }
  write("meminfo", "MemTotal: 2000 kB\n");
  try {
    read_ram_used_percent(root_);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("MemAvailable"), std::string::npos);
  }
}

}  // namespace
}  // namespace servertrack::agent
