#include "http/port_claim.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace servertrack::http {
namespace {

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

}  // namespace

std::string port_claim_path(int port) { return "/dev/shm/servertrack-port-" + std::to_string(port) + ".lock"; }

std::variant<PortClaim, std::string> PortClaim::claim(int port, const std::string& segment) {
  if (port == 0) return PortClaim(-1);
  const std::string path = port_claim_path(port);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return system_error("open", port);
  PortClaim claim(fd);
  ::fchmod(fd, 0666);  // any user's appliance may claim the port after this one's
  // Nobody holds it: name our segment, then share the lock.
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && !write_holder(fd, segment)) return system_error("write", port);
  // Converting (or waiting for a first claimer to finish writing) is not
  // atomic: read the holder only once the shared lock is ours.
  if (::flock(fd, LOCK_SH) != 0) return system_error("lock", port);
  const std::string holder = read_holder(fd);
  if (holder != segment) {
    return "port " + std::to_string(port) + " is already served by the workers of segment '" + holder +
           "'; a worker of segment '" + segment +
           "' would take part of its traffic. Choose other ports (--port), or stop that appliance";
  }
  return claim;
}

PortClaim::PortClaim(PortClaim&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

PortClaim::~PortClaim() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace servertrack::http
