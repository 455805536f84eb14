#include "agent/log.h"

#include <cstdio>

namespace servertrack::agent {

void log_line(std::string_view line) {
  std::fprintf(stderr, "servertrack-agent: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace servertrack::agent
