// record() and snapshot() cost per call with 1,000 / 100,000 / 1,000,000
// servers in the segment, and the segment's bytes per server.
//
// Each size gets a fresh segment (capacity = servers / 0.9: the fingerprint
// array keeps probing cheap at 90% load, and README's sizing advice is the
// same), every server recorded once beforehand; created as the appliance does
// (2 MiB pages where the kernel gives them) and again with 4 KiB pages (the
// *_4k rows). Calls walk the
// first `touched` of the servers in a shuffled order: with touched == servers
// each call meets a slot that is, at large sizes, cold in cache and TLB as in
// production (a server posts once a minute); with touched == kHotServers the slots
// stay cached, which isolates the table's own growth from the memory
// hierarchy's. The segment is removed when the next size starts and at exit.
//
// slot_line is the floor the cold rows stand on: one dependent read of the
// first cache line of a random slot of the same segment, i.e. one cache and
// TLB miss and nothing else. A cold record() or snapshot() costs a few of
// these whatever the table does (a fingerprint line, the slot's lines).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "shm/segment.h"
#include "shm/segment_internals.h"

namespace {

using servertrack::shm::CreateOptions;
using servertrack::shm::Segment;
using servertrack::shm::Snapshot;
using servertrack::shm::Status;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;
constexpr std::int64_t kServerCounts[] = {1'000, 100'000, 1'000'000};
constexpr std::int64_t kHotServers = 1'000;

class FilledSegment {
 public:
  FilledSegment(std::int64_t servers, bool huge_pages)
      : servers_(servers),
        huge_pages_(huge_pages),
        segment_name_("st_bench_" + std::to_string(::getpid()) + "_" + std::to_string(servers)),
        segment_(Segment::create(options(segment_name_, servers, huge_pages))) {
    names_.reserve(static_cast<std::size_t>(servers));
    for (std::int64_t i = 0; i < servers; ++i) names_.push_back("srv" + std::to_string(i));
    std::shuffle(names_.begin(), names_.end(), std::mt19937_64(42));
    for (const std::string& name : names_) {
      if (segment_.record(name, 1, 1, kNow - 3600) != Status::ok) std::abort();
    }
  }
  FilledSegment(const FilledSegment&) = delete;
  FilledSegment& operator=(const FilledSegment&) = delete;
  ~FilledSegment() { Segment::remove(segment_name_); }

  std::int64_t servers() const { return servers_; }
  bool huge_pages() const { return huge_pages_; }
  Segment& segment() { return segment_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  static CreateOptions options(const std::string& name, std::int64_t servers, bool huge_pages) {
    CreateOptions o;
    o.name = name;
    o.capacity = static_cast<std::uint64_t>(servers) * 10 / 9;
    o.days = 30;
    o.huge_pages = huge_pages;
    return o;
  }

  std::int64_t servers_;
  bool huge_pages_;
  std::string segment_name_;
  Segment segment_;
  std::vector<std::string> names_;  // shuffled: consecutive calls hit unrelated slots
};

std::unique_ptr<FilledSegment> current;

// Benchmark arguments: {servers, touched, huge pages (1) or 4 KiB pages (0)}.
FilledSegment& filled(const benchmark::State& state) {
  const std::int64_t servers = state.range(0);
  const bool huge_pages = state.range(2) != 0;
  if (!current || current->servers() != servers || current->huge_pages() != huge_pages) {
    current.reset();  // one large segment in memory at a time
    current = std::make_unique<FilledSegment>(servers, huge_pages);
  }
  return *current;
}

void report_size(benchmark::State& state, FilledSegment& f) {
  const auto bytes = static_cast<double>(servertrack::shm::segment_bytes(f.segment().capacity(), f.segment().days()));
  state.counters["bytes_per_slot"] = bytes / static_cast<double>(f.segment().capacity());
  state.counters["bytes_per_server"] = bytes / static_cast<double>(f.servers());
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(f.segment().pages());
}

void BM_record(benchmark::State& state) {
  FilledSegment& f = filled(state);
  const auto& names = f.names();
  const auto touched = static_cast<std::size_t>(state.range(1));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.segment().record(names[i], 12.5, 40.25, kNow));
    if (++i == touched) i = 0;
  }
  report_size(state, f);
}

void BM_snapshot(benchmark::State& state) {
  FilledSegment& f = filled(state);
  const auto& names = f.names();
  const auto touched = static_cast<std::size_t>(state.range(1));
  Snapshot out;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.segment().snapshot(names[i], kNow, out));
    benchmark::ClobberMemory();
    if (++i == touched) i = 0;
  }
  report_size(state, f);
}

void BM_slot_line(benchmark::State& state) {
  FilledSegment& f = filled(state);
  const std::uint64_t capacity = f.segment().capacity();
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (auto _ : state) {
    // The next slot depends on the value just read, so the misses cannot overlap.
    const std::uint64_t seen =
        servertrack::shm::SegmentInternals::slot(f.segment(), x % capacity).seq.load(std::memory_order_relaxed);
    x ^= seen + 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  benchmark::DoNotOptimize(x);
  report_size(state, f);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("slot bytes (30 days)", std::to_string(servertrack::shm::slot_bytes(30)));
  benchmark::AddCustomContext("header bytes", std::to_string(servertrack::shm::segment_bytes(0, 30)));
  // Registered segment by segment so each is built once for all its rows;
  // the *_4k rows use a segment created with 4 KiB pages.
  for (const std::int64_t servers : kServerCounts) {
    for (const std::int64_t huge : {1, 0}) {
      const std::string suffix = huge ? "" : "_4k";
      benchmark::RegisterBenchmark(("record" + suffix).c_str(), BM_record)->Args({servers, servers, huge});
      benchmark::RegisterBenchmark(("snapshot" + suffix).c_str(), BM_snapshot)->Args({servers, servers, huge});
      benchmark::RegisterBenchmark(("slot_line" + suffix).c_str(), BM_slot_line)->Args({servers, 0, huge});
      if (servers > kHotServers) {
        benchmark::RegisterBenchmark(("record_hot" + suffix).c_str(), BM_record)->Args({servers, kHotServers, huge});
        benchmark::RegisterBenchmark(("snapshot_hot" + suffix).c_str(), BM_snapshot)
            ->Args({servers, kHotServers, huge});
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  current.reset();
  return 0;
}
