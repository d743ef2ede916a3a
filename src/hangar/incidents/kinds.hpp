#pragma once
// The incidents module's kind: Incident (its actions, timeline and post-mortem are
// routes of their own).

#include "hangar/registry/registry.hpp"

namespace hangar::incidents {

void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::incidents
