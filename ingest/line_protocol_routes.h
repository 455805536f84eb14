// InfluxDB's write API on the ingest port, for Telegraf, the influx CLI and
// every client of InfluxDB (docs/design.md, "Other agents"; README, "Telegraf
// and collectd"):
//   POST /write          v1: ?db= (any, not required), ?precision=ns|u|ms|s|m|h
//                        (default ns), the token as ?p=, Basic or Bearer/Token
//   POST /api/v2/write   v2: ?org= ?bucket= (any), ?precision=ns|us|ms|s
//                        (default ns), Authorization: Token <token>
//   GET|HEAD /ping       204 (open, like InfluxDB's)
//   GET|POST /query      q=CREATE DATABASE ... answered as InfluxDB does, so a
//                        client that creates its database starts; any other
//                        statement: 400, ServerTrack stores no series to query
// The body (gzip or not, 64 KiB on the wire, at most 1 MiB once inflated) is
// line protocol (ingest/line_protocol.h); each line maps to a sample or to
// nothing (ingest/line_sample.h) and is recorded or refused on its own
// (ingest/foreign_batch.h): 204 when no line was refused, else 400 with the
// first refusal and the counts, v1 as {"error": ...}, v2 as {"code":
// "invalid", "message": ...}.
//
// Added once by add_ingest_routes(); handlers run on connection threads,
// each with its own reused body buffer.
#pragma once

#include <httplib.h>

#include <memory>

#include "ingest/ingest_state.h"

namespace servertrack::ingest {

// The largest body once inflated.
inline constexpr std::size_t kMaxLineProtocolBytes = 1024 * 1024;

void add_line_protocol_routes(httplib::Server& server, std::shared_ptr<Ingest> ingest);

}  // namespace servertrack::ingest
