// libFuzzer target: the snapshot reader of `shmtool restore`,
// cli::decode_snapshot() (cli/snapshot_file.h), the only way a file's bytes
// reach a segment. Each input is decoded twice: as a whole file, and as a
// file without its trailer, to which the right FNV-1a checksum is appended,
// so that the fuzzer also gets past the checksum to the records.
//
// Properties checked on every input (besides no crash, leak or UB):
// - a refusal is a sentence, not empty;
// - an accepted file has at most `capacity` servers, each named by a valid
//   name (shm::is_valid_name) that appears once, a mode that is not
//   world-writable, and data without problems (shm/invariants.h);
// - an accepted delta names at most `capacity` servers, each valid and once,
//   and every server it holds is among them; a full file names none;
// - encoding an accepted file gives back exactly the bytes that were decoded.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cli/invariants.h"
#include "cli/snapshot_file.h"
#include "shm/name.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using servertrack::fuzz::require;
namespace cli = servertrack::cli;

void check_accepted(const cli::SnapshotFile& file, std::span<const std::byte> bytes) {
  require(file.servers.size() <= file.capacity, "an accepted file fits its capacity");
  require((file.mode & 0002) == 0, "an accepted file's mode is not world-writable");
  std::set<std::string> names;
  static servertrack::shm::SlotCopy data;  // large: one, reused
  for (const cli::SnapshotServer& server : file.servers) {
    require(servertrack::shm::is_valid_name(server.name), "an accepted server name is valid");
    require(names.insert(server.name).second, "an accepted server name appears once");
    require(server.days.size() == static_cast<std::size_t>(file.days), "an accepted server has the file's days");
    server.to_copy(data);
    require(cli::data_problem_sentences(data, file.dumped_unix).empty(), "an accepted server's data has no problems");
  }
  std::set<std::string> named;
  for (const std::string& name : file.names) {
    require(servertrack::shm::is_valid_name(name), "an accepted delta's name is valid");
    require(named.insert(name).second, "an accepted delta's name appears once");
  }
  require(file.names.size() <= file.capacity, "an accepted delta names no more servers than its capacity");
  require(file.delta || (file.names.empty() && file.base == 0), "an accepted full file has no names and no base");
  for (const cli::SnapshotServer& server : file.servers) {
    require(!file.delta || named.contains(server.name), "an accepted delta holds only servers it names");
  }
  const std::vector<std::byte> encoded = cli::encode_snapshot(file);
  std::uint32_t version;
  std::memcpy(&version, bytes.data() + 8, sizeof version);
  if (version == cli::kSnapshotFormatVersion) {
    require(encoded.size() == bytes.size() && std::memcmp(encoded.data(), bytes.data(), bytes.size()) == 0,
            "an accepted file encodes back to the same bytes");
  } else {
    const auto again = cli::decode_snapshot(encoded);
    require(std::holds_alternative<cli::SnapshotFile>(again) &&
                std::get<cli::SnapshotFile>(again).servers.size() == file.servers.size(),
            "an accepted file of an older format encodes to one of the current format");
  }
}

void decode_and_check(std::span<const std::byte> bytes) {
  const auto decoded = cli::decode_snapshot(bytes);
  if (const auto* why = std::get_if<std::string>(&decoded)) {
    require(!why->empty(), "a refused file has a reason");
    return;
  }
  check_accepted(std::get<cli::SnapshotFile>(decoded), bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  decode_and_check(input);
  std::vector<std::byte> with_checksum(input.begin(), input.end());
  const std::uint64_t checksum = cli::fnv1a64(input);
  with_checksum.resize(size + sizeof checksum);
  std::memcpy(with_checksum.data() + size, &checksum, sizeof checksum);
  decode_and_check(with_checksum);
  return 0;
}
