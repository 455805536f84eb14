// The one resource of the API, /server/<name>, as both workers route it.
//
// The route captures everything after "/server/" (cpp-httplib has already
// decoded %XX), so a name with '/', '.', spaces or non-ASCII reaches the
// handler and is refused there with 400 rather than falling through to 404.
// Any thread; no allocation.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "shm/name.h"

namespace servertrack::http {

inline constexpr const char* kServerRoute = "/server/(.*)";
inline const std::string kInvalidNameMessage = std::string("invalid server name; use ") + shm::kNameRule;

// The <name> of a request routed by kServerRoute (not yet validated).
inline std::string_view server_name(const httplib::Request& request) {
  return std::string_view(request.path).substr(std::string_view("/server/").size());
}

}  // namespace servertrack::http
