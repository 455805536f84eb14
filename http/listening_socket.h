// The worker's listening socket: bound with SO_REUSEADDR and SO_REUSEPORT
// (several workers of one kind share a port on purpose), TCP_NODELAY (inherited
// by accepted sockets), non-blocking, with a real backlog.
//
// Called once by run_worker() before the event loop starts; cold path.
#pragma once

#include <string>
#include <variant>

namespace servertrack::http {

struct ListeningSocket {
  int fd = -1;
  int port = 0;  // the bound port (the kernel's choice when asked for 0)
};

// The socket, or a message saying why it could not be opened.
std::variant<ListeningSocket, std::string> open_listening_socket(const std::string& host, int port,
                                                                 int backlog);

}  // namespace servertrack::http
