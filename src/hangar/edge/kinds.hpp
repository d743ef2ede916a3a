#pragma once
// The workspace cloud's kinds: Workspace and PushApp (whose credentials `keys` seals).

#include "hangar/registry/registry.hpp"

namespace hangar::edge {
class CloudKeys;
}

namespace hangar::edge {

void RegisterKinds(registry::Registry& registry, const CloudKeys& keys);

}  // namespace hangar::edge
