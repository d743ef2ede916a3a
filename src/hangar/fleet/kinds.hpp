#pragma once
// The fleet's kinds: Product, Plan, Instance and Rollout, with their admission rules (an
// instance's product, version and plan exist and its tenant stays within its quotas; a
// rollout's target version exists) and actions (suspend, resume, restart; pause, resume, abort).

#include <functional>
#include <map>
#include <string>

#include "hangar/registry/registry.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

// Reads one block of a product's spec that another module owns (edge reads "workspace"); the
// block is replaced by what it returns.
using ProductBlock =
    std::function<core::Result<boost::json::object>(const boost::json::object& block)>;

void RegisterKinds(
    registry::Registry& registry,
    store::Store& store,
    std::map<std::string, ProductBlock> product_blocks = {}
);

}  // namespace hangar::fleet
