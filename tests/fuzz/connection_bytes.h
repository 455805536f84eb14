// One client connection for a fuzz target that drives cpp-httplib's
// process_request(): reads come from the fuzz input, writes are kept.
// Used on the fuzzer's thread only.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace servertrack::fuzz {

class ConnectionBytes final : public httplib::Stream {
 public:
  explicit ConnectionBytes(std::string_view input) : input_(input) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, input_.size());
    std::memcpy(ptr, input_.data(), n);
    input_.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    written_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8889;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

  bool exhausted() const { return input_.empty(); }
  std::string take_written() { return std::exchange(written_, {}); }

 private:
  std::string_view input_;
  std::string written_;
};

}  // namespace servertrack::fuzz
