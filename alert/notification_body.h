// The JSON bodies the alerts are sent in (docs/design.md, "Alerts"):
// Alertmanager's API v2 (`POST /api/v2/alerts`, a list of alerts) and
// Alertmanager's own webhook shape (version "4"), so a receiver written for
// Alertmanager's webhooks takes ServerTrack's as they are.
//
// Pure functions; any thread; allocate the returned string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alert/alert_book.h"

namespace servertrack::alert {

// What every alert of this appliance carries besides its own labels.
struct AlertSource {
  std::string appliance;      // the `appliance` label
  std::string dashboard_url;  // the query worker's base URL: generatorURL is <it>/#server=<name>; "" for none
};

// Labels alertname (the rule), server, severity and appliance; annotation
// summary; startsAt; endsAt only once resolved (a firing alert without it
// stays active until Alertmanager's resolve_timeout after the last resend,
// whatever the clocks of the two hosts); generatorURL.
std::string alertmanager_body(const std::vector<const AlertRecord*>& alerts, const AlertSource& source);

// One change as Alertmanager's webhook sends it: {"version":"4","status":...,
// "alerts":[one alert], "groupLabels", "commonLabels", ...}.
std::string webhook_body(const AlertRecord& change, const AlertSource& source);

}  // namespace servertrack::alert
