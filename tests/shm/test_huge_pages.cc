// A segment created with huge pages is mapped 2 MiB at a time by every
// process that attaches it: the kernel's own accounting (/proc/<pid>/smaps,
// ShmemPmdMapped) of a forked process's attach says so.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "shm/huge_pages.h"
#include "shm/segment_internals.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

// A mapping's first line in smaps: "<start>-<end> perms offset dev inode path".
bool is_range_line(const std::string& line) {
  const std::string first = line.substr(0, line.find(' '));
  return first.find('-') != std::string::npos &&
         first.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

// ShmemPmdMapped of the mapping that starts at `start`, in bytes; -1 if absent.
long long pmd_mapped_bytes(const void* start) {
  std::ifstream smaps("/proc/self/smaps");
  std::ostringstream prefix;
  prefix << std::hex << reinterpret_cast<std::uintptr_t>(start) << "-";
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    if (is_range_line(line)) {
      inside = line.starts_with(prefix.str());
    } else if (inside && line.starts_with("ShmemPmdMapped:")) {
      return std::stoll(line.substr(15)) * 1024;
    }
  }
  return -1;
}

TEST(HugePagesTest, AnAttachingProcessMapsTheSegmentIn2MiBPages) {
  TestSegment created(20000);  // 90.4 MiB
  if (created->pages() != "2 MiB pages") GTEST_SKIP() << "no 2 MiB pages here: " << created->pages();
  const std::uint64_t whole = segment_bytes(20000, 0) / kHugePageBytes * kHugePageBytes;
  const pid_t child = run_child([&] {
    Segment attached = Segment::attach({.name = created.name(), .access = Access::read_only});
    const auto* bytes = reinterpret_cast<const volatile char*>(&SegmentInternals::header(attached));
    int sum = 0;
    for (std::uint64_t at = 0; at < segment_bytes(20000, 0); at += 4096) sum += bytes[at];  // fault every page in
    const long long mapped = pmd_mapped_bytes(&SegmentInternals::header(attached));
    if (mapped != static_cast<long long>(whole)) {
      std::fprintf(stderr, "ShmemPmdMapped %lld bytes, expected %llu (sum %d)\n", mapped,
                   static_cast<unsigned long long>(whole), sum);
      return 1;
    }
    return 0;
  });
  EXPECT_EQ(wait_child(child, std::chrono::seconds(30)), 0);
}

TEST(HugePagesTest, ASegmentAskedFor4KiBPagesSaysSo) {
  CreateOptions options;
  options.name = unique_segment_name();
  options.capacity = 20000;
  options.days = 30;
  options.huge_pages = false;
  Segment segment = Segment::create(options);
  EXPECT_EQ(segment.pages(), "4 KiB pages (as asked)");
  Segment::remove(options.name);
}

}  // namespace
}  // namespace servertrack::shm::test
