#include "hangar/oncall/kinds.hpp"

#include "hangar/oncall/escalation.hpp"
#include "hangar/oncall/schedule.hpp"

namespace hangar::oncall {

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "Schedule",
        .plural = "schedules",
        .prefix = "sch",
        .module = "oncall",
        .summary = "Who is on call when: rotations, layers and overrides",
        .apply_order = 100,
        .validate = ValidateScheduleSpec,
    });
    registry.Add({
        .name = "EscalationPolicy",
        .plural = "escalationpolicies",
        .prefix = "esc",
        .module = "oncall",
        .summary = "Who is paged in which order, and how long each has to acknowledge",
        .apply_order = 110,
        .validate = ValidateEscalationPolicySpec,
    });
    registry.Add({
        .name = "Page",
        .plural = "pages",
        .prefix = "pag",
        .module = "oncall",
        .summary = "One notification to one person, to be acknowledged",
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"STATE", "status.state"},
             {"PRIORITY", "spec.priority"},
             {"ASSIGNEE", "status.assignee"},
             {"TRIGGERED", "status.triggered_at"},
             {"TITLE", "spec.title"}},
    });
}

}  // namespace hangar::oncall
