// libFuzzer target: http::frame_request(), the event loop's first look at the
// bytes a client sends (http/request_framer.h).
//
// Properties checked on every input (besides no crash, leak or UB):
// - a complete frame is a non-empty prefix of what was received, and framing
//   that prefix alone gives the same frame (the answer does not depend on
//   bytes of a following pipelined request);
// - a refusal carries 400, 413 or 431;
// - a frame never exceeds kMaxRequestBytes, and an incomplete one never
//   claims a length.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_framer.h"
#include "tests/fuzz/fuzz_check.h"

using servertrack::fuzz::require;
using servertrack::http::FrameStatus;
using servertrack::http::frame_request;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view received(reinterpret_cast<const char*>(data), size);
  const auto frame = frame_request(received);
  switch (frame.status) {
    case FrameStatus::complete: {
      require(frame.length > 0 && frame.length <= received.size(), "a frame lies inside the input");
      require(frame.length <= servertrack::http::kMaxRequestBytes, "a frame is bounded");
      const auto alone = frame_request(received.substr(0, frame.length));
      require(alone.status == FrameStatus::complete && alone.length == frame.length,
              "a frame does not depend on the bytes after it");
      break;
    }
    case FrameStatus::refused:
      require(frame.error_status == 400 || frame.error_status == 413 || frame.error_status == 431,
              "a refusal is 400, 413 or 431");
      break;
    case FrameStatus::incomplete:
      require(frame.length == 0, "an incomplete frame claims no length");
      break;
  }
  return 0;
}
