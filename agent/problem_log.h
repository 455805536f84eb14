// The agent's lines about samples it could not deliver (docs/design.md, "The
// agent"): what happened, what to fix, and what became of the samples, as
// log_error() lines. The same problem (the same answer) is written at most
// once a minute, saying how many tries failed alike since its last line, so
// an outage at --interval 1 writes a line a minute; an untrusted TLS
// certificate is a configuration error written at every try. A delivery that
// succeeds ends the problem: the next one is written at once.
//
// Main thread only (the Reporter's).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "agent/appliance_client.h"

namespace servertrack::agent {

class ProblemLog {
 public:
  // `fate`: what became of the samples, e.g. "the sample of 1795894560 is spooled".
  void report(const DeliveryResult& result, std::string_view fate);
  void delivered();

 private:
  std::string last_detail_;
  std::chrono::steady_clock::time_point last_written_{};
  std::size_t unwritten_ = 0;  // tries that failed like last_detail_ since its line
};

}  // namespace servertrack::agent
