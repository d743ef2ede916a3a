#pragma once
// The observe module's kinds: SLO and MaintenanceWindow.

#include "hangar/registry/registry.hpp"

namespace hangar::observe {

void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::observe
