#pragma once

#include "hangar/api/call.hpp"
#include "hangar/api/watch_hub.hpp"
#include "hangar/http/router.hpp"
#include "hangar/registry/registry.hpp"

namespace hangar::fleet {
class Provisioner;
}  // namespace hangar::fleet

namespace hangar::api {

// Registers create/list/watch/get/update/delete for every kind.
void AddResourceRoutes(
    http::Router& router,
    Deps& deps,
    const registry::Registry& kinds,
    WatchHub& hub
);

// GET /v1/instances/{id}/logs: the last lines of an instance's stdout or stderr, or what was
// appended after a byte offset (x-log-offset carries where to continue: `hangar logs -f`).
void AddInstanceLogRoute(
    http::Router& router,
    Deps& deps,
    const registry::Registry& kinds,
    fleet::Provisioner& provisioner
);

// Reads an object of a kind the caller may see; another tenant's object is "not found".
Result<store::Object>
GetVisible(Deps& deps, const registry::Kind& kind, const auth::Principal& who, std::string_view id);

}  // namespace hangar::api
