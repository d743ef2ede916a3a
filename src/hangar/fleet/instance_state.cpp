#include "hangar/fleet/instance_state.hpp"

#include <utility>

#include "hangar/core/json.hpp"

namespace hangar::fleet {

namespace {

constexpr std::pair<InstancePhase, std::string_view> kPhases[] = {
    {InstancePhase::kPending, "Pending"},
    {InstancePhase::kProvisioning, "Provisioning"},
    {InstancePhase::kRunning, "Running"},
    {InstancePhase::kSuspended, "Suspended"},
    {InstancePhase::kFailed, "Failed"},
    {InstancePhase::kDeleting, "Deleting"},
};

}  // namespace

std::string_view PhaseName(InstancePhase p) {
    for (auto [phase, name] : kPhases) {
        if (phase == p) {
            return name;
        }
    }
    return "Pending";
}

InstancePhase ParseInstancePhase(std::string_view s) {
    for (auto [phase, name] : kPhases) {
        if (name == s) {
            return phase;
        }
    }
    return InstancePhase::kPending;
}

std::optional<std::string>
ConditionStatus(const boost::json::object& status, std::string_view type) {
    const boost::json::value* conds = status.if_contains("conditions");
    if (conds == nullptr || !conds->is_array()) {
        return std::nullopt;
    }
    for (const auto& c : conds->as_array()) {
        if (c.is_object() && core::StrAt(c.as_object(), "type") == type) {
            return core::StrAt(c.as_object(), "status");
        }
    }
    return std::nullopt;
}

PhaseDecision DecidePhase(const core::Result<Observed>& seen) {
    if (!seen) {
        return {InstancePhase::kFailed, false, "ProvisionerError", seen.error().message, false};
    }
    switch (seen->state) {
        case Observed::State::kRunning:
            return {InstancePhase::kRunning, true, "Running", "", false};
        case Observed::State::kStopped:
            return {InstancePhase::kSuspended, false, "Suspended", "suspended by its spec", false};
        case Observed::State::kStarting:
        case Observed::State::kAbsent:
            return {
                InstancePhase::kProvisioning,
                false,
                "Starting",
                "the provisioner is starting it",
                true};
        case Observed::State::kFailed:
            return {InstancePhase::kFailed, false, "Exited", seen->message, false};
    }
    return {InstancePhase::kFailed, false, "Exited", seen->message, false};
}

std::optional<bool>
HealthTracker::Record(bool passed, int64_t success_threshold, int64_t failure_threshold) {
    if (passed) {
        ++ok_;
        failed_ = 0;
        if (ok_ >= success_threshold) {
            healthy_ = true;
        }
    } else {
        ++failed_;
        ok_ = 0;
        if (failed_ >= failure_threshold) {
            healthy_ = false;
        }
    }
    return healthy_;
}

}  // namespace hangar::fleet
