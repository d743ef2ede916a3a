#pragma once
// Turns the instance controller's probe reports into series in the instance's tenant:
// up, probe_duration_seconds, the instance's process figures, and what its metrics endpoint
// served (labelled with tenant, instance, instance_name and product; scraped labels that clash
// become exported_<name>, as Prometheus does).

#include <functional>

#include "hangar/fleet/provisioner.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::api {

std::function<void(const fleet::ProbeReport&)> ProbeMetricsSink(metrics::Tsdb& db);

}  // namespace hangar::api
