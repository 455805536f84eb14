// The dashboard page (query/dashboard/index.html), compiled into the binary.
//
// Called by the query worker's `GET /` handler, from any thread. The bytes live
// in read-only static storage, generated at build time by embed_html.py; the
// call costs nothing and never fails. The page is UTF-8 HTML, served as
// `text/html; charset=utf-8`.
#pragma once

#include <string_view>

namespace servertrack::query {

std::string_view dashboard_html();

}  // namespace servertrack::query
