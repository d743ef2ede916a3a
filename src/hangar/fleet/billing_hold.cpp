#include "hangar/fleet/billing_hold.hpp"

#include "hangar/core/json.hpp"

namespace hangar::fleet {

core::Result<int> SetBillingHold(
    store::Store& store,
    const std::string& tenant,
    bool hold,
    const store::AuditEvent& audit
) {
    auto instances = store.ListAll("Instance", tenant, [hold](const store::Object& o) {
        bool held = o.labels.contains(kBillingHoldLabel);
        return hold ? !core::BoolAt(o.spec, "suspended") && o.deletion_requested_at.empty() : held;
    });
    if (!instances) {
        return core::Fail(instances.error());
    }
    int changed = 0;
    for (const auto& o : *instances) {
        store::AuditEvent a = audit;
        a.object = o.id;
        auto r = store.Update(
            o.id,
            std::nullopt,
            audit.time,
            [hold](store::Object& x) -> core::Result<void> {
                x.spec["suspended"] = hold;
                if (hold) {
                    x.labels[kBillingHoldLabel] = "true";
                } else {
                    x.labels.erase(kBillingHoldLabel);
                }
                return {};
            },
            a
        );
        if (r) {
            ++changed;
        } else if (r.error().code != core::ErrorCode::kNotFound) {
            return core::Fail(r.error());
        }
    }
    return changed;
}

}  // namespace hangar::fleet
