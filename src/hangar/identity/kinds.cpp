#include "hangar/identity/kinds.hpp"

#include <cctype>

#include <fmt/format.h>

#include "hangar/core/destination.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::identity {

namespace json = boost::json;
using core::Fail;
using core::ObjectReader;

namespace {

core::Result<json::object> ValidateTenant(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto v = core::ReadBoundedString(r, "display_name", 200)) {
        out["display_name"] = *v;
    }
    if (auto v = core::ReadBoundedString(r, "plan", 63)) {
        out["plan"] = *v;
    }
    if (auto v = core::ReadEmail(r, "contact_email")) {
        out["contact_email"] = *v;
    }
    if (auto v = r.Bool("suspended")) {
        out["suspended"] = *v;
    }
    // Where the customer is: its invoices carry that country's TaxRate.
    if (auto c = r.String("country")) {
        if (c->size() != 2 || !std::isupper(static_cast<unsigned char>((*c)[0])) ||
            !std::isupper(static_cast<unsigned char>((*c)[1]))) {
            r.SetError("spec.country", "must be an ISO 3166 alpha-2 code such as DE");
        }
        out["country"] = *c;
    }
    if (auto done = r.Finish(); !done) {
        return Fail(done.error());
    }
    return out;
}

core::Result<json::object> ValidateUser(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto v = core::ReadEmail(r, "email", /*required=*/true)) {
        out["email"] = *v;
    }
    if (auto v = core::ReadBoundedString(r, "display_name", 200)) {
        out["display_name"] = *v;
    }
    // Where pages go besides email: a Slack-compatible incoming webhook.
    if (auto hook = r.String("webhook_url")) {
        if (auto ok = core::DestinationPolicy::Global().CheckUrl(*hook); !ok) {
            r.SetError("spec.webhook_url", ok.error().message);
        }
        out["webhook_url"] = *hook;
    }
    if (auto role = r.String("role", /*required=*/true)) {
        auto parsed = auth::ParseRole(*role);
        if (!parsed || *parsed == auth::Role::kAdmin) {
            r.SetError("spec.role", "must be one of owner, operator, viewer");
        }
        out["role"] = *role;
    }
    if (auto done = r.Finish(); !done) {
        return Fail(done.error());
    }
    return out;
}

}  // namespace

void RegisterKinds(registry::Registry& registry, store::Store& store, auth::TokenService& tokens) {
    registry.Add({
        .name = "Tenant",
        .plural = "tenants",
        .prefix = "ten",
        .module = "identity",
        .summary = "A customer organisation: owns instances, workspaces, users, tokens, a plan",
        .scope = registry::Scope::kSelf,
        .write_role = auth::Role::kOwner,
        .admin_creates = true,
        .apply_order = 10,
        .validate = ValidateTenant,
        // A tenant goes only once it owns nothing.
        .before_delete = [&registry, &store](const store::Object& tenant) -> core::Result<void> {
            for (const registry::Kind* k : registry.All()) {
                if (k->scope != registry::Scope::kTenant || k->system_managed) {
                    continue;  // Hangar's own records (alerts, pages) do not hold a tenant back
                }
                auto res = store.List(store::ListQuery{k->name, tenant.id, "", 1, {}});
                if (!res) {
                    return Fail(res.error());
                }
                if (!res->items.empty()) {
                    return Fail(
                        core::ErrorCode::kConflict,
                        fmt::format(
                            "tenant {} still has {}; delete them first", tenant.id, k->plural
                        )
                    );
                }
            }
            return {};
        },
        // Its tokens stop working with it.
        .after_delete =
            [&store, &tokens](const store::Object& tenant, const store::AuditEvent& audit) {
                auto toks = store.ListTokens(std::optional<std::string>(tenant.id));
                if (!toks) {
                    return;
                }
                for (const auto& t : *toks) {
                    if (t.revoked_at.empty()) {
                        store::AuditEvent a = audit;
                        a.action = "token.revoke";
                        a.object = t.id;
                        a.outcome.clear();
                        (void)store.RevokeToken(
                            t.id,
                            audit.time,
                            [](const store::Token&) -> core::Result<void> { return {}; },
                            a
                        );
                    }
                }
                tokens.ForgetAll();
            },
        .platform_fields = {"plan", "suspended"},
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"DISPLAY NAME", "spec.display_name"},
             {"PLAN", "spec.plan"},
             {"LABELS", "metadata.labels"},
             {"CREATED", "metadata.created_at"}},
    });
    registry.Add({
        .name = "User",
        .plural = "users",
        .prefix = "usr",
        .module = "identity",
        .summary = "A person with a role in a tenant, paged by email or webhook",
        .write_role = auth::Role::kOwner,
        .apply_order = 40,
        .validate = ValidateUser,
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"TENANT", "metadata.tenant"},
             {"EMAIL", "spec.email"},
             {"ROLE", "spec.role"},
             {"CREATED", "metadata.created_at"}},
    });
}

}  // namespace hangar::identity
