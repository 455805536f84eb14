#include "http/clock.h"

#include <chrono>

namespace servertrack::http {

std::int64_t wall_clock_unix_seconds() noexcept {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace servertrack::http
