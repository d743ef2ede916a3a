#pragma once
// A managed instance's own Workspace. Each instance of a product with a "workspace" block gets
// one in its tenant, made before the instance starts and deleted once it is torn down: named
// like the instance (or after its id, when a workspace of that name is someone else's), with
// spec.instance pointing back and spec.plan following the instance's plan (its push quota).
// The instance is started with the cloud's address, the workspace's id and a registration
// token in its environment, so it registers itself by the contract like any other server.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/store/store.hpp"

namespace hangar::edge {

using Environment = std::vector<std::pair<std::string, std::string>>;

class InstanceWorkspaces {
public:
    InstanceWorkspaces(store::Store& store, Workspaces& workspaces, const core::Clock& clock)
        : store_(store), workspaces_(workspaces), clock_(clock) {}

    // The instance's workspace, made or brought in step with `block` (the product's, already
    // validated) and the instance's plan; returns what to add to the instance's environment:
    // HANGAR_CLOUD_URL, HANGAR_WORKSPACE_ID and HANGAR_REGISTRATION_TOKEN.
    core::Result<Environment> Prepare(const store::Object& instance, const json::object& block);
    // Deletes the instance's workspace; none is fine.
    core::Result<void> Release(const store::Object& instance);

private:
    // The workspace whose spec.instance is this instance, if there is one.
    core::Result<std::optional<store::Object>> Find(const store::Object& instance);
    core::Result<store::Object> Create(const store::Object& instance, const json::object& spec);

    store::Store& store_;
    Workspaces& workspaces_;
    const core::Clock& clock_;
};

}  // namespace hangar::edge
