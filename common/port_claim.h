// Which segment a TCP port serves on this host, so that two appliances never
// share a port by accident: workers set SO_REUSEPORT (workers of one
// appliance share a port on purpose), which would also let a worker of
// another segment join the port and take part of its traffic.
//
// Before it listens, each worker claims its port for its segment. The claim
// is a shared flock(2) on /dev/shm/servertrack-port-<port>.lock, whose
// content names the segment; the first claimer creates it (mode 0644, owned
// by the appliance's user) and writes it under an exclusive lock. A worker of
// the same segment joins the claim; one of another segment is refused with a
// message naming the segment holding the port (kExitPortUnavailable). A lock
// held exclusively for long (a claimer stopped mid-write) is waited for at
// most kClaimPatience, saying so at once. The last worker of the port removes
// the file as it exits (it can take the lock exclusively), and so does
// `shmtool remove` for its segment's unused claims; the kernel drops a killed
// worker's lock, so a file left by one is reused. A claimer that finds its
// file removed under it (a last worker leaving) starts again on the new one.
// Port 0 (the kernel picks a free port) needs no claim.
//
// claim(): once per worker process, before it listens. remove_unused_claims():
// shmtool, after removing a segment. Cold paths (a few syscalls; the wait polls
// every 50 ms). Not thread-safe; the claim lasts as long as the object.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace servertrack::common {

// The worker's exit status when its port is not its appliance's to take (held
// for another segment, or its claim not had within kClaimPatience): the
// supervisor stops with an error instead of restarting it.
inline constexpr int kExitPortUnavailable = 69;  // EX_UNAVAILABLE
inline constexpr auto kClaimPatience = std::chrono::seconds(5);

class PortClaim {
 public:
  // The claim of `port` for `segment`, or one sentence saying who holds it or
  // what failed. `waiting` is called once, at once, with a sentence when the
  // claim must wait for another process's exclusive lock.
  static std::variant<PortClaim, std::string> claim(int port, const std::string& segment,
                                                    const std::function<void(const std::string&)>& waiting);

  PortClaim(PortClaim&& other) noexcept;
  PortClaim& operator=(PortClaim&&) = delete;
  PortClaim(const PortClaim&) = delete;
  // Removes the claim file when no other process holds it any more.
  ~PortClaim();

 private:
  PortClaim(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Where the claim of `port` lives.
std::string port_claim_path(int port);

// Removes every claim file naming `segment` that no process holds; returns
// their paths.
std::vector<std::string> remove_unused_claims(std::string_view segment);

}  // namespace servertrack::common
