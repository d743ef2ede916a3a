#pragma once
// The monthly SLA report of a tenant, from the probe series (`up{job="hangar-probe"}`):
// per instance, each minute of the month it existed in is up, down, in maintenance (a
// MaintenanceWindow whose selector matches it covers the minute) or unmonitored (no probe in it
// nor in the 5 minutes before). A minute is down when the last probe before it, or any probe in
// it, failed. Uptime = up / (up + down); maintenance and unmonitored minutes are left out.
// The credit owed is the largest of the instance's plan's sla.credits whose below_percent the
// uptime is under.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/store/store.hpp"

namespace hangar::observe {

// `month` is "YYYY-MM"; a month that has not begun is an error, the current one runs to now.
core::Result<boost::json::object> SlaReport(
    store::Store& store,
    const metrics::Tsdb& db,
    const std::string& tenant,
    std::string_view month,
    int64_t now_ms
);

}  // namespace hangar::observe
