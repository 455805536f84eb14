// SampleParser::parse() as the ingest route calls it, for tests: the body is
// copied into a buffer of exactly its size plus kParserPadding bytes (so ASan
// sees a read past the padding in instrumented code), the padding filled with
// '9's, which would change a number if the parser read them as part of it.
//
// Called by the fuzz target and the parser's unit tests, on their thread.
// Allocates one buffer per call.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "ingest/sample_parser.h"

namespace servertrack::fuzz {

inline ingest::ParsedSample parse_padded(ingest::SampleParser& parser, std::string_view body) {
  std::vector<char> buffer(body.size() + ingest::kParserPadding, '9');
  std::copy(body.begin(), body.end(), buffer.begin());
  return parser.parse({buffer.data(), body.size()});
}

}  // namespace servertrack::fuzz
