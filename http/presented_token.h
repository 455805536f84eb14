// The token a request presents, in the forms InfluxDB's clients send it as
// well as ours (README, "Exposing it safely"; docs/design.md, "Other agents"):
//   Authorization: Bearer <token>       (RFC 6750; ours, and InfluxDB v2's clients)
//   Authorization: Token <token>        (InfluxDB v2: Telegraf's outputs.influxdb_v2)
//   Authorization: Basic base64(user:<token>)  (InfluxDB v1's username/password;
//                                       the user is not looked at)
//   ?p=<token> with no Authorization    (InfluxDB v1's u/p query parameters)
// Schemes are compared without regard to case (RFC 9110).
//
// Called by the access check (http/access_policy.h) on event loop threads;
// no allocation once `decoded` (the caller's reused buffer, thread_local
// there) has grown to the longest Basic credentials seen.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace servertrack::http {

// `authorization`: the first Authorization header's value; `count`: how many
// came (more than one presents nothing); `password_parameter`: the query's
// `p`, "" when absent. The view points into `authorization`,
// `password_parameter` or `decoded`.
std::optional<std::string_view> presented_token(std::string_view authorization, std::size_t count,
                                                std::string_view password_parameter,
                                                std::string& decoded);

}  // namespace servertrack::http
