#include "shm/huge_pages.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1 uapi; glibc 2.36 headers predate it
#endif

namespace servertrack::shm {

void* reserve_huge_aligned(std::uint64_t bytes) noexcept {
  const std::uint64_t padded = bytes + kHugePageBytes;
  void* reserved = ::mmap(nullptr, padded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) return nullptr;
  auto* first = static_cast<char*>(reserved);
  auto* aligned = reinterpret_cast<char*>(
      (reinterpret_cast<std::uintptr_t>(first) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
  if (aligned > first) ::munmap(first, static_cast<std::size_t>(aligned - first));
  char* end = aligned + bytes;
  if (first + padded > end) ::munmap(end, static_cast<std::size_t>(first + padded - end));
  return aligned;
}

std::string back_with_huge_pages(void* view, std::uint64_t bytes) {
  const std::uint64_t whole = bytes / kHugePageBytes * kHugePageBytes;
  if (whole == 0) return "4 KiB pages (smaller than one 2 MiB page)";
  if (reinterpret_cast<std::uintptr_t>(view) % kHugePageBytes != 0) {
    return "4 KiB pages (no 2 MiB-aligned address space for the view)";
  }
  if (::madvise(view, whole, MADV_COLLAPSE) != 0) {
    return std::string("4 KiB pages, at least in part (MADV_COLLAPSE: ") + std::strerror(errno) + ")";
  }
  return "2 MiB pages";
}

}  // namespace servertrack::shm
