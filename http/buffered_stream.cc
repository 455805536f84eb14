#include "http/buffered_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace servertrack::http {
namespace {

void ip_and_port(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  } else {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  }
  ip = text;
}

}  // namespace

Endpoints endpoints_of(int fd) {
  Endpoints endpoints;
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    ip_and_port(address, endpoints.remote_ip, endpoints.remote_port);
  }
  length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    ip_and_port(address, endpoints.local_ip, endpoints.local_port);
  }
  return endpoints;
}

ssize_t BufferedStream::read(char* ptr, size_t size) {
  const size_t n = size < request_.size() ? size : request_.size();
  std::memcpy(ptr, request_.data(), n);
  request_.remove_prefix(n);
  return static_cast<ssize_t>(n);
}

ssize_t BufferedStream::write(const char* ptr, size_t size) {
  output_.append(ptr, size);
  return static_cast<ssize_t>(size);
}

void BufferedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = endpoints_.remote_ip;
  port = endpoints_.remote_port;
}

void BufferedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = endpoints_.local_ip;
  port = endpoints_.local_port;
}

}  // namespace servertrack::http
