// Test helper: records samples with explicit times into a segment through the
// segment library, as a worker would. Reads lines "NAME UNIX_SECONDS CPU RAM"
// (or "NAME UNIX_SECONDS delete", a DELETE at that time) from stdin; with
// --register KIND it also registers itself in the segment's process registry
// and, after recording, waits until stdin's next line (or EOF) so a test can
// hold it "attached". With --die-mid-write it SIGKILLs itself inside the
// critical section of the last line's write, claim or delete
// (shm::testing::set_critical_section_hook), leaving the slot locked by a dead
// thread, as a worker killed at that moment would.
//   record_samples SEGMENT [--register ingest|query|tool | --die-mid-write] < samples
// Exit 0 when every sample was recorded, 1 with a message otherwise.
#include <csignal>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "shm/segment.h"
#include "shm/slot.h"

namespace shm = servertrack::shm;

namespace {

void die() { std::raise(SIGKILL); }

void apply(shm::Segment& segment, const std::string& line) {
  std::istringstream in(line);
  std::string name;
  std::string cpu_or_delete;
  std::int64_t when = 0;
  double ram = 0;
  if (!(in >> name >> when >> cpu_or_delete)) throw std::runtime_error("bad line: " + line);
  if (cpu_or_delete == "delete") {
    const shm::Status status = segment.forget(name, when);
    if (status != shm::Status::ok) throw std::runtime_error(line + ": " + shm::describe(status));
    return;
  }
  if (!(in >> ram)) throw std::runtime_error("bad line: " + line);
  const shm::Status status = segment.record(name, std::stod(cpu_or_delete), ram, when);
  if (status != shm::Status::ok) throw std::runtime_error(line + ": " + shm::describe(status));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string option = argc >= 3 ? argv[2] : "";
  if (!(argc == 2 || (argc == 4 && option == "--register") || (argc == 3 && option == "--die-mid-write"))) {
    std::cerr << "usage: record_samples SEGMENT [--register ingest|query|tool | --die-mid-write]"
                 " < 'NAME UNIX CPU RAM' or 'NAME UNIX delete' lines\n";
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
    std::vector<std::string> lines;
    for (std::string line; std::getline(std::cin, line) && !line.empty();) lines.push_back(line);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (option == "--die-mid-write" && i + 1 == lines.size()) shm::testing::set_critical_section_hook(die);
      apply(segment, lines[i]);
    }
    if (option == "--die-mid-write") throw std::runtime_error("the last line entered no critical section");
    if (!kind.empty()) {
      std::cout << "registered" << std::endl;
      std::string line;
      std::getline(std::cin, line);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "record_samples: " << e.what() << "\n";
    return 1;
  }
}
