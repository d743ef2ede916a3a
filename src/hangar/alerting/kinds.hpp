#pragma once
// The alerting module's kinds: AlertRule, Silence, NotificationPolicy, Runbook, and the
// Alert records the dispatcher writes.

#include "hangar/registry/registry.hpp"

namespace hangar::alerting {

void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::alerting
