#include "hangar/observe/kinds.hpp"

#include "hangar/observe/specs.hpp"

namespace hangar::observe {

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "SLO",
        .plural = "slos",
        .prefix = "slo",
        .module = "observe",
        .summary = "A service level objective on an instance's probes, with burn-rate alerts",
        .apply_order = 60,
        .validate = ValidateSloSpec,
    });
    registry.Add({
        .name = "MaintenanceWindow",
        .plural = "maintenancewindows",
        .prefix = "mtw",
        .module = "observe",
        .summary = "A time when matching instances' alerts are muted and their downtime excused",
        .apply_order = 70,
        .validate = ValidateMaintenanceWindowSpec,
    });
}

}  // namespace hangar::observe
