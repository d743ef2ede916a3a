#include "hangar/alerting/kinds.hpp"

#include "hangar/alerting/specs.hpp"

namespace hangar::alerting {

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "AlertRule",
        .plural = "alertrules",
        .prefix = "arl",
        .module = "alerting",
        .summary = "A PromQL expression that fires alerts after a `for` duration",
        .apply_order = 80,
        .validate = ValidateAlertRuleSpec,
    });
    registry.Add({
        .name = "Silence",
        .plural = "silences",
        .prefix = "sil",
        .module = "alerting",
        .summary = "Matchers that mute alerts from a start to an end, with a reason",
        .apply_order = 90,
        .validate = ValidateSilenceSpec,
    });
    registry.Add({
        .name = "NotificationPolicy",
        .plural = "notificationpolicies",
        .prefix = "ntp",
        .module = "alerting",
        .summary = "How alerts are grouped, inhibited and routed to escalation policies",
        .apply_order = 120,
        .validate = ValidateNotificationPolicySpec,
    });
    registry.Add({
        .name = "Runbook",
        .plural = "runbooks",
        .prefix = "rbk",
        .module = "alerting",
        .summary = "Steps that remediate an alert, automatically or after approval",
        .apply_order = 130,
        .validate = ValidateRunbookSpec,
    });
    registry.Add({
        .name = "Alert",
        .plural = "alerts",
        .prefix = "alr",
        .module = "alerting",
        .summary = "One firing instance of an alert rule, identified by its labels",
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .system_managed = true,
        .columns =
            {{"ALERT", "spec.labels.alertname"},
             {"STATE", "status.state"},
             {"PRIORITY", "status.priority"},
             {"INSTANCE", "spec.labels.instance_name"},
             {"SINCE", "status.starts_at"},
             {"FIRED", "status.fire_count"},
             {"SUMMARY", "spec.annotations.summary"},
             {"MUTED BY", "status.suppressed_by"}},
    });
}

}  // namespace hangar::alerting
