// Helpers shared by the segment tests: unique segments removed at teardown,
// forked children with bounded waits, a process barrier and a result pipe.
//
// Called from the GoogleTest main thread of one test process and from the
// children it forks. Children must end with _exit() (run_child does this), so
// no GoogleTest state or destructor runs twice.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "shm/segment.h"
#include "shm/segment_internals.h"

namespace servertrack::shm::test {

// A fresh segment with a name no other test (or test run) uses; removed when
// the object goes out of scope. `days`: its day window (none by default, so
// a test of the 60 minutes and 24 hours sees the 24-hour rules).
class TestSegment {
 public:
  explicit TestSegment(std::uint64_t capacity, int days = 0);
  TestSegment(const TestSegment&) = delete;
  TestSegment& operator=(const TestSegment&) = delete;
  ~TestSegment();

  Segment* operator->() { return &segment_; }
  Segment& operator*() { return segment_; }
  const std::string& name() const { return name_; }
  Counters& counters() { return SegmentInternals::header(segment_).counters; }

 private:
  std::string name_;
  Segment segment_;
};

// "st_test_<pid>_<n>", unique within this host while this process lives.
std::string unique_segment_name();

// Forks; the child runs `body` and exits with its return value (or 99 when it
// throws). Returns the child's pid to the parent.
pid_t run_child(const std::function<int()>& body);

// Waits for `pid` at most `limit`; on timeout kills it and returns -1.
// Otherwise its exit code, or 128 + signal number when a signal ended it.
int wait_child(pid_t pid, std::chrono::milliseconds limit);

// A pid that belonged to a process which has exited and been reaped.
std::uint32_t dead_pid();

// `parties` processes (forked after it was made) leave arrive_and_wait()
// together: the last to arrive releases the others, which spin (yielding now
// and then) on a shared word, so the running ones start within nanoseconds.
class ProcessBarrier {
 public:
  explicit ProcessBarrier(int parties);
  ProcessBarrier(const ProcessBarrier&) = delete;
  ProcessBarrier& operator=(const ProcessBarrier&) = delete;
  ~ProcessBarrier();
  void arrive_and_wait();

 private:
  struct Shared;
  Shared* shared_;  // an anonymous shared mapping, inherited across fork()
  int parties_;
};

// A one-way pipe from children to the parent for fixed-size messages.
class ResultPipe {
 public:
  ResultPipe();
  ResultPipe(const ResultPipe&) = delete;
  ResultPipe& operator=(const ResultPipe&) = delete;
  ~ResultPipe();
  void send(const void* data, std::size_t size);  // in a child
  // In the parent: false when nothing complete arrived within `limit`.
  bool receive(void* data, std::size_t size, std::chrono::milliseconds limit);

 private:
  int read_fd_;
  int write_fd_;
};

// Milliseconds spent in `work`.
double elapsed_ms(const std::function<void()>& work);

// record() as a client that retries a 503 does it: busy means nothing was
// written (a live lock holder made no progress for the lock patience, e.g. one
// descheduled on a loaded machine; docs/design.md, "Takeover"), so it is
// retried, every millisecond for up to `patience`; any other status is returned.
Status record_retrying_busy(Segment& segment, std::string_view name, double cpu, double ram, std::int64_t now,
                            std::chrono::milliseconds patience = std::chrono::seconds(30));

}  // namespace servertrack::shm::test
