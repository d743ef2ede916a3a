#pragma once
// The on-call module's kinds: Schedule, EscalationPolicy, and the Page records the pager
// writes.

#include "hangar/registry/registry.hpp"

namespace hangar::oncall {

void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::oncall
