// Server names: validation and the hash that places them in the table.
//
// A name is 1 to 64 characters of [A-Za-z0-9_], case-sensitive (docs/design.md).
// Pure functions, callable from any process or thread; O(length), no allocation.
// The hash is part of the segment layout: changing it needs a new kLayoutVersion.
#pragma once

#include <cstdint>
#include <string_view>

namespace servertrack::shm {

bool is_valid_name(std::string_view name) noexcept;

std::uint64_t hash_name(std::string_view name) noexcept;

}  // namespace servertrack::shm
