// The agent's log: one line on stderr, "servertrack-agent: <line>" (journald
// adds the time under systemd). log_error() marks a line that asks the
// operator to act: "servertrack-agent: error: <line>", and when stderr is
// systemd's journal stream (JOURNAL_STREAM names it) a "<3>" prefix that
// journald stores as priority err. Any thread; one fprintf per line.
#pragma once

#include <string_view>

namespace servertrack::agent {

void log_line(std::string_view line);
void log_error(std::string_view line);

}  // namespace servertrack::agent
