#include "agent/sample.h"

#include <fmt/format.h>

namespace servertrack::agent {

std::string sample_json(const Sample& sample) {
  return fmt::format(R"({{"cpu":{},"ram":{},"time":{}}})", sample.cpu, sample.ram, sample.time);
}

std::string samples_json(std::span<const Sample> samples) {
  std::string body = "[";
  for (const Sample& sample : samples) {
    if (body.size() > 1) body += ',';
    body += sample_json(sample);
  }
  body += ']';
  return body;
}

}  // namespace servertrack::agent
