#pragma once
// Tenants and their users: the Tenant kind (a customer organisation; deleted only once it owns
// nothing, and its tokens die with it) and the User kind (a person with a role in a tenant).

#include "hangar/auth/tokens.hpp"
#include "hangar/registry/registry.hpp"
#include "hangar/store/store.hpp"

namespace hangar::identity {

// `registry` is also read at delete time: a tenant holds objects of every tenant-scoped kind.
void RegisterKinds(registry::Registry& registry, store::Store& store, auth::TokenService& tokens);

}  // namespace hangar::identity
