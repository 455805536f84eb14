// Time and duration parameters of the Prometheus HTTP API, read as Prometheus
// reads them: a time is unix seconds with a fraction ("1700000000.5") or
// RFC 3339 ("2023-11-14T22:13:20.5Z", "...+01:00"); a duration is seconds
// ("60", "0.5") or a Prometheus duration ("1m", "1h30m", "500ms"; units ms s m
// h d w y). Both are returned in whole milliseconds, rounded toward zero.
//
// Pure functions; any thread; cold path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace servertrack::query {

// Times from year 0 to 9999 and durations up to 10,000 years fit; beyond, nullopt.
std::optional<std::int64_t> parse_time_ms(std::string_view text);
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

}  // namespace servertrack::query
