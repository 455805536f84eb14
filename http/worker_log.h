// Every line a worker writes to its log (stderr): the supervisor's format, so
// one stream reads as one log (journald takes the lines as they are):
//
//   servertrack [2026-11-30 23:59:01.123] ingest#2 pid 4242: listening on http://127.0.0.1:8889
//
// UTC time with milliseconds, the worker's kind and number (--worker-id) and
// its pid. One write(2) per line, so lines of several threads and processes
// sharing the stream never interleave.
//
// set_log_identity() once from main's thread before other threads start;
// log_line() from any thread; cold path (one small string per line).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace servertrack::http {

// e.g. ("ingest", 2) -> lines say "ingest#2".
void set_log_identity(std::string_view kind, int worker_id);

// The prefix up to and including "pid N: " for the current wall-clock time.
std::string log_prefix();

void write_log_line(std::string line);

template <typename... Args>
void log_line(fmt::format_string<Args...> format, Args&&... args) {
  std::string line = log_prefix();
  fmt::format_to(std::back_inserter(line), format, std::forward<Args>(args)...);
  write_log_line(std::move(line));
}

}  // namespace servertrack::http
