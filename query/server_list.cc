#include "query/server_list.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json_string.h"
#include "http/answer.h"
#include "query/list_params.h"
#include "shm/name.h"

namespace servertrack::query {
namespace {

struct Listed {
  std::size_t name_at;  // in the page's name arena: a slot may be reused meanwhile
  std::size_t name_length;
  std::int64_t last_sample;
};

}  // namespace

std::variant<ServerListQuery, std::string> parse_server_list_query(const httplib::Request& request) {
  ServerListQuery query;
  ParameterError error = repeated_parameter(request, {"prefix", "after", "limit"});
  if (!error) error = parse_prefix(request, query.prefix);
  if (!error) error = parse_limit(request, query.limit);
  if (error) return *error;
  query.after = request.get_param_value("after");
  if (!query.after.empty() && !shm::is_valid_name(query.after)) {
    return std::string("after must be a server name (the next_after of the previous page)");
  }
  return query;
}

void append_server_list_json(const shm::Segment& segment, const ServerListQuery& query,
                             fmt::memory_buffer& out) {
  thread_local std::vector<Listed> matches;
  thread_local std::string names;
  matches.clear();
  names.clear();
  segment.for_each_server(
      [&](const shm::ServerEntry& entry) {
        if (!entry.name.starts_with(query.prefix) || entry.name <= std::string_view(query.after)) return;
        matches.push_back({names.size(), entry.name.size(), entry.last_sample_unix});
        names.append(entry.name);
      },
      common::wall_clock_unix_seconds());
  const auto name = [&](const Listed& listed) {
    return std::string_view(names).substr(listed.name_at, listed.name_length);
  };
  const auto by_name = [&](const Listed& a, const Listed& b) { return name(a) < name(b); };
  const std::size_t shown = std::min(matches.size(), query.limit);
  std::partial_sort(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(shown),
                    matches.end(), by_name);
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"servers\":[");
  for (std::size_t i = 0; i < shown; ++i) {
    fmt::format_to(it, "{}{{\"name\":{},\"last_sample\":{}}}", i > 0 ? "," : "",
                   common::json_string(name(matches[i])), matches[i].last_sample);
  }
  fmt::format_to(it, "],\"next_after\":{}}}",
                 matches.size() > shown ? common::json_string(name(matches[shown - 1])) : "null");
}

}  // namespace servertrack::query
