#include "query/server_list.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <vector>

#include "common/json_string.h"
#include "http/json_error.h"
#include "shm/name.h"

namespace servertrack::query {
namespace {

struct Listed {
  std::string_view name;  // in the segment; a published name never changes
  std::int64_t last_sample;
};

// "" or a prefix of some valid name.
bool is_name_or_empty(std::string_view text) { return text.empty() || shm::is_valid_name(text); }

}  // namespace

std::variant<ServerListQuery, std::string> parse_server_list_query(const httplib::Request& request) {
  for (const char* key : {"prefix", "after", "limit"}) {
    if (request.get_param_value_count(key) > 1) {
      return std::string("give the parameter ") + key + " at most once";
    }
  }
  ServerListQuery query;
  query.prefix = request.get_param_value("prefix");
  query.after = request.get_param_value("after");
  if (!is_name_or_empty(query.prefix)) {
    return std::string("prefix must be up to 64 characters of A-Z, a-z, 0-9 and _");
  }
  if (!is_name_or_empty(query.after)) {
    return std::string("after must be a server name (the next_after of the previous page)");
  }
  if (request.has_param("limit")) {
    const std::string limit = request.get_param_value("limit");
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(limit.data(), limit.data() + limit.size(), value);
    if (limit.empty() || error != std::errc() || end != limit.data() + limit.size() || value < 1 ||
        value > kMaxListLimit) {
      return "limit must be a whole number from 1 to " + std::to_string(kMaxListLimit);
    }
    query.limit = value;
  }
  return query;
}

void append_server_list_json(const shm::Segment& segment, const ServerListQuery& query,
                             fmt::memory_buffer& out) {
  thread_local std::vector<Listed> matches;
  matches.clear();
  segment.for_each_server([&](const shm::ServerEntry& entry) {
    if (!entry.name.starts_with(query.prefix) || entry.name <= std::string_view(query.after)) return;
    matches.push_back({entry.name, entry.slot->last_sample_unix.load(std::memory_order_acquire)});
  });
  const auto by_name = [](const Listed& a, const Listed& b) { return a.name < b.name; };
  const std::size_t shown = std::min(matches.size(), query.limit);
  std::partial_sort(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(shown),
                    matches.end(), by_name);
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"servers\":[");
  for (std::size_t i = 0; i < shown; ++i) {
    fmt::format_to(it, "{}{{\"name\":{},\"last_sample\":{}}}", i > 0 ? "," : "",
                   common::json_string(matches[i].name), matches[i].last_sample);
  }
  fmt::format_to(it, "],\"next_after\":{}}}",
                 matches.size() > shown ? common::json_string(matches[shown - 1].name) : "null");
}

}  // namespace servertrack::query
