#pragma once
// Moves the instances a Rollout selects to its target version in waves: the canary wave (the
// instances on the internal and canary release channels) first, then cumulative percentages
// of the rest. At most max_unavailable instances are in flight; each must pass the health gate
// (Running and Ready for health_gate_seconds) within gate_timeout_seconds. A failed gate halts
// the rollout and rolls that instance back to the version it had. Pause, resume and abort are
// spec changes; the controller picks up where the status says it was, so a Hangar killed in
// the middle of a rollout finishes it after restart without touching any instance twice.

#include "hangar/core/clock.hpp"
#include "hangar/reconcile/controller.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

class RolloutController {
public:
    RolloutController(store::Store& store, const core::Clock& clock)
        : store_(store), clock_(clock) {}
    core::Result<reconcile::Outcome> Reconcile(const std::string& id);
    std::vector<std::string> List();

private:
    core::Result<store::Object> SetVersion(
        const store::Object& inst,
        const std::string& version,
        const std::string& action,
        std::optional<int64_t> expected_revision,
        store::AuditEvent audit
    );
    store::Store& store_;
    const core::Clock& clock_;
};

}  // namespace hangar::fleet
