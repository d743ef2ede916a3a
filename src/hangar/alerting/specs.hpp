#pragma once
// Spec validators of the alerting kinds: AlertRule, Silence, NotificationPolicy, Runbook. Each
// reads strictly (unknown fields are errors, naming the field's path) and returns the spec
// normalised.

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::alerting {

core::Result<boost::json::object> ValidateAlertRuleSpec(const boost::json::object& spec);
core::Result<boost::json::object> ValidateSilenceSpec(const boost::json::object& spec);
core::Result<boost::json::object> ValidateNotificationPolicySpec(const boost::json::object& spec);
core::Result<boost::json::object> ValidateRunbookSpec(const boost::json::object& spec);

}  // namespace hangar::alerting
