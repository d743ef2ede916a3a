#pragma once

#include <functional>

#include "hangar/api/call.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/http/router.hpp"
#include "hangar/registry/registry.hpp"

namespace hangar::api {

void AddTokenRoutes(http::Router& router, Deps& deps);
void AddAuditRoutes(http::Router& router, Deps& deps);
// The Prometheus-compatible metrics API (/api/v1/...), when deps.tsdb is set.
void AddMetricsRoutes(http::Router& router, Deps& deps);
// GET /v1/tenants/{id}/sla, when deps.tsdb is set.
void AddSlaRoutes(http::Router& router, Deps& deps);
// Alert intake, page actions, on-call lookups (alerting_api.cpp), when deps.alerts is set.
void AddAlertingRoutes(http::Router& router, Deps& deps);
// Incident actions, timeline, post-mortem, the status page and the hand-off (incidents_api.cpp).
void AddIncidentRoutes(http::Router& router, Deps& deps);
// Workspace registration tokens, secret rotation, device-flow approvals and statistics views
// (workspaces_api.cpp), when deps.workspaces is set.
void AddWorkspaceRoutes(http::Router& router, Deps& deps);
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
// Every route `hangar serve` answers but the workspace cloud's (edge::AddWorkspaceCloudRoutes):
// the ones above, each registered kind's (AddResourceRoutes), and GET /v1/kinds.
void AddAllRoutes(
    http::Router& router,
    Deps& deps,
    const registry::Registry& kinds,
    WatchHub& hub,
    core::MetricsRegistry& metrics,
    const std::function<bool()>& ready
);

// The OpenAPI document served at /v1/openapi.json (docs/openapi.json, built in).
std::string_view OpenApiDocument();

}  // namespace hangar::api
