// servertrack-agent: reports this host's CPU and RAM load to a ServerTrack
// appliance every --interval seconds, spooling on disk what the appliance
// cannot take now (docs/design.md, "The agent").
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "agent/appliance_client.h"
#include "agent/log.h"
#include "agent/proc_load.h"
#include "agent/reporter.h"
#include "agent/spool.h"
#include "common/clock.h"
#include "http/server_path.h"
#include "http/stop_on_signal.h"
#include "http/token_file.h"
#include "shm/layout.h"
#include "shm/name.h"

namespace {

using namespace servertrack;
using agent::log_line;
using Clock = std::chrono::steady_clock;

// Exit statuses (README, "How a fleet reports"; sysexits.h where one fits).
constexpr int kExitFailed = 1;         // refused as invalid (dropped), or /proc or the spool failed
constexpr int kExitUsage = 2;          // a bad option
constexpr int kExitSpooled = 75;       // --once: spooled, the appliance is away or busy (EX_TEMPFAIL)
constexpr int kExitUnauthorized = 77;  // --once: spooled, the token is not accepted (EX_NOPERM)
constexpr int kExitMisconfigured = 78; // --once: spooled, --url, --ca-file or a proxy is wrong (EX_CONFIG)

int once_status(agent::Delivery delivery) {
  switch (delivery) {
    case agent::Delivery::accepted: return 0;
    case agent::Delivery::invalid: return kExitFailed;
    case agent::Delivery::unavailable: return kExitSpooled;
    case agent::Delivery::unauthorized: return kExitUnauthorized;
    default: return kExitMisconfigured;
  }
}

struct Options {
  std::string url;
  std::string name;
  int interval = shm::kSecondsPerMinute;
  std::string token_file;
  std::string ca_file;
  std::string spool_dir = "/var/lib/servertrack-agent";
  std::string proc_root = "/proc";
  bool once = false;
};

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

// Sleeps until `deadline` or a stop signal; false when stopped.
class Stopper {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
  }
  bool sleep_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return !changed_.wait_until(lock, deadline, [this] { return stopping_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
};

// The second a sample taken now is stated at: the wall clock's, but never the
// second of the previous sample. The appliance counts one sample per stated
// second (a second one is a retry: docs/api.md, "Backfill and the retry rule"), and a sample taken late
// (a loaded host) can share its second with the next one when --interval is 1.
std::int64_t sample_second(std::int64_t& previous) {
  std::int64_t now = common::wall_clock_unix_seconds();
  if (now == previous) now = previous + 1;
  previous = now;
  return now;
}

// One sample from the CPU reading `before` to now; nullopt (logged) when /proc
// cannot be read or no CPU tick elapsed. `before` becomes the new reading.
std::optional<agent::Sample> take_sample(const Options& options,
                                         std::optional<agent::CpuTimes>& before, std::int64_t& previous_second) {
  try {
    const agent::CpuTimes now = agent::read_cpu_times(options.proc_root);
    const std::optional<agent::CpuTimes> previous = std::exchange(before, now);
    const double ram = agent::read_ram_used_percent(options.proc_root);
    if (!previous) return std::nullopt;
    const std::optional<double> cpu = agent::cpu_busy_percent(*previous, now);
    if (!cpu) {
      log_line("no CPU time elapsed since the last reading of /proc/stat; skipping this sample");
      return std::nullopt;
    }
    return agent::Sample{sample_second(previous_second), *cpu, ram};
  } catch (const std::exception& error) {
    before.reset();
    log_line(fmt::format("{}; skipping this sample", error.what()));
    return std::nullopt;
  }
}

int run(const Options& options, const std::string& token) {
  agent::ApplianceClient client(options.url, token, options.ca_file);
  agent::Spool spool(options.spool_dir, options.name,
                     static_cast<std::size_t>((shm::kSecondsPerDay + options.interval - 1) / options.interval));
  if (spool.dropped_when_opened() > 0) {
    log_line(fmt::format("dropped {} damaged records from the spool (a write cut short by a crash)",
                    spool.dropped_when_opened()));
  }
  agent::Reporter reporter(client, spool, options.name);
  Stopper stopper;
  const http::StopOnSignal stop_on_signal(
      [&stopper](int signal_number) {
        log_line(fmt::format("signal {}: stopping; samples not sent yet stay in the spool", signal_number));
        stopper.stop();
      },
      std::chrono::seconds(30), log_line);

  std::optional<agent::CpuTimes> cpu_before;
  std::int64_t previous_second = 0;
  take_sample(options, cpu_before, previous_second);
  log_line(fmt::format("reporting as {} to {} every {} s; spool {} ({} samples waiting)", options.name,
                  options.url, options.interval, options.spool_dir, spool.size()));
  if (!spool.empty()) reporter.send_spool();

  const auto interval = std::chrono::seconds(options.interval);
  Clock::time_point next = Clock::now() + interval;
  while (stopper.sleep_until(next)) {
    next += interval;
    // Behind by more than an interval (a suspended host): start afresh.
    if (next < Clock::now()) next = Clock::now() + interval;
    const std::optional<agent::Sample> sample = take_sample(options, cpu_before, previous_second);
    if (!sample) {
      if (options.once) return kExitFailed;
      continue;
    }
    try {
      const agent::Delivery delivery = reporter.report(*sample);
      if (options.once) return once_status(delivery);
    } catch (const std::exception& error) {
      log_line(fmt::format("{}; this sample is lost", error.what()));
      if (options.once) return kExitFailed;
    }
  }
  log_line("stopped");
  return options.once ? kExitFailed : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.name = host_name();
  CLI::App app("Reports this host's CPU and RAM load to a ServerTrack appliance", "servertrack-agent");
  app.add_option("--url", options.url,
                 "the appliance's ingest base URL, e.g. http://track.example.com:8889 or an "
                 "https:// origin with an optional path")
      ->required();
  app.add_option("--name", options.name, "the server name to report as")->capture_default_str();
  app.add_option("--interval", options.interval,
                 "seconds between samples; CPU busy % is measured over each interval")
      ->capture_default_str()
      ->check(CLI::Range(1, shm::kSecondsPerHour));
  app.add_option("--token-file", options.token_file,
                 "send 'Authorization: Bearer <first line of this file>'");
  app.add_option("--ca-file", options.ca_file,
                 "for an https:// --url, trust the certificates in this PEM file instead of the "
                 "system's trust store")
      ->check(CLI::ExistingFile);
  app.add_option("--spool-dir", options.spool_dir,
                 "where samples wait while the appliance is away (up to 24 h of them)")
      ->capture_default_str();
  app.add_option("--proc-root", options.proc_root, "read stat and meminfo here (tests)")
      ->capture_default_str();
  app.add_flag("--once", options.once,
               "measure over one --interval, report that sample (and the spool), and exit: "
               "0 sent, 1 refused as invalid or failed, 75 spooled (appliance away or busy), "
               "77 spooled (token not accepted), 78 spooled (--url, --ca-file or a proxy is wrong)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every refused option exits 2, not CLI11's own codes.
    return app.exit(error) == 0 ? 0 : kExitUsage;
  }
  if (!shm::is_valid_name(options.name)) {
    std::fprintf(stderr, "--name '%s': %s\n", options.name.c_str(), http::kInvalidNameMessage.c_str());
    return kExitUsage;
  }
  std::string token;
  if (!options.token_file.empty()) {
    token = http::read_token_file(options.token_file);
    if (token.empty()) {
      std::fprintf(stderr, "--token-file: cannot read a token from %s (missing, unreadable or "
                           "empty first line)\n", options.token_file.c_str());
      return kExitUsage;
    }
  }
  try {
    return run(options, token);
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return kExitUsage;
  } catch (const std::exception& error) {
    log_line(error.what());
    return kExitFailed;
  }
}
