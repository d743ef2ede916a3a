// /v1/tokens: create (the secret is in this one answer only), list, get, revoke.

#include <fmt/format.h>

#include <boost/json/object.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;

namespace {

json::object TokenJson(const store::Token& t) {
    json::object o;
    o["id"] = t.id;
    o["tenant"] = t.tenant.empty() ? json::value(nullptr) : json::value(t.tenant);
    o["role"] = t.role;
    o["name"] = t.name;
    o["user"] = t.user_id.empty() ? json::value(nullptr) : json::value(t.user_id);
    o["created_at"] = t.created_at;
    o["created_by"] = t.created_by;
    o["expires_at"] = t.expires_at.empty() ? json::value(nullptr) : json::value(t.expires_at);
    o["revoked_at"] = t.revoked_at.empty() ? json::value(nullptr) : json::value(t.revoked_at);
    return o;
}

// Who may manage tokens of `tenant`: platform admins, and owners of that tenant.
Result<void> MayManage(const auth::Principal& who, std::string_view tenant) {
    if (who.IsAdmin()) {
        return {};
    }
    if (who.role != auth::Role::kOwner) {
        return Fail(Forbidden(fmt::format(
            "managing tokens needs the owner role; this token is {}", auth::RoleName(who.role)
        )));
    }
    if (tenant != who.tenant) {
        return Fail(Forbidden("an owner manages only its own tenant's tokens"));
    }
    return {};
}

Result<http::Response> CreateToken(Deps& deps, Call& c) {
    auto body = BodyObject(c.req);
    if (!body) {
        return Fail(body.error());
    }
    core::ObjectReader r(*body, "");
    auto tenant = r.String("tenant");
    auto role_s = r.String("role", /*required=*/true);
    auto name = r.String("name");
    auto user = r.String("user");
    auto expires_in = r.String("expires_in");
    auto expires_at = r.String("expires_at");
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    auto role = auth::ParseRole(*role_s);
    if (!role) {
        return Fail(core::FieldError("role", "must be one of admin, owner, operator, viewer"));
    }
    std::string t = tenant.value_or(c.who.IsAdmin() ? "" : c.who.tenant);
    if (*role == auth::Role::kAdmin) {
        if (!c.who.IsAdmin()) {
            return Fail(Forbidden("only platform admins create admin tokens"));
        }
        if (!t.empty()) {
            return Fail(
                core::FieldError("tenant", "an admin token belongs to no tenant; leave it out")
            );
        }
    } else {
        if (t.empty()) {
            return Fail(
                core::FieldError("tenant", "is required for owner, operator and viewer tokens")
            );
        }
        if (!core::IsValidId(t, "ten")) {
            return Fail(core::FieldError("tenant", "is not a tenant id"));
        }
    }
    c.audit.tenant = t;
    if (auto m = MayManage(c.who, t); !m) {
        return Fail(m.error());
    }
    if (!t.empty()) {
        auto ten = deps.store.Get(t);
        if (!ten || ten->kind != "Tenant") {
            return Fail(core::FieldError("tenant", fmt::format("tenant {} does not exist", t)));
        }
    }
    if (name && name->size() > 100) {
        return Fail(core::FieldError("name", "must be at most 100 characters"));
    }
    std::string user_id;
    if (user) {
        auto u = deps.store.Get(*user);
        if (!core::IsValidId(*user, "usr") || !u || u->kind != "User" || u->tenant != t) {
            return Fail(core::FieldError(
                "user", fmt::format("user {} does not exist in this tenant", *user)
            ));
        }
        user_id = *user;
    }
    std::optional<core::TimePoint> exp;
    if (expires_in && expires_at) {
        return Fail(core::FieldError("expires_in", "give expires_in or expires_at, not both"));
    }
    if (expires_in) {
        auto d = core::ParseDuration(*expires_in);
        if (!d || d->count() == 0) {
            return Fail(
                core::FieldError("expires_in", "must be a duration such as 3600s, 90m, 12h or 30d")
            );
        }
        exp = deps.clock.Now() + *d;
    } else if (expires_at) {
        exp = core::ParseRfc3339(*expires_at);
        if (!exp) {
            return Fail(core::FieldError("expires_at", "must be an RFC 3339 time"));
        }
        if (*exp <= deps.clock.Now()) {
            return Fail(core::FieldError("expires_at", "is in the past"));
        }
    }
    auto created = deps.tokens.Create(c.who, t, *role, name.value_or(""), user_id, exp, c.audit);
    c.audited = true;
    if (!created) {
        return Fail(created.error());
    }
    json::object out = TokenJson(created->token);
    out["token"] = created->secret;
    http::Response resp = JsonResponse(201, out);
    resp.headers.emplace_back("cache-control", "no-store");
    return resp;
}

Result<store::Token> VisibleToken(Deps& deps, const auth::Principal& who, std::string_view id) {
    if (!core::IsValidId(id, "tok")) {
        core::Error e = core::MakeError(
            ErrorCode::kInvalidArgument, fmt::format("\"{}\" is not a token id", id.substr(0, 64))
        );
        e.With("field", "id");
        return Fail(std::move(e));
    }
    auto t = deps.store.TokenById(id);
    if (!t) {
        return Fail(t.error());
    }
    if (!*t || !(who.IsAdmin() || (**t).tenant == who.tenant)) {
        return Fail(NotFound("token", id));
    }
    // Non-owners see only their own token.
    if (!who.IsAdmin() && who.role != auth::Role::kOwner && (**t).id != who.token_id) {
        return Fail(NotFound("token", id));
    }
    return **t;
}

}  // namespace

void AddTokenRoutes(http::Router& router, Deps& deps) {
    router.Add("POST", "/v1/tokens", Wrap(deps, "token.create", [&deps](Call& c) {
                   return CreateToken(deps, c);
               }));
    router.Add("GET", "/v1/tokens", Wrap(deps, "", [&deps](Call& c) -> Result<http::Response> {
                   if (auto r = KnownQuery(c.req, {"tenant"}); !r) {
                       return Fail(r.error());
                   }
                   std::optional<std::string> tenant = c.req.Query("tenant");
                   if (!c.who.IsAdmin()) {
                       if (auto m = MayManage(c.who, tenant.value_or(c.who.tenant)); !m) {
                           return Fail(m.error());
                       }
                       tenant = c.who.tenant;
                   }
                   auto list = deps.store.ListTokens(tenant);
                   if (!list) {
                       return Fail(list.error());
                   }
                   json::array items;
                   for (const auto& t : *list) {
                       items.push_back(TokenJson(t));
                   }
                   json::object out;
                   out["kind"] = "TokenList";
                   out["items"] = std::move(items);
                   return JsonResponse(200, out);
               }));
    router.Add("GET", "/v1/tokens/{id}", Wrap(deps, "", [&deps](Call& c) -> Result<http::Response> {
                   auto t = VisibleToken(deps, c.who, c.req.Param("id"));
                   if (!t) {
                       return Fail(t.error());
                   }
                   return JsonResponse(200, TokenJson(*t));
               }));
    router.Add(
        "DELETE",
        "/v1/tokens/{id}",
        Wrap(
            deps,
            "token.revoke",
            [&deps](Call& c) -> Result<http::Response> {
                std::string id(c.req.Param("id"));
                auto t = VisibleToken(deps, c.who, id);
                if (core::IsValidId(id, "tok")) {
                    c.audit.object = id;
                }
                if (!t) {
                    return Fail(t.error());
                }
                c.audit.tenant = t->tenant;
                if (t->id != c.who.token_id) {  // anyone may revoke the token they hold
                    if (auto m = MayManage(c.who, t->tenant); !m) {
                        return Fail(m.error());
                    }
                }
                auto revoked = deps.store.RevokeToken(
                    id, c.now, [](const store::Token&) -> Result<void> { return {}; }, c.audit
                );
                c.audited = true;
                if (!revoked) {
                    return Fail(revoked.error());
                }
                deps.tokens.Forget(revoked->hash);
                return JsonResponse(200, TokenJson(*revoked));
            }
        )
    );
}

}  // namespace hangar::api
