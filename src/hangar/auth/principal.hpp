#pragma once
// Who is calling: a token's tenant and role. Platform admins have no tenant and see everything;
// everyone else sees only their tenant, and an object of another tenant does not exist for them.

#include <optional>
#include <string>
#include <string_view>

namespace hangar::auth {

enum class Role { kViewer = 0, kOperator = 1, kOwner = 2, kAdmin = 3 };

std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);

struct Principal {
    std::string token_id;
    std::string tenant;  // empty for platform admins
    Role role = Role::kViewer;
    std::string user_id;

    bool IsAdmin() const { return role == Role::kAdmin; }
    bool AtLeast(Role r) const { return static_cast<int>(role) >= static_cast<int>(r); }
    // Can this caller see objects of `tenant`?
    bool Sees(std::string_view object_tenant) const { return IsAdmin() || object_tenant == tenant; }
    std::string Actor() const { return token_id.empty() ? "anonymous" : "token:" + token_id; }
};

}  // namespace hangar::auth
