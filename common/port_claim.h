// Which segment a TCP port serves on this host, so that two appliances never
// share a port by accident: workers set SO_REUSEPORT (workers of one
// appliance share a port on purpose), which would also let a worker of
// another segment join the port and take part of its traffic.
//
// Before it listens, each worker claims its port for its segment. The claim
// is a shared flock(2) on /dev/shm/servertrack-port-<port>.lock, whose
// content names the segment; the first claimer writes it under an exclusive
// lock. A worker of the same segment joins the claim; one of another segment
// is refused with a message naming the segment holding the port. The kernel
// drops a dead worker's lock, so the claim ends with the port's last worker
// (the file stays, a few bytes, and is reused). Port 0 (the kernel picks a
// free port) needs no claim.
//
// Called once per worker process, before it listens; cold path (a few
// syscalls). Not thread-safe; the claim lasts as long as the object.
#pragma once

#include <string>
#include <variant>

namespace servertrack::http {

class PortClaim {
 public:
  // The claim of `port` for `segment`, or one sentence saying who holds it.
  static std::variant<PortClaim, std::string> claim(int port, const std::string& segment);

  PortClaim(PortClaim&& other) noexcept;
  PortClaim& operator=(PortClaim&&) = delete;
  PortClaim(const PortClaim&) = delete;
  ~PortClaim();

 private:
  explicit PortClaim(int fd) : fd_(fd) {}
  int fd_;
};

// Where the claim of `port` lives.
std::string port_claim_path(int port);

}  // namespace servertrack::http
