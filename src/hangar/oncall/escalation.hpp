#pragma once
// EscalationPolicy: who is notified in which order. Steps notify schedules (whoever is on
// call), users and webhooks, then wait; an unacknowledged page moves to the next step, and
// after the last step the policy starts over, `repeat` more times.

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::oncall {

core::Result<boost::json::object> ValidateEscalationPolicySpec(const boost::json::object& spec);

}  // namespace hangar::oncall
