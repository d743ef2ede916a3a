#pragma once
// What the store keeps: resource objects (metadata/spec/status), the change log, API tokens
// and audit events. Times and ids are stamped by the service layer, never by the store.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/audit_chain.hpp"
#include "hangar/core/error.hpp"

namespace hangar::store {

namespace json = boost::json;
using core::Result;

using Labels = std::map<std::string, std::string>;

struct Object {
    std::string id, kind, tenant, name;
    Labels labels;
    int64_t revision = 0;
    int64_t generation = 0;
    std::string created_at, updated_at;
    // Set when deletion was asked for and a controller still has to tear the object down.
    std::string deletion_requested_at;
    json::object spec, status;
};

// Names are unique per kind within a tenant; objects that are their own tenant (a Tenant)
// share one platform-wide scope, "".
inline std::string NameScope(const Object& o) {
    return o.tenant == o.id ? std::string() : o.tenant;
}

json::object ObjectToJson(const Object& o);
std::string ObjectToDoc(const Object& o);
core::Result<Object> ObjectFromDoc(std::string_view doc);
// A stored document as JSON a client can read: one written before non-finite numbers were
// refused has its bare Infinity, -Infinity or NaN read as null.
std::string RepairDoc(std::string doc);

enum class ChangeType { kAdded, kModified, kDeleted };
std::string_view ChangeTypeName(ChangeType t);
ChangeType ChangeTypeFromName(std::string_view name);

struct Change {
    int64_t revision = 0;
    ChangeType type = ChangeType::kAdded;
    std::string kind, id, tenant;
    std::string doc;  // the object after the change (before it, for a delete)
};

struct Token {
    std::string id;
    std::string tenant;  // empty: a platform token
    std::string role;    // admin | owner | operator | viewer
    std::string name;
    std::string user_id;
    std::string hash;  // sha256 of the secret; the secret itself is never stored
    std::string created_at, expires_at, revoked_at, created_by;
};

using AuditEvent = core::AuditFields;
// A new object Hangar makes itself (a page, an incident): a fresh id, and the id as its name
// ('_' → '-', so it is a valid name), created and updated now.
Object NewSystemObject(
    std::string kind,
    std::string_view prefix,
    std::string tenant,
    const std::string& now
);

// The event a controller's own write carries: no action, so the store records the change but
// appends nothing to the audit log.
inline AuditEvent SystemAudit(
    const std::string& now,
    std::string actor,
    const std::string& tenant,
    const std::string& id
) {
    return AuditEvent{0, now, std::move(actor), tenant, "", id, "", "local", ""};
}
struct StoredAuditEvent {
    AuditEvent event;
    std::string prev_hash, hash;
};

struct AuditQuery {
    std::string tenant{}, actor{}, action{};
    std::string since{}, until{};  // RFC 3339, inclusive bounds
    int64_t after_seq = 0;
    size_t limit = 100;
};

struct ListQuery {
    std::string kind;
    std::optional<std::string> tenant;  // nullopt: every tenant (platform admin)
    std::string after_id;               // cursor: ids strictly greater
    size_t limit = 100;
    // A filter applied before counting towards limit (label selectors).
    std::function<bool(const Object&)> filter;
};

struct ListResult {
    std::vector<Object> items;
    std::string next_after_id;  // empty when there is nothing more
    int64_t revision = 0;       // the store revision this list was read at
};

struct Idempotency {
    std::string scope;  // who asked (token id)
    std::string key;
    std::string request_hash;
};

}  // namespace hangar::store
