#include "hangar/edge/kinds.hpp"

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
}

}  // namespace hangar::edge
