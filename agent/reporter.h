// What the agent does with each sample: send it at once while the spool is
// empty; otherwise (or when it cannot be delivered now) put it in the spool,
// and send the spool oldest first, up to kBatchSamples per request (halved
// after each 413), until it is empty or a request fails. Only a sample the
// appliance judged invalid is dropped (logged with its reason); every other
// refusal keeps it (agent/appliance_client.h lists the classes). Spooled
// samples are removed only after the appliance answered for them, so a crash
// in between sends them again, which the appliance acknowledges without
// counting them twice; an array answer that refuses an item for later keeps
// that item and all after it, so the spool is always resent in time order
// (docs/design.md, "The agent"). Problems go to a ProblemLog.
//
// Main thread only; logs one line per event to stderr.
#pragma once

#include <cstddef>
#include <string>

#include "agent/appliance_client.h"
#include "agent/problem_log.h"
#include "agent/sample.h"
#include "agent/spool.h"

namespace servertrack::agent {

class Reporter {
 public:
  Reporter(ApplianceClient& client, Spool& spool, std::string name);

  // The fate of `sample`: accepted (sent, with everything spooled before
  // it), invalid (dropped), or why it is in the spool now.
  Delivery report(const Sample& sample);

  // Sends the spool, oldest first, until it is empty (accepted) or a request
  // fails (why the rest stays).
  Delivery send_spool();

 private:
  void spool(const Sample& sample);

  ApplianceClient& client_;
  Spool& spool_;
  std::string name_;
  std::size_t batch_samples_ = kBatchSamples;
  ProblemLog problems_;
};

}  // namespace servertrack::agent
