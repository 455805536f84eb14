#include "query/list_params.h"

#include <charconv>

#include "shm/name.h"

namespace servertrack::query {

ParameterError repeated_parameter(const httplib::Request& request,
                                  std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (request.get_param_value_count(key) > 1) {
      return std::string("give the parameter ") + key + " at most once";
    }
  }
  return std::nullopt;
}

ParameterError parse_prefix(const httplib::Request& request, std::string& prefix) {
  prefix = request.get_param_value("prefix");
  if (!prefix.empty() && !shm::is_valid_name(prefix)) {
    return std::string("prefix must be the start of a server name: ") + shm::kNameRule;
  }
  return std::nullopt;
}

ParameterError parse_whole_number(const httplib::Request& request, const char* key,
                                  std::int64_t min, std::int64_t max, std::int64_t& value) {
  if (!request.has_param(key)) return std::nullopt;
  const std::string text = request.get_param_value(key);
  std::int64_t parsed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || parsed < min ||
      parsed > max) {
    return std::string(key) + " must be a whole number from " + std::to_string(min) + " to " +
           std::to_string(max);
  }
  value = parsed;
  return std::nullopt;
}

ParameterError parse_limit(const httplib::Request& request, std::size_t& limit) {
  std::int64_t value = static_cast<std::int64_t>(limit);
  ParameterError error =
      parse_whole_number(request, "limit", 1, static_cast<std::int64_t>(kMaxListLimit), value);
  limit = static_cast<std::size_t>(value);
  return error;
}

}  // namespace servertrack::query
