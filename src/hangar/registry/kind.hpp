#pragma once
// One kind of resource, as its owning module declares it: its names, whose objects it holds,
// who writes them, and the hooks that give it its rules. Everything else (CRUD, paging,
// selectors, optimistic concurrency, idempotency, watch, audit) is the API's generic machinery.

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/auth/principal.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/types.hpp"

namespace hangar::registry {

// Whose objects these are.
enum class Scope {
    kTenant,    // one tenant's (User, Instance)
    kSelf,      // its own tenant (Tenant)
    kPlatform,  // everyone's: a catalogue platform admins write and every tenant reads (Product)
};

std::string_view ScopeName(Scope s);

// A column of the kind's table (`hangar get`, the dashboard): a header and a dotted path into
// the object as the API returns it ("status.phase").
struct Column {
    std::string header{};
    std::string path{};
};

// POST /v1/{plural}/{id}:{name}: a named change to the spec.
struct Action {
    std::string name{};
    std::function<void(boost::json::object& spec)> apply;
};

// Held by the API from an admit hook's checks to the commit of the write they admitted, so
// that two concurrent writes cannot both pass a check the second would fail (quotas).
using AdmissionHold = std::unique_lock<std::mutex>;

struct Kind {
    std::string name{};    // "Instance"
    std::string plural{};  // "instances": the URL segment, and the name the CLI takes
    std::string prefix{};  // "ins": ids are ins_ followed by 20 characters
    std::string module{};  // the module that owns it ("fleet")
    std::string summary{};
    Scope scope = Scope::kTenant;
    // Who may write objects of the kind (admins always may).
    auth::Role write_role = auth::Role::kOperator;
    // Only platform admins create and delete them (tenants, the catalogue).
    bool admin_creates = false;
    // Written only by Hangar itself (Alert, Page): the API reads, lists and watches them;
    // changes go through the kind's own routes.
    bool system_managed = false;
    // DELETE marks the object (metadata.deletion_requested_at) and a controller tears it down
    // and removes it; spec.deletion_protection refuses the delete.
    bool finalized = false;
    // Position in `hangar apply`: what others refer to comes first, deletes run in reverse.
    // 0: not declared in fleet files (alerts, pages, incidents are records, not configuration).
    int apply_order = 0;

    // Reads a spec strictly (an unknown field or a wrong type is an error naming the field) and
    // returns it normalised, defaults filled in. Null only for system-managed kinds.
    std::function<core::Result<boost::json::object>(const boost::json::object& spec)> validate{};
    // Checks that span objects, at create and update, with the candidate as it would be
    // written; may fill defaults that depend on other objects. The hold it returns is kept
    // until the write commits.
    std::function<core::Result<AdmissionHold>(store::Object& candidate)> admit{};
    // May refuse a delete (conflict: the object is still in use).
    std::function<core::Result<void>(const store::Object& target)> before_delete{};
    // Runs after the object is gone; `audit` is the delete's event, to stamp follow-up changes.
    std::function<void(const store::Object& deleted, const store::AuditEvent& audit)>
        after_delete{};
    std::vector<Action> actions{};
    // Spec fields that only a platform admin may set or change (a tenant's plan and suspension
    // belong to the platform, not to the customer). A tenant's write that leaves one out keeps
    // its current value.
    std::vector<std::string> platform_fields{};
    // Its table; empty: ID, NAME, TENANT, AGE.
    std::vector<Column> columns{};
};

}  // namespace hangar::registry
