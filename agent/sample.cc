#include "agent/sample.h"

#include <fmt/format.h>

namespace servertrack::agent {

std::string sample_json(const Sample& sample) {
  return fmt::format(R"({{"cpu":{},"ram":{},"time":{}}})", sample.cpu, sample.ram, sample.time);
}

}  // namespace servertrack::agent
