#include "agent/reporter.h"

#include <fmt/format.h>

#include "agent/log.h"

namespace servertrack::agent {

Reporter::Reporter(ApplianceClient& client, Spool& spool, std::string name)
    : client_(client), spool_(spool), name_(std::move(name)) {}

Delivery Reporter::report(const Sample& sample) {
  if (!spool_.empty()) {
    spool(sample);
    return send_spool();
  }
  const DeliveryResult result = client_.post_sample(name_, sample);
  switch (result.delivery) {
    case Delivery::accepted:
      problems_.delivered();
      break;
    case Delivery::invalid:
      log_error(fmt::format("the appliance refused the sample of {} ({}); dropped it", sample.time,
                            result.detail));
      break;
    default:
      problems_.report(result, fmt::format("the sample of {} is spooled", sample.time));
      spool(sample);
  }
  return result.delivery;
}

Delivery Reporter::send_spool() {
  const std::size_t backlog = spool_.size();
  while (!spool_.empty()) {
    const std::span<const Sample> batch = spool_.oldest(batch_samples_);
    const DeliveryResult result = client_.post_samples(name_, batch);
    if (result.delivery == Delivery::too_large && batch.size() > 1) {
      batch_samples_ = batch.size() / 2;
      problems_.report(result, fmt::format("sending {} samples per request from now on", batch_samples_));
      continue;
    }
    if (result.delivery != Delivery::accepted) {
      problems_.report(result, fmt::format("{} samples stay in the spool", spool_.size()));
      return result.delivery;
    }
    // Answered: every item up to the first one refused for later.
    std::size_t answered = batch.size();
    for (const RefusedItem& item : result.refused) {
      if (!item.invalid()) {
        answered = item.index;
        problems_.report(refused_for_now(item, batch[item.index].time),
                         fmt::format("{} samples stay in the spool", spool_.size() - answered));
        break;
      }
      log_error(fmt::format("the appliance refused the spooled sample of {} ({}: {}); dropped it",
                            batch[item.index].time, item.reason, item.error));
    }
    spool_.remove_oldest(answered);
    if (answered < batch.size()) return Delivery::unavailable;
  }
  problems_.delivered();
  if (backlog > 0) log_line(fmt::format("sent the spool ({} samples)", backlog));
  return Delivery::accepted;
}

void Reporter::spool(const Sample& sample) {
  if (spool_.append(sample) > 0) {
    log_line("the spool holds 24 hours of samples; dropped its oldest");
  }
}

}  // namespace servertrack::agent
