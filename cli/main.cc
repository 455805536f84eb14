// shmtool: create, inspect, check, dump and restore the ServerTrack segment.
// Entry point: parses the command line with CLI11, runs the one subcommand
// given, and turns errors into one line on stderr and an exit code
// (cli/command.h lists the codes).
#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "common/segment_advice.h"
#include "shm/segment.h"

int main(int argc, char** argv) {
  namespace cli = servertrack::cli;
  CLI::App app{
      "shmtool: create, inspect, check, dump and restore the ServerTrack shared-memory segment.\n"
      "Inspection subcommands attach read-only and never change the segment.\n"
      "Exit codes: 0 ok, 1 failed or problems found, 2 segment absent, 64 bad command line."};
  app.require_subcommand(1);
  cli::Action selected;
  cli::add_create(app, selected);
  cli::add_remove(app, selected);
  cli::add_info(app, selected);
  cli::add_list(app, selected);
  cli::add_show(app, selected);
  cli::add_forget(app, selected);
  cli::add_check(app, selected);
  cli::add_dump(app, selected);
  cli::add_restore(app, selected);
  cli::add_grow(app, selected);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitUsage;
  }
  try {
    return selected();
  } catch (const cli::ToolError& e) {
    fmt::print(stderr, "shmtool: {}\n", e.what());
    return e.exit_code();
  } catch (const servertrack::shm::SegmentError& e) {
    fmt::print(stderr, "shmtool: {}\n", servertrack::common::with_remedy(e));
    return e.kind() == servertrack::shm::SegmentError::Kind::absent ? cli::kExitAbsent : cli::kExitFailed;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shmtool: {}\n", e.what());
    return cli::kExitFailed;
  }
}
