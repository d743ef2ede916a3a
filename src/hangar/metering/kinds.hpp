#pragma once

#include "hangar/registry/registry.hpp"

namespace hangar::metering {

// Meter, Feature, Entitlement.
void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::metering
