// GET /alerts (README, "Alerts"): the alert process's state file
// (alert/alert_book.h) as it lies, narrowed to the servers the request's
// token may see. The query worker only reads the file (written by rename, so
// never half); it does not include alert/ (a layer beside it).
//
// Any connection thread; one read of the file (a few KiB per alert) and one
// parse per request.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace servertrack::query {

// `alerts_file` "": the appliance runs no alert process: {"evaluated_at":
// null,"rules":0,"alerts":[]}; the same with "rules":null while the file is
// not written yet. `prefix`: only alerts of servers named so.
void answer_alerts(const std::string& alerts_file, std::string_view prefix, httplib::Response& res);

}  // namespace servertrack::query
