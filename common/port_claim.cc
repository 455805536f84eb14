#include "common/port_claim.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>

namespace servertrack::common {
namespace {

constexpr std::string_view kDirectory = "/dev/shm/";
constexpr std::string_view kPrefix = "servertrack-port-";
constexpr std::string_view kSuffix = ".lock";
// Claimers that find the file replaced under them, in a row, before giving up.
constexpr int kClaimAttempts = 8;

// The segment named in the claim file (empty when none was written yet).
std::string read_holder(int fd) {
  std::string holder;
  char buffer[256];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n <= 0) break;
    holder.append(buffer, static_cast<std::size_t>(n));
    at += n;
  }
  return holder;
}

bool write_holder(int fd, const std::string& segment) {
  return ::ftruncate(fd, 0) == 0 &&
         ::pwrite(fd, segment.data(), segment.size(), 0) == static_cast<ssize_t>(segment.size());
}

std::string system_error(const std::string& what, int port) {
  return "cannot claim port " + std::to_string(port) + " (" + port_claim_path(port) + "): " + what + ": " +
         std::strerror(errno);
}

// True while `fd` is the file named `path`: a last worker leaving removes it
// (holding it exclusively), and a claimer that opened it before must start
// again on the new one.
bool still_named(int fd, const std::string& path) {
  struct stat open_file{};
  struct stat named{};
  return ::fstat(fd, &open_file) == 0 && ::stat(path.c_str(), &named) == 0 && open_file.st_ino == named.st_ino &&
         open_file.st_dev == named.st_dev;
}

// A shared lock on `fd`, waiting at most kClaimPatience for an exclusive
// holder. nullopt when held; otherwise why not.
std::optional<std::string> lock_shared(int fd, int port, const std::function<void(const std::string&)>& waiting) {
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) return std::nullopt;
  if (errno != EWOULDBLOCK) return system_error("lock", port);
  const std::string path = port_claim_path(port);
  const auto patience = std::chrono::duration_cast<std::chrono::seconds>(kClaimPatience).count();
  waiting("waiting for the claim of port " + std::to_string(port) + " (" + path +
          "): another process holds it exclusively; giving up after " + std::to_string(patience) + " s");
  const auto deadline = std::chrono::steady_clock::now() + kClaimPatience;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) return std::nullopt;
    if (errno != EWOULDBLOCK) return system_error("lock", port);
  }
  return "gave up claiming port " + std::to_string(port) + " after " + std::to_string(patience) + " s: " + path +
         " stayed locked exclusively by another process (one stopped while claiming it? `fuser -v " + path +
         "` names it); stop that process, or choose other ports";
}

}  // namespace

std::string port_claim_path(int port) {
  return std::string(kDirectory) + std::string(kPrefix) + std::to_string(port) + std::string(kSuffix);
}

std::variant<PortClaim, std::string> PortClaim::claim(int port, const std::string& segment,
                                                      const std::function<void(const std::string&)>& waiting) {
  if (port == 0) return PortClaim(-1, {});
  const std::string path = port_claim_path(port);
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    const bool writable = fd >= 0;
    if (fd < 0 && errno == EACCES) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // another user's: readable
    if (fd < 0) return system_error("open", port);
    PortClaim claim(fd, path);
    // Nobody holds it: name our segment, then share the lock.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      if (!still_named(fd, path)) continue;
      if (!writable) {
        struct stat file{};
        ::fstat(fd, &file);
        return "cannot claim port " + std::to_string(port) + ": its claim file " + path + " belongs to user " +
               std::to_string(file.st_uid) +
               " and no process holds it (left by an appliance that was killed); remove it as that user or root";
      }
      if (!write_holder(fd, segment)) return system_error("write", port);
    }
    // Converting (or waiting for a first claimer to finish writing) is not
    // atomic: read the holder only once the shared lock is ours.
    if (auto refused = lock_shared(fd, port, waiting)) return *refused;
    if (!still_named(fd, path)) continue;
    const std::string holder = read_holder(fd);
    if (holder != segment) {
      return "port " + std::to_string(port) + " is already served by the workers of segment '" + holder +
             "'; a worker of segment '" + segment +
             "' would take part of its traffic. Stop that appliance, or choose other ports "
             "(servertrack run --ingest-port/--query-port; a worker's own --port)";
    }
    return claim;
  }
  return "cannot claim port " + std::to_string(port) + ": " + path + " was replaced " +
         std::to_string(kClaimAttempts) + " times in a row while claiming it";
}

PortClaim::PortClaim(PortClaim&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

PortClaim::~PortClaim() {
  if (fd_ < 0) return;
  // Exclusive only when no other process holds the claim: the port's last worker.
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0 && still_named(fd_, path_)) ::unlink(path_.c_str());
  ::close(fd_);
}

std::vector<std::string> remove_unused_claims(std::string_view segment) {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kDirectory, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) continue;
    const std::string path = entry.path().string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && still_named(fd, path) && read_holder(fd) == segment &&
        ::unlink(path.c_str()) == 0) {
      removed.push_back(path);
    }
    ::close(fd);
  }
  return removed;
}

}  // namespace servertrack::common
