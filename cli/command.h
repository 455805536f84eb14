// What every shmtool subcommand shares: how it is registered, how it fails,
// and the options that mean the same thing everywhere.
//
// Each subcommand lives in its own file and exposes one add_*() function that
// adds a CLI11 subcommand to the root app. When the user picks it, CLI11 calls
// its callback, which stores the subcommand's action in `selected`; main()
// runs that action once parsing succeeded. Actions return the exit code, or
// throw ToolError / shm::SegmentError, which main() prints as one line.
// Single-threaded; cold paths only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "shm/segment.h"

namespace servertrack::cli {

// Exit codes of shmtool.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // refused, failed, or `check` found problems
inline constexpr int kExitAbsent = 2;  // the segment does not exist
inline constexpr int kExitPartial = 3;  // `dump` or `grow` did every sound server but skipped others;
                                      // `restore` stopped before the last file of a chain
inline constexpr int kExitNoDelta = 4;  // `dump --delta`: the marks do not fit this segment
inline constexpr int kExitUsage = 64;  // bad command line (EX_USAGE)

using Action = std::function<int()>;

class ToolError : public std::runtime_error {
 public:
  explicit ToolError(const std::string& message, int exit_code = kExitFailed)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// --segment NAME (default common::kDefaultSegment), checked to be a usable object name.
void add_segment_option(CLI::App& command, std::string& segment);

// Adds subcommand `name` running `run(args)` when chosen, with --segment
// bound to args.segment; returns it with its arguments to add more options.
template <class Args>
std::pair<CLI::App*, std::shared_ptr<Args>> add_command(CLI::App& app, Action& selected, const std::string& name,
                                                        const std::string& description, int (*run)(const Args&)) {
  auto args = std::make_shared<Args>();
  CLI::App* command = app.add_subcommand(name, description);
  add_segment_option(*command, args->segment);
  command->callback([args, run, &selected] { selected = [args, run] { return run(*args); }; });
  return {command, args};
}

// --json: machine-readable output instead of the human one.
void add_json_flag(CLI::App& command, bool& json);

// --now UNIX_SECONDS: evaluate time windows as of this time (default: now).
void add_now_option(CLI::App& command, std::int64_t& now);

// Maps the segment read-only (inspection never changes it). Throws
// shm::SegmentError (main() adds the remedy: common/segment_advice.h).
shm::Segment attach_read_only(const std::string& segment);

void add_create(CLI::App& app, Action& selected);
void add_remove(CLI::App& app, Action& selected);
void add_info(CLI::App& app, Action& selected);
void add_list(CLI::App& app, Action& selected);
void add_show(CLI::App& app, Action& selected);
void add_check(CLI::App& app, Action& selected);
void add_dump(CLI::App& app, Action& selected);
void add_restore(CLI::App& app, Action& selected);
void add_grow(CLI::App& app, Action& selected);
void add_forget(CLI::App& app, Action& selected);

}  // namespace servertrack::cli
