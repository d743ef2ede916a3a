#include "hangar/api/kinds.hpp"

#include <fmt/format.h>

#include "hangar/alerting/specs.hpp"
#include "hangar/core/destination.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/fleet/specs.hpp"
#include "hangar/incidents/incidents.hpp"
#include "hangar/observe/specs.hpp"
#include "hangar/oncall/escalation.hpp"
#include "hangar/oncall/schedule.hpp"

namespace hangar::api {

using core::ObjectReader;

const KindInfo* Kinds::ByPlural(std::string_view plural) const {
    for (const auto& k : kinds_) {
        if (k->plural == plural) {
            return k.get();
        }
    }
    return nullptr;
}

const KindInfo* Kinds::ByKind(std::string_view kind) const {
    for (const auto& k : kinds_) {
        if (k->kind == kind) {
            return k.get();
        }
    }
    return nullptr;
}

std::vector<const KindInfo*> Kinds::All() const {
    std::vector<const KindInfo*> out;
    for (const auto& k : kinds_) {
        out.push_back(k.get());
    }
    return out;
}

bool IsValidName(std::string_view s) {
    if (s.empty() || s.size() > 63) {
        return false;
    }
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    };
    if (!alnum(s.front()) || !alnum(s.back())) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

namespace {

bool LooksLikeEmail(std::string_view s) {
    auto at = s.find('@');
    // No spaces, controls or angle brackets: the address goes into mail headers as it is.
    return s.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos &&
           std::none_of(s.begin(), s.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',' ||
                      c == 0x7f;
           });
}

void BoundedString(
    ObjectReader& r,
    boost::json::object& out,
    std::string_view key,
    size_t max,
    bool required = false
) {
    auto v = r.String(key, required);
    if (!v) {
        return;
    }
    if (v->size() > max) {
        r.SetError(r.PathOf(key), fmt::format("must be at most {} characters", max));
        return;
    }
    out[key] = *v;
}

core::Result<boost::json::object> ValidateTenant(const boost::json::object& spec) {
    ObjectReader r(spec, "spec");
    boost::json::object out;
    BoundedString(r, out, "display_name", 200);
    BoundedString(r, out, "plan", 63);
    if (auto email = r.String("contact_email")) {
        if (!LooksLikeEmail(*email)) {
            r.SetError("spec.contact_email", "must be an email address");
        }
        out["contact_email"] = *email;
    }
    if (auto t = r.Bool("suspended")) {
        out["suspended"] = *t;
    }
    if (auto res = r.Finish(); !res) {
        return core::Fail(res.error());
    }
    return out;
}

core::Result<boost::json::object> ValidateUser(const boost::json::object& spec) {
    ObjectReader r(spec, "spec");
    boost::json::object out;
    if (auto email = r.String("email", /*required=*/true)) {
        if (!LooksLikeEmail(*email)) {
            r.SetError("spec.email", "must be an email address");
        }
        out["email"] = *email;
    }
    BoundedString(r, out, "display_name", 200);
    if (auto hook = r.String("webhook_url")) {
        // Where pages go besides email: a Slack-compatible incoming webhook.
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
    if (auto res = r.Finish(); !res) {
        return core::Fail(res.error());
    }
    return out;
}

// fleet reads the product; its "workspace" block is the cloud services' to read.
core::Result<boost::json::object> ValidateProduct(const boost::json::object& spec) {
    auto out = fleet::ValidateProductSpec(spec);
    if (!out) {
        return out;
    }
    if (const boost::json::object* block = core::ObjectAt(*out, "workspace")) {
        auto ws = edge::ValidateProductWorkspace(*block);
        if (!ws) {
            return core::Fail(ws.error());
        }
        (*out)["workspace"] = std::move(*ws);
    }
    return out;
}

}  // namespace

void AddBuiltinKinds(Kinds& kinds) {
    KindInfo tenant{
        "Tenant",
        "tenants",
        "ten",
        Scope::kSelf,
        auth::Role::kOwner,
        true,
        ValidateTenant,
        false,
        {},
        {}};
    tenant.platform_fields = {"plan", "suspended"};
    kinds.Add(std::move(tenant));
    kinds.Add(KindInfo{
        "User",
        "users",
        "usr",
        Scope::kTenant,
        auth::Role::kOwner,
        false,
        ValidateUser,
        false,
        {},
        {}});
}

void AddFleetKinds(Kinds& kinds, store::Store& store) {
    kinds.Add(KindInfo{
        "Product",
        "products",
        "prd",
        Scope::kPlatform,
        auth::Role::kAdmin,
        true,
        ValidateProduct,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "Plan",
        "plans",
        "pln",
        Scope::kPlatform,
        auth::Role::kAdmin,
        true,
        fleet::ValidatePlanSpec,
        false,
        {},
        {}});
    KindInfo instance{
        "Instance",
        "instances",
        "ins",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        fleet::ValidateInstanceSpec,
        true,
        {},
        {}};
    instance.admit = [&store](store::Object& candidate) {
        return fleet::AdmitInstance(store, candidate);
    };
    instance.actions = {
        {"suspend",
         [](boost::json::object& spec) {
             spec["suspended"] = true;
         }},
        {"resume",
         [](boost::json::object& spec) {
             spec["suspended"] = false;
         }},
        {"restart",
         [](boost::json::object& spec) {
             const auto* n = spec.if_contains("restart_nonce");
             spec["restart_nonce"] = (n != nullptr && n->is_int64() ? n->as_int64() : 0) + 1;
         }},
    };
    kinds.Add(std::move(instance));
    KindInfo rollout{
        "Rollout",
        "rollouts",
        "rol",
        Scope::kPlatform,
        auth::Role::kAdmin,
        true,
        fleet::ValidateRolloutSpec,
        false,
        {},
        {}};
    rollout.admit = [&store](store::Object& candidate) -> core::Result<void> {
        const auto& spec = candidate.spec;
        auto product = store.FindByName("Product", "", spec.at("product").as_string());
        if (!product) {
            return core::Fail(core::FieldError(
                "spec.product",
                fmt::format(
                    "there is no product \"{}\"", std::string_view(spec.at("product").as_string())
                )
            ));
        }
        for (const auto& v : product->spec.at("versions").as_array()) {
            if (v.at("version") == spec.at("target_version")) {
                return {};
            }
        }
        return core::Fail(core::FieldError(
            "spec.target_version",
            fmt::format(
                "product {} has no version \"{}\"",
                product->name,
                std::string_view(spec.at("target_version").as_string())
            )
        ));
    };
    rollout.actions = {
        {"pause",
         [](boost::json::object& spec) {
             spec["paused"] = true;
         }},
        {"resume",
         [](boost::json::object& spec) {
             spec["paused"] = false;
         }},
        {"abort",
         [](boost::json::object& spec) {
             spec["aborted"] = true;
         }},
    };
    kinds.Add(std::move(rollout));
}

void AddObserveKinds(Kinds& kinds) {
    kinds.Add(KindInfo{
        "SLO",
        "slos",
        "slo",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        observe::ValidateSloSpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "MaintenanceWindow",
        "maintenancewindows",
        "mtw",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        observe::ValidateMaintenanceWindowSpec,
        false,
        {},
        {}});
}

void AddAlertingKinds(Kinds& kinds) {
    kinds.Add(KindInfo{
        "AlertRule",
        "alertrules",
        "arl",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        alerting::ValidateAlertRuleSpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "Silence",
        "silences",
        "sil",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        alerting::ValidateSilenceSpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "NotificationPolicy",
        "notificationpolicies",
        "ntp",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        alerting::ValidateNotificationPolicySpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "Schedule",
        "schedules",
        "sch",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        oncall::ValidateScheduleSpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "EscalationPolicy",
        "escalationpolicies",
        "esc",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        oncall::ValidateEscalationPolicySpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "Runbook",
        "runbooks",
        "rbk",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        alerting::ValidateRunbookSpec,
        false,
        {},
        {}});
    kinds.Add(KindInfo{
        "Incident",
        "incidents",
        "inc",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        incidents::ValidateIncidentSpec,
        false,
        {},
        {}});
    KindInfo alert{
        "Alert", "alerts", "alr", Scope::kTenant, auth::Role::kAdmin, true, nullptr, false, {}, {}};
    alert.system_managed = true;
    kinds.Add(std::move(alert));
    KindInfo page{
        "Page", "pages", "pag", Scope::kTenant, auth::Role::kAdmin, true, nullptr, false, {}, {}};
    page.system_managed = true;
    kinds.Add(std::move(page));
}

void AddEdgeKinds(Kinds& kinds, const edge::CloudKeys& keys) {
    KindInfo workspace{
        "Workspace",
        "workspaces",
        "wks",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        edge::ValidateWorkspaceSpec,
        false,
        {},
        {}};
    workspace.platform_fields = {"plan"};  // its licence and push quota follow the plan
    kinds.Add(std::move(workspace));
    kinds.Add(KindInfo{
        "PushApp",
        "pushapps",
        "pap",
        Scope::kTenant,
        auth::Role::kOperator,
        false,
        edge::PushAppValidator(keys),
        false,
        {},
        {}});
}

}  // namespace hangar::api
