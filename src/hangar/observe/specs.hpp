#pragma once
// Specs of the observation kinds: SLO (an availability objective over a window, for an
// instance, a product or the whole tenant) and MaintenanceWindow (a time span, with a series
// selector over the probe series' labels, that SLA reports leave out).

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::observe {

core::Result<boost::json::object> ValidateSloSpec(const boost::json::object& spec);
core::Result<boost::json::object> ValidateMaintenanceWindowSpec(const boost::json::object& spec);

}  // namespace hangar::observe
