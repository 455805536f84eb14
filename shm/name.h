// Public: used by the workers, the agent and shmtool.
// Server names: the rule, its sentence, and the hash that places names in the
// table.
//
// The rule (docs/design.md, "The HTTP contract"): 1 to 253 bytes of A-Z a-z 0-9 _ . -, starting with a
// letter, digit or underscore; case-sensitive. Host names (web-01,
// db-2.prod.example.com) are valid as they are. Every message and document
// that states the rule uses kNameRule.
// Pure functions, callable from any process or thread; O(length), no allocation.
// The hash is part of the segment layout: changing it needs a new kLayoutVersion.
#pragma once

#include <cstdint>
#include <string_view>

namespace servertrack::shm {

inline constexpr const char* kNameRule =
    "1 to 253 characters of A-Z, a-z, 0-9, _, . and -, starting with a letter, digit or _";

bool is_valid_name(std::string_view name) noexcept;

std::uint64_t hash_name(std::string_view name) noexcept;

}  // namespace servertrack::shm
