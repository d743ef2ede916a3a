#pragma once

#include "hangar/registry/registry.hpp"
#include "hangar/store/store.hpp"

namespace hangar::billing {

// PlanPrice, TaxRate, UnitCost (written by platform admins), Subscription and Invoice
// (written by billing itself; changed through its routes).
void RegisterKinds(registry::Registry& registry, store::Store& store);

// The unit costs an operator sets, by resource.
inline constexpr const char* kCostResources[] = {
    "cpu_hour",
    "memory_gib_hour",
    "storage_gib_month",
    "notification"};

}  // namespace hangar::billing
