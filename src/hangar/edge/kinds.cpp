#include "hangar/edge/kinds.hpp"

#include "hangar/edge/announcements.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::edge {

void RegisterKinds(registry::Registry& registry, const CloudKeys& keys) {
    registry.Add({
        .name = "Workspace",
        .plural = "workspaces",
        .prefix = "wks",
        .module = "edge",
        .summary = "A registered client of the cloud services, with its OAuth credentials",
        .apply_order = 140,
        .validate = ValidateWorkspaceSpec,
        .platform_fields = {"plan"},  // its licence and push quota follow the plan
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"TENANT", "metadata.tenant"},
             {"REGISTRATION", "status.registration"},
             {"VERSION", "status.version"},
             {"SEATS", "status.seats"},
             {"LAST SYNC", "status.last_sync_at"}},
    });
    registry.Add({
        .name = "PushApp",
        .plural = "pushapps",
        .prefix = "pap",
        .module = "edge",
        .summary = "A mobile app's APNs or FCM credentials, sealed, for the push gateway",
        .apply_order = 150,
        .validate = PushAppValidator(keys),
    });
    registry.Add({
        .name = "AccountLink",
        .plural = "accountlinks",
        .prefix = "alk",
        .module = "edge",
        .summary = "A user's Hangar account connected to a workspace (\"connect my account\")",
        .scope = registry::Scope::kTenant,
        .write_role = auth::Role::kOperator,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"WORKSPACE", "spec.workspace"},
             {"USER", "spec.user"},
             {"STATE", "status.state"},
             {"CONNECTED", "status.connected_at"}},
    });
    registry.Add({
        .name = "Announcement",
        .plural = "announcements",
        .prefix = "ann",
        .module = "edge",
        .summary = "A banner the operator shows in every workspace of its audience, with its reach",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 160,
        .validate = ValidateAnnouncementSpec,
        .actions =
            {
                {"withdraw",
                 [](json::object& spec) {
                     spec["withdrawn"] = true;
                 }},
            },
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"SEVERITY", "spec.severity"},
             {"ENDS", "spec.ends_at"},
             {"WITHDRAWN", "spec.withdrawn"},
             {"DELIVERED", "status.delivered"},
             {"CLICKED", "status.interactions.clicked"},
             {"DISMISSED", "status.interactions.dismissed"}},
    });
}

}  // namespace hangar::edge
