#pragma once
// OpenMeter's HTTP API over Hangar's metering (protocol shapes from its api/openapi.yaml and
// handlers): POST/GET /api/v1/events, /api/v1/meters (CRUD), /api/v1/meters/{id}/query and
// /subjects. Errors are application/problem+json {type, title, status, detail}.
// Callers: a Hangar API token (a platform admin: any subject; a tenant's: its own tenant id as
// the subject, and no reserved "hangar." event types), or a workspace's access token (an
// instance of a product reporting its tenant's usage).

#include "hangar/auth/tokens.hpp"
#include "hangar/http/router.hpp"

namespace hangar::edge {
class Workspaces;
}  // namespace hangar::edge

namespace hangar::metering {

class Metering;

struct MeteringDeps {
    Metering& metering;
    auth::TokenService& tokens;
    edge::Workspaces& workspaces;
};

void AddMeteringRoutes(http::Router& router, MeteringDeps& deps);

class Entitlements;
// OpenMeter's v1 entitlement routes (a subject's entitlements, grants and value) and
// GET /v1/entitlements/check?feature= for a product's own check with its workspace token.
// Registered before the API's generic routes (/v1/entitlements/{id} would take "check").
void AddEntitlementRoutes(http::Router& router, MeteringDeps& deps, Entitlements& entitlements);

}  // namespace hangar::metering
