#pragma once

#include <chrono>
#include <functional>

#include "hangar/api/call.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/http/router.hpp"
#include "hangar/registry/registry.hpp"

namespace hangar::fleet {
class Provisioner;
}  // namespace hangar::fleet
namespace hangar::metrics {
class Tsdb;
}
namespace hangar::alerting {
class Dispatcher;
class Remediator;
}  // namespace hangar::alerting
namespace hangar::oncall {
class Pager;
}
namespace hangar::incidents {
class Incidents;
}
namespace hangar::edge {
class Workspaces;
class Collector;
}  // namespace hangar::edge

namespace hangar::marketplace {
class Catalogue;
}  // namespace hangar::marketplace
namespace hangar::billing {
class Billing;
}  // namespace hangar::billing
namespace hangar::api {

void AddTokenRoutes(http::Router& router, Deps& deps);
void AddAuditRoutes(http::Router& router, Deps& deps);
// The Prometheus-compatible metrics API (/api/v1/...).
void AddMetricsRoutes(
    http::Router& router,
    Deps& deps,
    metrics::Tsdb& tsdb,
    std::chrono::milliseconds query_timeout
);
// GET /v1/tenants/{id}/sla.
void AddSlaRoutes(http::Router& router, Deps& deps, metrics::Tsdb& tsdb);
// Alert intake, page actions, on-call lookups, runbook approvals when there is a remediator
// (alerting_api.cpp).
void AddAlertingRoutes(
    http::Router& router,
    Deps& deps,
    alerting::Dispatcher& alerts,
    oncall::Pager& pager,
    alerting::Remediator* remediator
);
// Incident actions, timeline, post-mortem, the status page and the hand-off (incidents_api.cpp).
void AddIncidentRoutes(http::Router& router, Deps& deps, incidents::Incidents& incidents);
// Workspace registration tokens, secret rotation and device-flow approvals (workspaces_api.cpp).
void AddWorkspaceRoutes(http::Router& router, Deps& deps, edge::Workspaces& workspaces);
// POST /v1/apps:publish, the marketplace's upload (marketplace_api.cpp).
void AddMarketplaceAdminRoutes(http::Router& router, Deps& deps, marketplace::Catalogue& catalogue);
// POST /v1/appreleases/{id}:yank: one version withdrawn (marketplace_api.cpp).
void AddAppReleaseYankRoute(http::Router& router, Deps& deps);
// Subscriptions, invoices, payment webhooks and margins (billing_api.cpp).
void AddBillingRoutes(http::Router& router, Deps& deps, billing::Billing& billing);
// A workspace's statistics history and documents, and the fleet's (workspaces_api.cpp).
void AddStatisticsRoutes(http::Router& router, Deps& deps, edge::Collector& collector);
// GET / and GET /ui/{file}: the dashboard's files, built in (dashboard_api.cpp).
void AddDashboardRoutes(http::Router& router);
// `ready` says whether the server takes traffic (false while starting or draining).
void AddSystemRoutes(
    http::Router& router,
    Deps& deps,
    core::MetricsRegistry& metrics,
    const std::function<bool()>& ready
);

class WatchHub;
// The services behind the route groups: each group gets only the ones it uses.
struct Services {
    fleet::Provisioner& provisioner;
    metrics::Tsdb& tsdb;
    alerting::Dispatcher& alerts;
    oncall::Pager& pager;
    alerting::Remediator& remediator;
    incidents::Incidents& incidents;
    edge::Workspaces& workspaces;
    edge::Collector& collector;
    marketplace::Catalogue& catalogue;
    billing::Billing& billing;
    std::chrono::milliseconds query_timeout{120'000};  // a PromQL query's evaluation time
};
// Every route `hangar serve` answers but the workspace cloud's (edge::AddWorkspaceCloudRoutes):
// the ones above, each registered kind's (AddResourceRoutes), and GET /v1/kinds.
void AddAllRoutes(
    http::Router& router,
    Deps& deps,
    const Services& services,
    const registry::Registry& kinds,
    WatchHub& hub,
    core::MetricsRegistry& metrics,
    const std::function<bool()>& ready
);

// The OpenAPI document served at /v1/openapi.json (docs/openapi.json, built in).
std::string_view OpenApiDocument();

}  // namespace hangar::api
