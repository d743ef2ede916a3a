// The workspace's comms and legacy-sync calls (protocols/workspace-cloud.md section 7): the
// announcements a workspace shows, the interactions it reports, and the /client, /license and
// /client/downgrade path a stock server falls back to when comms fails.

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/json.hpp"
#include "hangar/edge/announcements.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::edge {

using core::ErrorCode;

namespace {

constexpr size_t kInteractionLimit = size_t{64} * 1024;

std::string Now(const core::Clock& clock) {
    return core::FormatRfc3339(clock.Now());
}

}  // namespace

EdgeResult<json::object> Workspaces::DeliverAnnouncements(const store::Object& ws) {
    auto all = store_.ListAll("Announcement");
    if (!all) {
        return std::unexpected(StoreTrouble(all.error()));
    }
    AudienceMember who{ws.tenant, PlanOf(ws), core::StrAt(ws.status, "version")};
    const json::object* held = core::ObjectAt(ws.status, "announcements_held");
    auto now = clock_.Now();
    CommsDelivery d = DeliveryFor(*all, who, held != nullptr ? *held : json::object(), now);
    std::string t = core::FormatRfc3339(now);
    if (held == nullptr || *held != d.held || !d.del.empty()) {
        auto u = store_.Update(
            ws.id,
            std::nullopt,
            t,
            [&](store::Object& o) -> core::Result<void> {
                o.status["announcements_held"] = d.held;
                o.status["comms_at"] = t;
                return {};
            },
            store::SystemAudit(t, "workspace:" + ws.id, ws.tenant, ws.id)
        );
        if (!u) {
            return std::unexpected(StoreTrouble(u.error()));
        }
    }
    // Reach: how many workspaces each announcement went to.
    for (const auto& id : d.delivered) {
        (void)store_.Update(
            id,
            std::nullopt,
            t,
            [&](store::Object& o) -> core::Result<void> {
                o.status["delivered"] = core::IntAt(o.status, "delivered") + 1;
                o.status["last_delivered_at"] = t;
                return {};
            },
            store::SystemAudit(t, "workspace:" + ws.id, "", id)
        );
    }
    return json::object{{"create", std::move(d.create)}, {"delete", std::move(d.del)}};
}

EdgeResult<json::object> Workspaces::Comms(const WorkspaceAuth& who, std::string_view body) {
    if (auto rec = ReadRegistrationRecord(body); !rec) {
        return std::unexpected(rec.error());
    }
    auto ws = store_.Get(who.workspace_id);
    if (!ws) {
        if (ws.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        return std::unexpected(StoreTrouble(ws.error()));
    }
    auto announcements = DeliverAnnouncements(*ws);
    if (!announcements) {
        return std::unexpected(announcements.error());
    }
    // No "nps": a stock server of 6.x refuses null there, and Hangar runs no NPS survey.
    return json::object{
        {"workspaceId", ws->id},
        {"publicKey", keys_.PublicKeyBase64()},
        {"announcements", std::move(*announcements)}};
}

EdgeResult<json::object> Workspaces::Interact(const WorkspaceAuth& who, std::string_view body) {
    if (body.size() > kInteractionLimit) {
        return EdgeFail(
            413,
            "payload_too_large",
            fmt::format("an interaction is limited to {} bytes", kInteractionLimit)
        );
    }
    auto parsed = core::ParseJsonObject(body);
    if (!parsed) {
        return EdgeFail(
            400, "invalid_request", "the body must be a JSON object: " + parsed.error().message
        );
    }
    auto in = ReadInteraction(*parsed);
    if (!in) {
        return EdgeFail(
            400,
            "invalid_request",
            "not an interaction with an announcement: type must be blockAction, viewClosed or "
            "viewSubmit, on a view whose id is an announcement's (ann_...)"
        );
    }
    auto a = store_.Get(in->announcement);
    if (!a || a->kind != "Announcement") {
        return EdgeFail(
            404, "not_found", fmt::format("there is no announcement {}", in->announcement)
        );
    }
    std::string t = Now(clock_);
    auto u = store_.Update(
        a->id,
        std::nullopt,
        t,
        [&](store::Object& o) -> core::Result<void> {
            json::value& counts = o.status["interactions"];
            if (!counts.is_object()) {
                counts = json::object();
            }
            json::object& c = counts.as_object();
            c[in->what] = core::IntAt(c, in->what) + 1;
            o.status["last_interaction_at"] = t;
            return {};
        },
        store::SystemAudit(t, "workspace:" + who.workspace_id, "", a->id)
    );
    if (!u) {
        return std::unexpected(StoreTrouble(u.error()));
    }
    bool modal = core::StrAt(a->spec, "surface") == "modal";
    return json::object{
        {"serverInteraction",
         json::object{
             {"type", modal ? "modal.close" : "banner.close"},
             {"triggerId", in->trigger_id},
             {"appId", "cloud-announcements-core"},
             {"viewId", a->id}}}};
}

EdgeResult<json::object>
Workspaces::LegacyClient(const WorkspaceAuth& who, std::string_view id, std::string_view body) {
    auto ws = Record(who, id, body);
    if (!ws) {
        return std::unexpected(ws.error());
    }
    auto announcements = DeliverAnnouncements(*ws);
    if (!announcements) {
        return std::unexpected(announcements.error());
    }
    // 6.x reads banners from here as well as announcements; the same banners go in both, and
    // the server upserts them by id.
    return json::object{
        {"workspaceId", ws->id},
        {"publicKey", keys_.PublicKeyBase64()},
        {"banners", announcements->at("create")},
        {"announcements", std::move(*announcements)}};
}

EdgeResult<json::object>
Workspaces::LegacyLicense(const WorkspaceAuth& who, std::string_view id, std::string_view version) {
    if (id != who.workspace_id) {
        return EdgeFail(403, "forbidden", "the access token belongs to another workspace");
    }
    int64_t v = 3;
    if (!version.empty()) {
        if (version.size() > 3 ||
            version.find_first_not_of("0123456789") != std::string_view::npos) {
            return EdgeFail(400, "invalid_request", "version must be a small number (3)");
        }
        v = std::stoll(std::string(version));
    }
    auto ws = store_.Get(who.workspace_id);
    if (!ws) {
        if (ws.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        return std::unexpected(StoreTrouble(ws.error()));
    }
    json::object data = LicenseData(*ws);
    data["version"] = v;
    return data;
}

EdgeResult<json::object> Workspaces::Downgrade(const WorkspaceAuth& who, std::string_view id) {
    if (id != who.workspace_id) {
        return EdgeFail(403, "forbidden", "the access token belongs to another workspace");
    }
    std::string t = Now(clock_);
    auto u = store_.Update(
        who.workspace_id,
        std::nullopt,
        t,
        [&](store::Object& o) -> core::Result<void> {
            o.status["license_removed_at"] = t;  // it holds no Rocket.Chat license: nothing else
            return {};
        },
        store::SystemAudit(t, "workspace:" + who.workspace_id, who.tenant, who.workspace_id)
    );
    if (!u) {
        if (u.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        return std::unexpected(StoreTrouble(u.error()));
    }
    return json::object{};
}

}  // namespace hangar::edge
