// What the agent does with each sample: send it at once while the spool is
// empty; otherwise (or when the appliance is away) put it in the spool, and
// send the spool oldest first in batches of kBatchSamples until it is empty
// or the appliance is away again. Refused samples are logged and dropped,
// never retried; spooled samples are removed only after the appliance
// answered for them, so a crash in between sends them again, which the
// appliance acknowledges without counting them twice (docs/design.md, "The agent").
//
// Main thread only; logs one line per event to stderr.
#pragma once

#include <string>

#include "agent/appliance_client.h"
#include "agent/sample.h"
#include "agent/spool.h"

namespace servertrack::agent {

enum class Report { sent, spooled, dropped };

class Reporter {
 public:
  Reporter(ApplianceClient& client, Spool& spool, std::string name);

  // The fate of `sample`: sent (with everything spooled before it), spooled,
  // or dropped because the appliance refused it.
  Report report(const Sample& sample);

  // Sends the spool, oldest first, until it is empty (true) or the appliance
  // is away (false).
  bool send_spool();

 private:
  void spool(const Sample& sample);

  ApplianceClient& client_;
  Spool& spool_;
  std::string name_;
};

}  // namespace servertrack::agent
