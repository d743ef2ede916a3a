#pragma once
// The kinds the resource machinery serves. A kind is a name, a plural for its URL, an id prefix,
// who may write it, and a validator for its spec; everything else (CRUD, paging, selectors,
// optimistic concurrency, idempotency, watch, audit) is generic.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/auth/principal.hpp"
#include "hangar/core/json.hpp"
#include "hangar/store/store.hpp"

namespace hangar::edge {
class CloudKeys;
}

namespace hangar::api {

// Whose objects these are.
enum class Scope {
    kTenant,    // one tenant's (User, Instance)
    kSelf,      // its own tenant (Tenant)
    kPlatform,  // everyone's: a catalogue platform admins write and every tenant reads (Product,
                // Plan)
};

struct KindInfo {
    std::string kind;    // "Tenant"
    std::string plural;  // "tenants"
    std::string prefix;  // "ten"
    Scope scope = Scope::kTenant;
    auth::Role write_role = auth::Role::kOperator;
    bool admin_only_create = false;
    // Reads the spec strictly (unknown fields are errors) and returns it normalised.
    std::function<core::Result<boost::json::object>(const boost::json::object& spec)> validate;
    // DELETE marks the object (metadata.deletion_requested_at) and a controller tears it down
    // and removes it; spec.deletion_protection refuses the delete.
    bool finalized = false;
    // Checks that span objects, at create and update; may fill defaults into the candidate.
    std::function<core::Result<void>(store::Object& candidate)> admit;
    // POST /v1/{plural}/{id}:{name}: a named change to the spec.
    std::vector<std::pair<std::string, std::function<void(boost::json::object& spec)>>> actions;
    // Written only by Hangar itself (Alert, Page): the API reads, lists and watches them;
    // changes go through the kind's own routes.
    bool system_managed = false;
    // Spec fields that only a platform admin may set or change (a tenant's plan and
    // suspension belong to the platform, not to the customer). A tenant's write that leaves
    // one out keeps its current value.
    std::vector<std::string> platform_fields = {};
};

class Kinds {
public:
    void Add(KindInfo k) { kinds_.push_back(std::make_unique<KindInfo>(std::move(k))); }
    const KindInfo* ByPlural(std::string_view plural) const;
    const KindInfo* ByKind(std::string_view kind) const;
    std::vector<const KindInfo*> All() const;

private:
    std::vector<std::unique_ptr<KindInfo>> kinds_;
};

void AddBuiltinKinds(Kinds& kinds);
// Product, Plan and Instance (with quotas and the suspend/resume/restart actions).
void AddFleetKinds(Kinds& kinds, store::Store& store);
// SLO and MaintenanceWindow.
void AddObserveKinds(Kinds& kinds);
// AlertRule, Alert, Silence, NotificationPolicy, Runbook, Schedule, EscalationPolicy and Page.
void AddAlertingKinds(Kinds& kinds);
// Workspace and PushApp (whose credentials `keys` seals).
void AddEdgeKinds(Kinds& kinds, const edge::CloudKeys& keys);

// DNS-label names: lowercase letters, digits and '-', 1..63, starting and ending alphanumeric.
bool IsValidName(std::string_view name);

}  // namespace hangar::api
