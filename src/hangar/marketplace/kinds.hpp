#pragma once

#include "hangar/registry/registry.hpp"

namespace hangar::marketplace {

// App (what the catalogue lists: categories, pricing, visibility) and AppRelease (one uploaded
// version, its zip kept as a blob; written only by publishing).
void RegisterKinds(registry::Registry& registry);

}  // namespace hangar::marketplace
