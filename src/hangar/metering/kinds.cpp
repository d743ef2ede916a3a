#include "hangar/metering/kinds.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/metering/entitlements.hpp"
#include "hangar/metering/meter.hpp"

namespace hangar::metering {

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "Meter",
        .plural = "meters",
        .prefix = "mtr",
        .module = "metering",
        .summary = "What usage events count and how: an event type, a value and groups",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateMeterSpec,
        // The object's name is its slug spelled as a name ('_' as '-'): one meter per slug.
        .admit = [](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
            std::string want = MeterObjectName(core::StrAt(candidate.spec, "slug"));
            if (candidate.name != want) {
                return core::Fail(core::FieldError(
                    "metadata.name", fmt::format("must be {} (the slug, '_' written '-')", want)
                ));
            }
            return registry::AdmissionHold{};
        },
        .columns =
            {{"ID", "metadata.id"},
             {"SLUG", "spec.slug"},
             {"EVENT TYPE", "spec.event_type"},
             {"AGGREGATION", "spec.aggregation"},
             {"VALUE", "spec.value_property"}},
    });
    registry.Add({
        .name = "Feature",
        .plural = "features",
        .prefix = "fea",
        .module = "metering",
        .summary = "Something a customer may be entitled to, measured by a meter",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateFeatureSpec,
        .admit = [](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
            std::string want = MeterObjectName(core::StrAt(candidate.spec, "key"));
            if (candidate.name != want) {
                return core::Fail(core::FieldError(
                    "metadata.name", fmt::format("must be {} (the key, '_' written '-')", want)
                ));
            }
            return registry::AdmissionHold{};
        },
        .columns = {{"ID", "metadata.id"}, {"KEY", "spec.key"}, {"METER", "spec.meter_slug"}},
    });
    registry.Add({
        .name = "Entitlement",
        .plural = "entitlements",
        .prefix = "ent",
        .module = "metering",
        .summary = "A tenant's or a plan's right to a feature: boolean, static or a metered budget",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateEntitlementSpec,
        .columns =
            {{"ID", "metadata.id"},
             {"FEATURE", "spec.feature"},
             {"SUBJECT", "spec.subject"},
             {"PLAN", "spec.plan"},
             {"TYPE", "spec.type"}},
    });
}

}  // namespace hangar::metering
