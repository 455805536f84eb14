// The remedies shmtool and the workers add to the segment's errors: each kind
// a person can fix gets its command, the others stay as the segment said them.
#include <gtest/gtest.h>

#include <string>

#include "common/segment_advice.h"

namespace servertrack::common {
namespace {

using Kind = shm::SegmentError::Kind;

std::string advice(Kind kind, std::uint64_t capacity_found = 0) {
  return with_remedy(shm::SegmentError(kind, "st_x", "segment 'st_x' facts", capacity_found));
}

TEST(SegmentAdviceTest, AnAbsentSegmentGetsTheCreateCommand) {
  EXPECT_EQ(advice(Kind::absent), "segment 'st_x' facts; create it with `shmtool create --segment st_x`");
}

TEST(SegmentAdviceTest, AnIncompatibleSegmentGetsTheRecreateCommand) {
  EXPECT_EQ(advice(Kind::incompatible),
            "segment 'st_x' facts; `shmtool create --segment st_x --force` recreates it (its data is lost; "
            "`shmtool dump` first keeps it)");
}

TEST(SegmentAdviceTest, AnotherCapacityAlsoGetsTheCapacityToRunWith) {
  EXPECT_EQ(advice(Kind::incompatible, 16),
            "segment 'st_x' facts (or run with --capacity 16); `shmtool create --segment st_x --force` recreates "
            "it (its data is lost; `shmtool dump` first keeps it)");
}

TEST(SegmentAdviceTest, AnotherNamespaceAndTooLittleSpaceSayWhereToRun) {
  EXPECT_EQ(advice(Kind::other_namespace),
            "segment 'st_x' facts; run the workers and shmtool in the creator's namespace (e.g. the same container)");
  EXPECT_EQ(advice(Kind::no_space), "segment 'st_x' facts; choose a smaller --capacity or enlarge /dev/shm");
}

TEST(SegmentAdviceTest, WhatNobodyCanFixStaysAsTheSegmentSaidIt) {
  EXPECT_EQ(advice(Kind::exists), "segment 'st_x' facts");
  EXPECT_EQ(advice(Kind::system), "segment 'st_x' facts");
}

TEST(SegmentAdviceTest, OnlyABusySlotGetsAdvice) {
  const std::string busy = with_remedy(shm::Status::busy);
  EXPECT_EQ(busy.rfind(shm::describe(shm::Status::busy), 0), 0u) << busy;
  EXPECT_NE(busy.find("retry shortly"), std::string::npos) << busy;
  EXPECT_NE(busy.find("`shmtool check`"), std::string::npos) << busy;
  EXPECT_EQ(with_remedy(shm::Status::not_found), shm::describe(shm::Status::not_found));
}

}  // namespace
}  // namespace servertrack::common
