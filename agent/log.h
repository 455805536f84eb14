// The agent's log: one line on stderr, "servertrack-agent: <line>" (journald
// adds the time under systemd). Main thread; one fprintf per line.
#pragma once

#include <string_view>

namespace servertrack::agent {

void log_line(std::string_view line);

}  // namespace servertrack::agent
