// The JSON error body of the HTTP contract: {"error": "<one sentence>"}.
//
// Called by request handlers of both workers, from the connection's thread.
// Cold path (error responses only): builds one small string.
#pragma once

#include <httplib.h>

#include <string_view>

#include "common/json_string.h"

namespace servertrack::http {

// Replaces the response's status and body with the JSON error body.
void set_json_error(httplib::Response& response, int status, std::string_view message);

}  // namespace servertrack::http
