#pragma once
// The contract's routes (protocols/workspace-cloud.md), answered in its shapes: OAuth errors
// as {"error", "error_description"}, never Hangar's own error envelope.

#include "hangar/core/rate_limit.hpp"
#include "hangar/http/router.hpp"

namespace hangar::auth {
class TokenService;
}  // namespace hangar::auth

namespace hangar::edge {

class Workspaces;
class Collector;
class PushGateway;

struct EdgeDeps {
    Workspaces& workspaces;
    Collector& collector;
    // Calls that carry no workspace token (registration, device flow, anonymous statistics),
    // per client address; null: unlimited.
    core::RateLimiter* public_limiter = nullptr;
    PushGateway* push = nullptr;  // null: no push routes
    // Checks the Hangar token a user signs in with on the "connect my account" page; null: the
    // page refuses every sign-in.
    auth::TokenService* tokens = nullptr;
};

// /api/oauth/clients, /api/oauth/token, /api/v2/register/workspace/{intent,poll},
// /api/v2/workspaces/{id}/sync, /collector and /push/{service}/send.
void AddWorkspaceCloudRoutes(http::Router& router, EdgeDeps& deps);
// POST / : the collector on a listener of its own.
void AddCollectorRootRoute(http::Router& router, EdgeDeps& deps);

}  // namespace hangar::edge
