#include "hangar/metering/kinds.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"
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
}

}  // namespace hangar::metering
