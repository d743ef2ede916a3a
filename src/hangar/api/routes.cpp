#include "hangar/api/routes.hpp"

#include "hangar/api/resources.hpp"
#include "hangar/api/watch_hub.hpp"

namespace hangar::api {

namespace {

// GET /v1/kinds: the registered kinds, so that clients (the CLI, `hangar apply`, the dashboard)
// need no list of their own.
void AddKindsRoute(http::Router& router, Deps& deps, const registry::Registry& kinds) {
    router.Add("GET", "/v1/kinds", Wrap(deps, "", [&kinds](Call&) -> Result<http::Response> {
                   json::object o;
                   o["items"] = kinds.Describe();
                   return JsonResponse(200, o);
               }));
}

}  // namespace

void AddAllRoutes(
    http::Router& router,
    Deps& deps,
    const Services& services,
    const registry::Registry& kinds,
    WatchHub& hub,
    core::MetricsRegistry& metrics,
    const std::function<bool()>& ready
) {
    AddSystemRoutes(router, deps, metrics, ready);
    AddKindsRoute(router, deps, kinds);
    AddTokenRoutes(router, deps);
    AddAuditRoutes(router, deps);
    AddMetricsRoutes(router, deps, services.tsdb, services.query_timeout);
    AddSlaRoutes(router, deps, services.tsdb);
    AddAlertingRoutes(router, deps, services.alerts, services.pager, &services.remediator);
    AddIncidentRoutes(router, deps, services.incidents);
    AddWorkspaceRoutes(router, deps, services.workspaces);
    AddStatisticsRoutes(router, deps, services.collector);
    AddMarketplaceAdminRoutes(router, deps, services.catalogue);
    AddAppReleaseYankRoute(router, deps);
    AddBillingRoutes(router, deps, services.billing);
    AddInstanceLogRoute(router, deps, kinds, services.provisioner);
    AddResourceRoutes(router, deps, kinds, hub);
    AddDashboardRoutes(router);
}

}  // namespace hangar::api
