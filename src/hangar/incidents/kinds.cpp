#include "hangar/incidents/kinds.hpp"

#include "hangar/incidents/incidents.hpp"

namespace hangar::incidents {

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "Incident",
        .plural = "incidents",
        .prefix = "inc",
        .module = "incidents",
        .summary = "Severity, roles, status, timeline and post-mortem of something that went wrong",
        .validate = ValidateIncidentSpec,
        .columns =
            {{"ID", "metadata.id"},
             {"SEVERITY", "spec.severity"},
             {"STATUS", "spec.status"},
             {"LEAD", "spec.roles.lead"},
             {"OPENED", "metadata.created_at"},
             {"POST-MORTEM", "spec.postmortem.state"},
             {"TITLE", "spec.title"}},
    });
}

}  // namespace hangar::incidents
