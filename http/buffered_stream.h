// The httplib::Stream a handler thread gives cpp-httplib's process_request():
// reads come from one framed request already in memory (never from the
// socket, so a handler never waits for a client), writes are collected into
// the connection's output buffer and sent in one go afterwards.
//
// Created on a handler thread per request, used by that thread only; reads
// past the end of the framed request return 0 (end of stream), so cpp-httplib
// can never read into the next pipelined request. No syscall; no allocation
// besides the growth of `output`.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace servertrack::http {

// Both ends of a connection, as cpp-httplib reports them to handlers
// (REMOTE_ADDR, ...). Filled once per connection by endpoints_of().
struct Endpoints {
  std::string remote_ip;
  int remote_port = 0;
  std::string local_ip;
  int local_port = 0;
};

// getpeername + getsockname of a connected socket.
Endpoints endpoints_of(int fd);

class BufferedStream final : public httplib::Stream {
 public:
  BufferedStream(int fd, const Endpoints& endpoints, std::string_view request,
                 std::string& output)
      : fd_(fd), endpoints_(endpoints), request_(request), output_(output) {}

  bool is_readable() const override { return !request_.empty(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // The fast path's view (http/fast_path.h): the request, and the output.
  std::string_view request() const { return request_; }
  std::string& output() { return output_; }

 private:
  int fd_;
  const Endpoints& endpoints_;
  std::string_view request_;  // what has not been read yet
  std::string& output_;
};

}  // namespace servertrack::http
