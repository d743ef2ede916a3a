#pragma once
// Suspending a tenant's instances for non-payment, and resuming them: each instance it suspends
// carries the label hangar.io/billing-hold, so that a resume wakes only those, never one an
// operator suspended on purpose.

#include <string>

#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

inline constexpr const char* kBillingHoldLabel = "hangar.io/billing-hold";

// How many instances changed; `audit` stamps each change (its object is set per instance).
core::Result<int> SetBillingHold(
    store::Store& store,
    const std::string& tenant,
    bool hold,
    const store::AuditEvent& audit
);

}  // namespace hangar::fleet
