// Internal to shm/: only shm/*.cc and tests/shm include it.
// Backing the segment with 2 MiB pages.
//
// With 4 KiB pages a segment for 1,000,000 servers spans ~600,000 pages, far
// more than the TLB holds: every lookup of a random server pays a page walk on
// top of its cache misses, and the HTTP workers slow down by ~15%
// (tests/bench/http/README.md, "2 MiB pages"). MADV_COLLAPSE (Linux 6.1+)
// turns the object's page-cache pages into 2 MiB pages whatever /dev/shm's
// huge= mount option says; a process then maps them 2 MiB at a time if its
// view starts 2 MiB aligned, which reserve_huge_aligned() provides.
//
// back_with_huge_pages(): called once, by the creator, on its own view before
// the segment is published. Best effort: an older kernel or fragmented memory leaves (some)
// 4 KiB pages, which is slower but correct. Cost: ~2 s per GiB, once.
#pragma once

#include <cstdint>
#include <string>

namespace servertrack::shm {

inline constexpr std::uint64_t kHugePageBytes = 2 << 20;

// `view` maps the whole object (`bytes`, already allocated) read-write. Returns,
// for people, "2 MiB pages" or "4 KiB pages (why)".
std::string back_with_huge_pages(void* view, std::uint64_t bytes);

// An inaccessible reservation of `bytes` of address space starting 2 MiB
// aligned, for a MAP_FIXED mapping to replace; nullptr when none could be had.
// The caller unmaps it (or the mapping that replaced it).
void* reserve_huge_aligned(std::uint64_t bytes) noexcept;

}  // namespace servertrack::shm
