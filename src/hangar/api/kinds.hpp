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

namespace hangar::api {

struct KindInfo {
    std::string kind;    // "Tenant"
    std::string plural;  // "tenants"
    std::string prefix;  // "ten"
    bool tenant_scoped = true;  // false only for Tenant, whose tenant is itself
    auth::Role write_role = auth::Role::kOperator;
    bool admin_only_create = false;
    // Reads the spec strictly (unknown fields are errors) and returns it normalised.
    std::function<core::Result<boost::json::object>(const boost::json::object& spec)> validate;
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

// DNS-label names: lowercase letters, digits and '-', 1..63, starting and ending alphanumeric.
bool IsValidName(std::string_view name);

}  // namespace hangar::api
