#include "hangar/edge/instance_workspaces.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

constexpr std::string_view kActor = "controller:instance";

// The names an instance's workspace may have, in order: the instance's own, then one made
// from its id ("ins_0abc" → "ins-0abc"), which no one else can have taken on purpose.
std::vector<std::string> NamesFor(const store::Object& instance) {
    std::string by_id = instance.id;
    std::replace(by_id.begin(), by_id.end(), '_', '-');
    return {instance.name, by_id};
}

// The spec the instance's workspace should have.
json::object WantedSpec(const store::Object& instance, const json::object& block) {
    json::object spec{{"instance", instance.id}, {"display_name", instance.name}};
    if (std::string plan = core::StrAt(instance.spec, "plan"); !plan.empty()) {
        spec["plan"] = plan;
    }
    if (const json::value* scopes = block.if_contains("scopes")) {
        spec["scopes"] = *scopes;
    }
    return spec;
}

// What follows the instance and its product (the plan is the push quota); display_name and
// disabled stay as an operator set them.
constexpr std::string_view kFollowed[] = {"plan", "scopes"};
json::object Followed(const json::object& spec) {
    json::object out;
    for (auto key : kFollowed) {
        if (const json::value* v = spec.if_contains(key)) {
            out[key] = *v;
        }
    }
    return out;
}

store::AuditEvent Audited(
    const std::string& now,
    std::string_view action,
    const std::string& tenant,
    const std::string& id
) {
    store::AuditEvent a = store::SystemAudit(now, std::string(kActor), tenant, id);
    a.action = action;
    return a;
}

}  // namespace

core::Result<std::optional<store::Object>> InstanceWorkspaces::Find(const store::Object& instance) {
    for (const std::string& name : NamesFor(instance)) {
        auto ws = store_.FindByName("Workspace", instance.tenant, name);
        if (!ws) {
            if (ws.error().code != ErrorCode::kNotFound) {
                return Fail(ws.error());
            }
            continue;
        }
        if (core::StrAt(ws->spec, "instance") == instance.id) {
            return std::optional<store::Object>(std::move(*ws));
        }
    }
    return std::optional<store::Object>();
}

core::Result<store::Object>
InstanceWorkspaces::Create(const store::Object& instance, const json::object& spec) {
    std::string now = core::FormatRfc3339(clock_.Now());
    for (const std::string& name : NamesFor(instance)) {
        store::Object ws;
        ws.id = core::NewId("wks");
        ws.kind = "Workspace";
        ws.tenant = instance.tenant;
        ws.name = name;
        ws.created_at = ws.updated_at = now;
        ws.spec = spec;
        ws.status["registration"] = "Unregistered";
        auto c =
            store_.Create(ws, std::nullopt, Audited(now, "workspace.create", ws.tenant, ws.id));
        if (c) {
            return std::move(c->object);
        }
        if (c.error().code != ErrorCode::kAlreadyExists) {
            return Fail(c.error());
        }
        // Taken: by our own (made meanwhile by an earlier attempt) or by someone else's.
        auto mine = Find(instance);
        if (!mine) {
            return Fail(mine.error());
        }
        if (*mine) {
            return std::move(**mine);
        }
    }
    return Fail(
        ErrorCode::kConflict,
        fmt::format(
            "workspaces named \"{}\" and after the instance's id exist and are not this instance's",
            instance.name
        )
    );
}

core::Result<Environment>
InstanceWorkspaces::Prepare(const store::Object& instance, const json::object& block) {
    json::object spec = WantedSpec(instance, block);
    auto found = Find(instance);
    if (!found) {
        return Fail(found.error());
    }
    store::Object ws;
    if (!*found) {
        auto made = Create(instance, spec);
        if (!made) {
            return Fail(made.error());
        }
        ws = std::move(*made);
    } else {
        ws = std::move(**found);
        if (Followed(ws.spec) != Followed(spec)) {
            std::string now = core::FormatRfc3339(clock_.Now());
            auto u = store_.Update(
                ws.id,
                std::nullopt,
                now,
                [&spec](store::Object& o) -> core::Result<void> {
                    for (auto key : kFollowed) {
                        o.spec.erase(key);
                        if (const json::value* v = spec.if_contains(key)) {
                            o.spec[key] = *v;
                        }
                    }
                    return {};
                },
                Audited(now, "workspace.update", ws.tenant, ws.id)
            );
            if (!u) {
                return Fail(u.error());
            }
            ws = std::move(*u);
        }
    }
    auto token = workspaces_.InstanceRegistrationToken(ws);
    if (!token) {
        return Fail(token.error());
    }
    return Environment{
        {"HANGAR_CLOUD_URL", workspaces_.options().base_url},
        {"HANGAR_WORKSPACE_ID", ws.id},
        {"HANGAR_REGISTRATION_TOKEN", std::move(*token)},
    };
}

core::Result<void> InstanceWorkspaces::Release(const store::Object& instance) {
    auto found = Find(instance);
    if (!found) {
        return Fail(found.error());
    }
    if (!*found) {
        return {};
    }
    const store::Object& ws = **found;
    auto d = store_.Delete(
        ws.id,
        std::nullopt,
        {},
        Audited(core::FormatRfc3339(clock_.Now()), "workspace.delete", ws.tenant, ws.id)
    );
    if (!d && d.error().code != ErrorCode::kNotFound) {
        return Fail(d.error());
    }
    return {};
}

}  // namespace hangar::edge
