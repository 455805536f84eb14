// A JSON string literal for any bytes: the one escaper of the workers' JSON
// (error bodies, /healthz, batch answers, /servers) and of shmtool's --json.
//
// Pure function; any thread; allocates the returned string.
#pragma once

#include <string>
#include <string_view>

namespace servertrack::common {

// `text` as a JSON string literal, quotes included; control characters and
// non-ASCII bytes are escaped, so any input gives valid ASCII JSON.
std::string json_string(std::string_view text);

}  // namespace servertrack::common
