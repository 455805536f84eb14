#include "agent/problem_log.h"

#include <fmt/format.h>

#include <iterator>

#include "agent/log.h"

namespace servertrack::agent {
namespace {

constexpr auto kQuietFor = std::chrono::minutes(1);

}  // namespace

void ProblemLog::report(const DeliveryResult& result, std::string_view fate) {
  const auto now = std::chrono::steady_clock::now();
  const bool same_problem = result.detail == last_detail_;
  if (same_problem && now - last_written_ < kQuietFor && result.delivery != Delivery::untrusted) {
    ++unwritten_;
    return;
  }
  std::string line = fmt::format("{}: {}; {}", result.detail, result.remedy, fate);
  if (same_problem && unwritten_ > 0) {
    fmt::format_to(std::back_inserter(line), " ({} more tries failed alike since the last line)", unwritten_);
  }
  log_error(line);
  last_detail_ = result.detail;
  last_written_ = now;
  unwritten_ = 0;
}

void ProblemLog::delivered() {
  last_detail_.clear();
  unwritten_ = 0;
}

}  // namespace servertrack::agent
