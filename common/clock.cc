#include "common/clock.h"

#include <chrono>

namespace servertrack::common {

std::int64_t wall_clock_unix_seconds() noexcept {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

double wall_clock_seconds() noexcept {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace servertrack::common
