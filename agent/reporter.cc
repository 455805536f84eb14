#include "agent/reporter.h"

#include <fmt/format.h>

#include "agent/log.h"

namespace servertrack::agent {

Reporter::Reporter(ApplianceClient& client, Spool& spool, std::string name)
    : client_(client), spool_(spool), name_(std::move(name)) {}

Report Reporter::report(const Sample& sample) {
  if (spool_.empty()) {
    const DeliveryResult result = client_.post_sample(name_, sample);
    switch (result.delivery) {
      case Delivery::accepted:
        return Report::sent;
      case Delivery::refused:
        log_line(fmt::format("the appliance refused the sample of {} ({}); dropped it", sample.time,
                        result.detail));
        return Report::dropped;
      case Delivery::unavailable:
        log_line(fmt::format("{}; spooling", result.detail));
        spool(sample);
        return Report::spooled;
    }
  }
  spool(sample);
  return send_spool() ? Report::sent : Report::spooled;
}

bool Reporter::send_spool() {
  const std::size_t backlog = spool_.size();
  while (!spool_.empty()) {
    const std::span<const Sample> batch = spool_.oldest(kBatchSamples);
    const DeliveryResult result = client_.post_batch(name_, batch);
    if (result.delivery == Delivery::unavailable) {
      log_line(fmt::format("{}; {} samples stay in the spool", result.detail, spool_.size()));
      return false;
    }
    if (result.delivery == Delivery::refused) {
      log_line(fmt::format("the appliance refused a batch of {} spooled samples ({}); dropped them",
                      batch.size(), result.detail));
    }
    for (const RefusedItem& item : result.refused) {
      const std::int64_t time = item.index < batch.size() ? batch[item.index].time : -1;
      log_line(fmt::format("the appliance refused the spooled sample of {} ({}: {}); dropped it", time,
                      item.reason, item.error));
    }
    spool_.remove_oldest(batch.size());
  }
  if (backlog > 0) log_line(fmt::format("sent the spool ({} samples)", backlog));
  return true;
}

void Reporter::spool(const Sample& sample) {
  if (spool_.append(sample) > 0) {
    log_line("the spool holds 24 hours of samples; dropped its oldest");
  }
}

}  // namespace servertrack::agent
