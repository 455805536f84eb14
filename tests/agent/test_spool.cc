// The agent's spool on disk (agent/spool.h): samples survive reopening and a
// SIGKILLed writer, stay oldest first and bounded, and a torn or corrupt last
// record (a crash in the middle of an append) is dropped without losing the
// records before it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "agent/spool.h"

namespace servertrack::agent {
namespace {

constexpr const char* kName = "web-01.example.com";

Sample sample_at(std::int64_t time) {
  return Sample{time, 0.5 + static_cast<double>(time % 100), 100.0 / static_cast<double>(time % 7 + 1)};
}

std::vector<Sample> samples_from(std::int64_t first, std::int64_t count) {
  std::vector<Sample> samples;
  for (std::int64_t time = first; time < first + count; ++time) samples.push_back(sample_at(time));
  return samples;
}

std::vector<Sample> held(const Spool& spool) {
  const std::span<const Sample> all = spool.oldest(spool.size());
  return {all.begin(), all.end()};
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("servertrack-agent-spool-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path file() const { return dir_ / kName; }
  std::uintmax_t file_size() const { return std::filesystem::file_size(file()); }
  void fill(std::int64_t first, std::int64_t count, std::size_t capacity = 1440) {
    Spool spool(dir_, kName, capacity);
    for (const Sample& sample : samples_from(first, count)) spool.append(sample);
  }

  std::filesystem::path dir_;
};

TEST_F(SpoolTest, StartsEmptyAndCreatesItsDirectoryPrivate) {
  Spool spool(dir_, kName, 10);
  EXPECT_TRUE(spool.empty());
  EXPECT_EQ(spool.dropped_when_opened(), 0u);
  EXPECT_EQ(std::filesystem::status(dir_).permissions(), std::filesystem::perms::owner_all);
}

TEST_F(SpoolTest, SamplesSurviveReopeningOldestFirst) {
  fill(1000, 5);
  Spool spool(dir_, kName, 1440);
  EXPECT_EQ(held(spool), samples_from(1000, 5));
  EXPECT_EQ(file_size(), 5 * sizeof(SpoolRecord));
}

TEST_F(SpoolTest, RemovedSamplesStayRemoved) {
  fill(1000, 5);
  {
    Spool spool(dir_, kName, 1440);
    spool.remove_oldest(2);
    EXPECT_EQ(held(spool), samples_from(1002, 3));
    spool.append(sample_at(1005));
  }
  Spool spool(dir_, kName, 1440);
  EXPECT_EQ(held(spool), samples_from(1002, 4));
  spool.remove_oldest(4);
  EXPECT_TRUE(spool.empty());
  EXPECT_EQ(file_size(), 0u);
}

TEST_F(SpoolTest, AFullSpoolDropsItsOldest) {
  Spool spool(dir_, kName, 3);
  for (const Sample& sample : samples_from(1000, 3)) EXPECT_EQ(spool.append(sample), 0u);
  EXPECT_EQ(spool.append(sample_at(1003)), 1u);
  EXPECT_EQ(held(spool), samples_from(1001, 3));
  EXPECT_EQ(file_size(), 3 * sizeof(SpoolRecord));
}

TEST_F(SpoolTest, OpeningWithASmallerCapacityKeepsTheNewest) {
  fill(1000, 10);
  {
    Spool spool(dir_, kName, 4);
    EXPECT_EQ(held(spool), samples_from(1006, 4));
  }
  Spool spool(dir_, kName, 10);
  EXPECT_EQ(held(spool), samples_from(1006, 4));
}

TEST_F(SpoolTest, ATornLastRecordIsDroppedAndTheRestKept) {
  fill(1000, 3);
  // A crash in the middle of an append left 13 bytes of a fourth record.
  const SpoolRecord torn = spool_record(sample_at(1003));
  std::ofstream(file(), std::ios::binary | std::ios::app).write(reinterpret_cast<const char*>(&torn), 13);
  {
    Spool spool(dir_, kName, 1440);
    EXPECT_EQ(spool.dropped_when_opened(), 1u);
    EXPECT_EQ(held(spool), samples_from(1000, 3));
    EXPECT_EQ(file_size(), 3 * sizeof(SpoolRecord));
    // Appends after it are aligned again.
    spool.append(sample_at(1004));
  }
  Spool spool(dir_, kName, 1440);
  EXPECT_EQ(spool.dropped_when_opened(), 0u);
  std::vector<Sample> expected = samples_from(1000, 3);
  expected.push_back(sample_at(1004));
  EXPECT_EQ(held(spool), expected);
}

TEST_F(SpoolTest, ALastRecordOfZerosOrFlippedBitsIsDropped) {
  // A power loss can leave the file longer than the data that reached the disk.
  fill(1000, 3);
  const std::vector<char> zeros(sizeof(SpoolRecord), 0);
  std::ofstream(file(), std::ios::binary | std::ios::app).write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  {
    Spool spool(dir_, kName, 1440);
    EXPECT_EQ(spool.dropped_when_opened(), 1u);
    EXPECT_EQ(held(spool), samples_from(1000, 3));
  }
  {
    std::fstream bytes(file(), std::ios::binary | std::ios::in | std::ios::out);
    bytes.seekp(2 * sizeof(SpoolRecord) + offsetof(SpoolRecord, cpu) + 3);
    bytes.put('\x5a');
  }
  Spool spool(dir_, kName, 1440);
  EXPECT_EQ(spool.dropped_when_opened(), 1u);
  EXPECT_EQ(held(spool), samples_from(1000, 2));
}

TEST_F(SpoolTest, ALeftoverRewriteFileFromACrashIsIgnored) {
  fill(1000, 3);
  std::ofstream(dir_ / ".rewrite", std::ios::binary) << "half a rewrite";
  Spool spool(dir_, kName, 1440);
  EXPECT_EQ(held(spool), samples_from(1000, 3));
  spool.remove_oldest(1);
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".rewrite"));
}

TEST_F(SpoolTest, ASecondAgentOnTheSameDirectoryIsRefused) {
  Spool first(dir_, kName, 10);
  try {
    Spool second(dir_, "other", 10);
    FAIL() << "the second spool opened";
  } catch (const std::system_error& error) {
    EXPECT_NE(std::string(error.what()).find("another servertrack-agent"), std::string::npos);
  }
}

TEST_F(SpoolTest, EverySampleAppendedBeforeASigkillIsThere) {
  // A child appends and reports each sample through a pipe once append() has
  // returned; it is SIGKILLed mid-stream. Every reported sample must be on disk.
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    Spool spool(dir_, kName, 100000);
    for (std::int64_t time = 1000;; ++time) {
      spool.append(sample_at(time));
      if (::write(report[1], &time, sizeof time) != sizeof time) ::_exit(1);
    }
  }
  ::close(report[1]);
  std::int64_t last = 0;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(::read(report[0], &last, sizeof last), static_cast<ssize_t>(sizeof last));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ::close(report[0]);

  Spool spool(dir_, kName, 100000);
  ASSERT_GE(spool.size(), static_cast<std::size_t>(last - 1000 + 1));
  EXPECT_EQ(held(spool), samples_from(1000, static_cast<std::int64_t>(spool.size())));
}

}  // namespace
}  // namespace servertrack::agent
