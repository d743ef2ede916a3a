#include "hangar/auth/principal.hpp"

namespace hangar::auth {

std::string_view RoleName(Role r) {
    switch (r) {
        case Role::kViewer:
            return "viewer";
        case Role::kOperator:
            return "operator";
        case Role::kOwner:
            return "owner";
        case Role::kAdmin:
            return "admin";
    }
    return "viewer";
}

std::optional<Role> ParseRole(std::string_view s) {
    for (Role r : {Role::kViewer, Role::kOperator, Role::kOwner, Role::kAdmin}) {
        if (RoleName(r) == s) {
            return r;
        }
    }
    return std::nullopt;
}

}  // namespace hangar::auth
