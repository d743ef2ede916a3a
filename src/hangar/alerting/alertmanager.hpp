#pragma once
// Alertmanager's webhook payload (version 4, Alertmanager 0.16 and later), read into Hangar's
// alerts: a firing alert raises or updates, a resolved one ends at its endsAt. The HTTP handler
// authenticates the caller; this reads and checks the payload, naming the field at fault.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/alerting/alert.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"

namespace hangar::alerting {

namespace json = boost::json;

// `tenant_of` gets an alert's `tenant` label ("" when it has none) and answers the tenant the
// alert belongs to, or refuses it. At most 10,000 alerts in one payload.
core::Result<std::vector<Alert>> ReadAlertmanagerWebhook(
    const json::object& body,
    core::TimePoint now,
    const std::function<core::Result<std::string>(std::string_view label_tenant)>& tenant_of
);

}  // namespace hangar::alerting
