#pragma once
// The marketplace's contract routes (protocols/workspace-cloud.md sections 6 and 7), under
// `base` ("" on a listener of its own, "/marketplace" on the main one: its /v1 paths collide
// with Hangar's API). Callers are workspaces: a Bearer workspace token when registered (some
// calls carry none); the download takes a fresh marketplace:download token as ?token=.

#include <string>

#include "hangar/http/router.hpp"

namespace hangar::edge {
class Workspaces;
}  // namespace hangar::edge

namespace hangar::marketplace {

class Catalogue;
class AppRequests;

// With the app-request family and its page (<base>/apps/<id>/requestAccess).
void AddMarketplaceRoutes(
    http::Router& router,
    Catalogue& catalogue,
    AppRequests& requests,
    edge::Workspaces& workspaces,
    const std::string& base
);

}  // namespace hangar::marketplace
