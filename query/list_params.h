// The query-string parameters the listing routes share (GET /servers,
// GET /fleet). Each parser stores the value (or leaves the default when the
// parameter is absent) and returns the sentence for a 400 body when it is bad.
//
// Called by the query worker's handlers on connection threads; cold path
// (a few string comparisons per request), allocates only error messages.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace servertrack::query {

inline constexpr std::size_t kDefaultListLimit = 100;
inline constexpr std::size_t kMaxListLimit = 1000;

using ParameterError = std::optional<std::string>;

// An error when one of `keys` is given more than once.
ParameterError repeated_parameter(const httplib::Request& request,
                                  std::initializer_list<const char*> keys);

// ?prefix=: "" (all) or the start of a valid server name.
ParameterError parse_prefix(const httplib::Request& request, std::string& prefix);

// ?limit=: 1..kMaxListLimit.
ParameterError parse_limit(const httplib::Request& request, std::size_t& limit);

// ?<key>=: a whole number from `min` to `max`.
ParameterError parse_whole_number(const httplib::Request& request, const char* key,
                                  std::int64_t min, std::int64_t max, std::int64_t& value);

}  // namespace servertrack::query
