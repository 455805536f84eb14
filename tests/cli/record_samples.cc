// Test helper: records samples with explicit times into a segment through the
// segment library, as a worker would. Reads lines "NAME UNIX_SECONDS CPU RAM"
// from stdin; with --register KIND it also registers itself in the segment's
// process registry and, after recording, waits until stdin's next line (or
// EOF) so a test can hold it "attached".
//   record_samples SEGMENT [--register ingest|query|tool] < samples
// Exit 0 when every sample was recorded, 1 with a message otherwise.
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>

#include "shm/segment.h"

namespace shm = servertrack::shm;

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: record_samples SEGMENT [--register ingest|query|tool] < 'NAME UNIX CPU RAM' lines\n";
    return 1;
  }
  try {
    shm::Segment segment = shm::Segment::attach({argv[1], shm::Access::read_write, 0});
    const std::string kind = argc == 4 ? argv[3] : "";
    if (!kind.empty()) {
      const auto k = kind == "ingest"  ? shm::ProcessKind::ingest
                     : kind == "query" ? shm::ProcessKind::query
                                       : shm::ProcessKind::tool;
      if (!segment.register_process(k, std::time(nullptr))) throw std::runtime_error("registry full");
    }
    std::string line;
    while (std::getline(std::cin, line) && !line.empty()) {
      std::istringstream in(line);
      std::string name;
      std::int64_t when = 0;
      double cpu = 0;
      double ram = 0;
      if (!(in >> name >> when >> cpu >> ram)) throw std::runtime_error("bad line: " + line);
      const shm::Status status = segment.record(name, cpu, ram, when);
      if (status != shm::Status::ok) throw std::runtime_error(line + ": " + shm::describe(status));
    }
    if (!kind.empty()) {
      std::cout << "registered" << std::endl;
      std::getline(std::cin, line);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "record_samples: " << e.what() << "\n";
    return 1;
  }
}
