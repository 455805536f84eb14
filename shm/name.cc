#include "shm/name.h"

#include <cstring>

#include "shm/layout.h"

namespace servertrack::shm {

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    ((c == '.' || c == '-') && &c != name.data());
    if (!ok) return false;
  }
  return true;
}

namespace {

// The splitmix64 finalizer: every input bit affects every output bit.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

// Eight bytes at a time, each word mixed into the running state.
std::uint64_t hash_name(std::string_view name) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ name.size();
  std::size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, name.data() + i, 8);
    h = mix(h ^ word);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, name.data() + i, name.size() - i);
  return mix(h ^ tail ^ (std::uint64_t{name.size() - i} << 56));
}

}  // namespace servertrack::shm
