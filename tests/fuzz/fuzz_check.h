// The one way a fuzz target reports a broken property: a message on stderr,
// then abort(), which libFuzzer records as a crash (with the input saved) and
// the corpus replay (replay_main.cc) turns into a failing test.
//
// Called from LLVMFuzzerTestOneInput on the fuzzer's thread; cold path.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace servertrack::fuzz {

inline void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

}  // namespace servertrack::fuzz
