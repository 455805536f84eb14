// shmtool's sentences for the broken invariants of one server's data
// (shm/invariants.h states and checks the rules), shared by `shmtool check`
// (on the live segment), `dump` and the snapshot reader (on a dump file), so
// all of them accept exactly the same data and say the same of it.
//
// Pure function; any thread; allocates only for the texts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/invariants.h"
#include "shm/segment.h"

namespace servertrack::cli {

// The sentence of one broken invariant of `data`, judged at `now`.
std::string describe_problem(const shm::DataProblem& problem, const shm::SlotCopy& data, std::int64_t now);

// One sentence per broken invariant (shm::data_problems()), empty when the
// data is sound.
std::vector<std::string> data_problem_sentences(const shm::SlotCopy& data, std::int64_t now);

}  // namespace servertrack::cli
