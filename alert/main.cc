// servertrack-alert: the fleet's alerts (docs/design.md, "Alerts"). Reads the
// rules file, attaches to the segment as the query worker does (it registers,
// and only reads), evaluates every rule over every server it watches each
// minute and soon after a silent server's past minutes fill in, keeps the
// alerts in a state file (the query worker's GET /alerts) and a metrics file
// (appended to the workers' /metrics), and notifies Alertmanager and a webhook
// from its sender thread. One per appliance, started by the supervisor.
#include <CLI/CLI.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "alert/alert_book.h"
#include "alert/evaluate.h"
#include "alert/fleet_evaluation.h"
#include "alert/notification_body.h"
#include "alert/rules.h"
#include "alert/sender.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/segment_advice.h"
#include "http/stop_on_signal.h"
#include "http/worker_log.h"

namespace {

using namespace servertrack;

struct Options {
  std::string segment{common::kDefaultSegment};
  std::string rules_file;
  std::string state_file;
  std::string metrics_file;
  std::string alertmanager_url;
  std::string webhook_url;
  alert::AlertSource source;
  bool check_rules = false;
};

// How often the walk looks for servers whose past minutes filled in.
constexpr auto kRecheckEvery = std::chrono::seconds(5);
// A full evaluation waits this long into a minute for the previous minute's
// last samples to arrive.
constexpr std::int64_t kMinuteGrace = 2;

int run(const Options& options, const std::vector<alert::Rule>& rules) {
  shm::Segment segment = shm::Segment::attach({.name = options.segment});
  if (!segment.register_process(shm::ProcessKind::alert, common::wall_clock_unix_seconds())) {
    http::log_line("the segment's process registry is full; evaluating unregistered");
  }
  alert::FleetEvaluation evaluation(segment, rules);
  if (auto problem = evaluation.book().load(options.state_file)) {
    http::log_line("{}; starting with no alert", *problem);
  }
  const alert::AlertCounters base = evaluation.book().counters();
  alert::Sender sender(options.alertmanager_url, options.webhook_url);
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  http::StopOnSignal stop(
      [&](int signal_number) {
        http::log_line("signal {}: stopping", signal_number);
        {
          std::lock_guard lock(mutex);
          stopping = true;
        }
        wake.notify_all();
      },
      std::chrono::seconds(5), [](std::string_view line) { http::log_line("{}", line); },
      [] { http::log_line("SIGHUP: the rules are read at start; restart the appliance to change them"); });
  http::log_line("watching segment '{}' with {} rules from {}", options.segment, rules.size(), options.rules_file);

  auto publish = [&](bool full, std::int64_t now) {
    alert::AlertBook& book = evaluation.book();
    book.counters().notifications_sent = base.notifications_sent + sender.sent();
    book.counters().notifications_failed = base.notifications_failed + sender.failed();
    book.counters().notifications_dropped = base.notifications_dropped + sender.dropped();
    const auto changes = book.take_changes();
    for (const auto& change : changes) sender.post_webhook(alert::webhook_body(change, options.source));
    if (full || !changes.empty()) {
      std::vector<const alert::AlertRecord*> batch;
      for (const auto& [key, record] : book.records()) {
        const bool resent = record.state == alert::AlertRecord::State::firing ||
                            (record.state == alert::AlertRecord::State::resolved &&
                             now - record.changed_unix <= alert::kResendResolvedSeconds);
        if (resent) batch.push_back(&record);
      }
      if (!batch.empty()) sender.post_alertmanager(alert::alertmanager_body(batch, options.source));
      if (!book.save(options.state_file, now, rules.size())) {
        http::log_line("cannot write the alert state {}", options.state_file);
      }
      if (!options.metrics_file.empty() && !evaluation.save_metrics(options.metrics_file)) {
        http::log_line("cannot write the alert metrics {}", options.metrics_file);
      }
    }
  };

  std::int64_t evaluated_minute = -1;
  auto next_recheck = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex);
  while (!stopping) {
    lock.unlock();
    const std::int64_t now = common::wall_clock_unix_seconds();
    if (now / 60 != evaluated_minute && now % 60 >= kMinuteGrace) {
      evaluated_minute = now / 60;
      evaluation.evaluate_all(now);
      publish(true, now);
    } else if (std::chrono::steady_clock::now() >= next_recheck) {
      next_recheck = std::chrono::steady_clock::now() + kRecheckEvery;
      evaluation.evaluate_caught_up(now);
      publish(false, now);
    }
    lock.lock();
    wake.wait_for(lock, std::chrono::milliseconds(500));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  http::block_worker_signals();
  http::set_log_identity("alert", 1);
  Options options;
  CLI::App app{"ServerTrack alert process: evaluates the rules of --rules over the segment's servers by the "
               "time their samples were taken, and notifies Alertmanager and a webhook"};
  app.add_option("--segment", options.segment, "shared-memory segment name")->capture_default_str();
  app.add_option("--rules", options.rules_file, "the rules file (README, \"Alerts\")")->required();
  app.add_flag("--check-rules", options.check_rules, "read the rules file, say what is wrong with it, exit");
  app.add_option("--state-file", options.state_file,
                 "where the alerts are kept (the query worker's GET /alerts; written by rename)");
  app.add_option("--metrics-file", options.metrics_file,
                 "where the counters are written in Prometheus' text format (the workers' --metrics-textfile)");
  app.add_option("--alertmanager-url", options.alertmanager_url,
                 "an Alertmanager's base URL, e.g. http://127.0.0.1:9093: every firing alert is POSTed to "
                 "/api/v2/alerts each minute");
  app.add_option("--webhook-url", options.webhook_url,
                 "a URL that gets one POST per change, in Alertmanager's webhook shape; retried on 5xx or no answer");
  app.add_option("--appliance", options.source.appliance, "the `appliance` label of every alert");
  app.add_option("--dashboard-url", options.source.dashboard_url,
                 "the query worker's base URL, for each alert's generatorURL (<it>/#server=<name>)");
  CLI11_PARSE(app, argc, argv);
  auto parsed = alert::read_rules_file(options.rules_file);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 2;
  }
  const auto& rules = std::get<std::vector<alert::Rule>>(parsed);
  for (const auto* url : {&options.alertmanager_url, &options.webhook_url}) {
    if (!url->empty() && !alert::split_url(*url)) {
      std::fprintf(stderr, "%s: not an http:// URL\n", url->c_str());
      return 2;
    }
  }
  if (options.check_rules) {
    std::printf("%s: %zu rules\n", options.rules_file.c_str(), rules.size());
    return 0;
  }
  if (options.state_file.empty()) {
    std::fprintf(stderr, "--state-file is required (except with --check-rules)\n");
    return 2;
  }
  try {
    return run(options, rules);
  } catch (const shm::SegmentError& error) {
    http::log_line("{}", common::with_remedy(error));
    return 1;
  }
}
