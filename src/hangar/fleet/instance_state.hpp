#pragma once
// An instance's phase as a type, and the decisions the instance controller makes about it as
// pure functions: which phase (and Ready condition) what the provisioner observed means, and
// whether consecutive health-check results make the instance healthy or unhealthy.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"
#include "hangar/fleet/provisioner.hpp"

namespace hangar::fleet {

enum class InstancePhase { kPending, kProvisioning, kRunning, kSuspended, kFailed, kDeleting };
std::string_view PhaseName(InstancePhase p);
// A status written by Hangar; "" or anything unknown reads as kPending.
InstancePhase ParseInstancePhase(std::string_view s);

// The status ("True" or "False") of the condition of `type` in an object's status, or nullopt
// when it has none.
std::optional<std::string>
ConditionStatus(const boost::json::object& status, std::string_view type);

// What an observation means for the instance's status.
struct PhaseDecision {
    InstancePhase phase = InstancePhase::kPending;
    bool ready = false;  // the Ready condition
    std::string reason, message;
    bool poll = false;  // still starting: look again soon
};
PhaseDecision DecidePhase(const core::Result<Observed>& seen);

// Consecutive health-check results, with Kubernetes' thresholds: healthy after
// `success_threshold` passes in a row, unhealthy after `failure_threshold` failures in a row;
// unknown until one of them is reached.
class HealthTracker {
public:
    // Records one result; returns the health afterwards.
    std::optional<bool> Record(bool passed, int64_t success_threshold, int64_t failure_threshold);
    std::optional<bool> healthy() const { return healthy_; }

private:
    int64_t ok_ = 0, failed_ = 0;
    std::optional<bool> healthy_;
};

}  // namespace hangar::fleet
