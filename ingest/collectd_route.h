// POST /collectd: collectd's write_http plugin with Format "JSON" (docs/design.md,
// "Other agents"; README, "Telegraf and collectd"; deploy/collectd/). The body is
// collectd's JSON array of value lists,
//   [{"values":[V],"dstypes":[..],"dsnames":[..],"time":T,"interval":I,"host":H,
//     "plugin":P,"plugin_instance":PI,"type":TY,"type_instance":TI}, ...]
// of which two kinds are samples (others, and null values, are ignored and
// counted in /metrics):
//   plugin "cpu", plugin_instance "" (ReportByCpu false), type "percent"
//     (ValuesPercentage true): type_instance "idle" -> cpu = 100 - V
//     ("active", with ReportByState false -> cpu = V);
//   plugin "memory", type "percent" (ValuesPercentage true): type_instance
//     "used" -> ram = V (collectd's used: total - free - buffers - cached - slab).
// H is the server's name, T (unix seconds, a fraction kept to the millisecond)
// the sample's time. Each value list is recorded or refused on its own
// (ingest/foreign_batch.h): 204, or 400 {"error": "partial write: ...",
// "written", "dropped"}; a body that is not such an array is 400 invalid_json.
//
// Added once by add_ingest_routes(); the handler runs on connection threads,
// each with its own reused body buffer and JSON parser.
#pragma once

#include <httplib.h>

#include <memory>

#include "ingest/ingest_state.h"

namespace servertrack::ingest {

void add_collectd_route(httplib::Server& server, std::shared_ptr<Ingest> ingest);

}  // namespace servertrack::ingest
