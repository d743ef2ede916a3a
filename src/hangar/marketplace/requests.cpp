#include "hangar/marketplace/requests.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::marketplace {

using core::ErrorCode;
using core::Fail;
using core::StrAt;

namespace {

// A workspace keeps at most this many requests; asking again renews one in place.
constexpr size_t kMaxPerWorkspace = 5000;

core::Error Invalid(std::string field, std::string message) {
    return core::FieldError(std::move(field), std::move(message));
}

// A base64 JSON value from the page's query, at most 16 KiB decoded.
core::Result<json::value> DecodeJson(std::string_view field, std::string_view b64) {
    std::string raw;
    if (b64.size() > 22000 || !core::Base64Decode(b64, raw)) {
        return Fail(Invalid(std::string(field), "must be base64 JSON of at most 16 KiB"));
    }
    auto parsed = core::ParseJson(raw);
    if (!parsed) {
        return Fail(Invalid(std::string(field), "must be base64 JSON of at most 16 KiB"));
    }
    return *parsed;
}

// {id, username?, name?, nickname?, emails?}: a chat user as the server describes one.
core::Result<json::object> ReadUser(const json::value& v, const std::string& path, bool emails) {
    if (!v.is_object()) {
        return Fail(Invalid(path, "must be an object"));
    }
    const json::object& o = v.as_object();
    json::object out;
    for (auto key : {"id", "username", "name", "nickname"}) {
        const json::value* f = o.if_contains(key);
        if (f == nullptr || f->is_null()) {
            if (std::string_view(key) == "id") {
                return Fail(Invalid(path + ".id", "is required"));
            }
            out[key] = "";
            continue;
        }
        if (!f->is_string() || f->as_string().size() > 200 ||
            (std::string_view(key) == "id" && f->as_string().empty())) {
            return Fail(Invalid(fmt::format("{}.{}", path, key), "must be text of 1-200 characters")
            );
        }
        out[key] = core::ToValidUtf8(f->as_string());
    }
    if (emails) {
        json::array list;
        if (const json::value* e = o.if_contains("emails"); e != nullptr && !e->is_null()) {
            if (!e->is_array() || e->as_array().size() > 10) {
                return Fail(Invalid(path + ".emails", "must be a list of at most 10 addresses"));
            }
            for (const auto& a : e->as_array()) {
                if (!a.is_string() || a.as_string().size() > 254) {
                    return Fail(Invalid(path + ".emails", "must be a list of addresses"));
                }
                list.push_back(json::string(core::ToValidUtf8(a.as_string())));
            }
        }
        out["emails"] = std::move(list);
    }
    return out;
}

bool Matches(const store::Object& o, std::string_view filter) {
    bool seen = core::BoolAt(o.status, "seen");
    bool sent = core::BoolAt(o.status, "notification_sent");
    if (filter == "unseen") {
        return !seen;
    }
    if (filter == "seen") {
        return seen;
    }
    if (filter == "notification-sent") {
        return sent;
    }
    if (filter == "notification-not-sent") {
        return !sent;
    }
    return true;
}

store::AuditEvent Event(const std::string& now, const std::string& tenant, std::string action) {
    store::AuditEvent e = store::SystemAudit(now, "marketplace", tenant, "");
    e.action = std::move(action);
    e.outcome = "success";
    return e;
}

}  // namespace

core::Result<json::object> ReadRequestPeople(const RequestForm& form) {
    auto requester = DecodeJson("requester", form.requester);
    if (!requester) {
        return Fail(requester.error());
    }
    auto who = ReadUser(*requester, "requester", true);
    if (!who) {
        return Fail(who.error());
    }
    json::array admins;
    if (!form.admins.empty()) {
        auto list = DecodeJson("admins", form.admins);
        if (!list) {
            return Fail(list.error());
        }
        if (!list->is_array() || list->as_array().size() > 50) {
            return Fail(Invalid("admins", "must be a list of at most 50 users"));
        }
        for (size_t i = 0; i < list->as_array().size(); ++i) {
            auto a = ReadUser(list->as_array()[i], fmt::format("admins[{}]", i), false);
            if (!a) {
                return Fail(a.error());
            }
            admins.push_back(std::move(*a));
        }
    }
    return json::object{{"requester", std::move(*who)}, {"admins", std::move(admins)}};
}

core::Result<store::Object> AppRequests::Create(const RequestForm& form) {
    if (form.message.size() > 2000) {
        return Fail(Invalid("message", "must be at most 2000 characters"));
    }
    auto people = ReadRequestPeople(form);
    if (!people) {
        return Fail(people.error());
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    std::string requester_id = StrAt(people->at("requester").as_object(), "id");
    std::string name =
        "req-" +
        core::Sha256Hex(form.workspace + "\n" + form.app_id + "\n" + requester_id).substr(0, 40);
    std::string message = core::ToValidUtf8(form.message);
    auto existing = store_.FindByName("AppRequest", form.tenant, name);
    if (existing) {
        return store_.Update(
            existing->id,
            std::nullopt,
            now,
            [&](store::Object& o) -> core::Result<void> {
                o.spec["message"] = message;
                o.spec["requester"] = people->at("requester");
                o.spec["admins"] = people->at("admins");
                o.status["seen"] = false;
                o.status["notification_sent"] = false;
                o.status["requested_at"] = now;
                o.status["times"] = core::IntAt(o.status, "times") + 1;
                return {};
            },
            Event(now, form.tenant, "apprequest.renew")
        );
    }
    if (existing.error().code != ErrorCode::kNotFound) {
        return Fail(existing.error());
    }
    auto mine = OfWorkspace(form.workspace, form.tenant);
    if (!mine) {
        return Fail(mine.error());
    }
    if (mine->size() >= kMaxPerWorkspace) {
        return Fail(core::MakeError(
            ErrorCode::kTooManyRequests,
            fmt::format("this workspace already has {} app requests", kMaxPerWorkspace)
        ));
    }
    store::Object o = store::NewSystemObject("AppRequest", "arq", form.tenant, now);
    o.name = name;
    o.spec = json::object{
        {"app_id", form.app_id},
        {"workspace", form.workspace},
        {"requester", people->at("requester")},
        {"admins", people->at("admins")},
        {"message", message}};
    o.status = json::object{
        {"seen", false},
        {"seen_at", ""},
        {"notification_sent", false},
        {"notification_sent_at", ""},
        {"requested_at", now},
        {"times", 1}};
    store::AuditEvent audit = Event(now, form.tenant, "apprequest.create");
    audit.object = o.id;
    auto created = store_.Create(o, std::nullopt, audit);
    if (!created) {
        return Fail(created.error());
    }
    return created->object;
}

core::Result<std::vector<store::Object>>
AppRequests::OfWorkspace(const std::string& workspace, const std::string& tenant) {
    return store_.ListAll("AppRequest", tenant, [&](const store::Object& o) {
        return StrAt(o.spec, "workspace") == workspace;
    });
}

json::object RequestToJson(const store::Object& o) {
    const json::value* requester = o.spec.if_contains("requester");
    const json::value* admins = o.spec.if_contains("admins");
    return json::object{
        {"id", o.id},
        {"appId", StrAt(o.spec, "app_id")},
        {"requester", requester != nullptr ? *requester : json::value(json::object())},
        {"admins", admins != nullptr ? *admins : json::value(json::array())},
        {"workspaceId", StrAt(o.spec, "workspace")},
        // The server's type spells it "mesage"; both are sent.
        {"message", StrAt(o.spec, "message")},
        {"mesage", StrAt(o.spec, "message")},
        {"seen", core::BoolAt(o.status, "seen")},
        {"seenAt", StrAt(o.status, "seen_at")},
        {"notificationSent", core::BoolAt(o.status, "notification_sent")},
        {"notificationSentAt", StrAt(o.status, "notification_sent_at")},
        {"createdAt", StrAt(o.status, "requested_at")}};
}

core::Result<json::object> AppRequests::List(
    const std::string& workspace,
    const std::string& tenant,
    std::string_view app_id,
    std::string_view filter,
    std::string_view sort,
    int64_t limit,
    int64_t offset
) {
    if (!filter.empty() && filter != "unseen" && filter != "seen" &&
        filter != "notification-sent" && filter != "notification-not-sent") {
        return Fail(
            Invalid("q", "must be unseen, seen, notification-sent, notification-not-sent or empty")
        );
    }
    auto all = OfWorkspace(workspace, tenant);
    if (!all) {
        return Fail(all.error());
    }
    std::vector<const store::Object*> hits;
    for (const auto& o : *all) {
        if ((app_id.empty() || StrAt(o.spec, "app_id") == app_id) && Matches(o, filter)) {
            hits.push_back(&o);
        }
    }
    // Newest first unless the caller asks for "createdAt" ascending (sort=createdAt or
    // {"createdAt": 1}).
    bool ascending = sort.find("createdAt") != std::string_view::npos &&
                     sort.find("-1") == std::string_view::npos && sort.find('-') != 0;
    std::ranges::sort(hits, [&](const store::Object* a, const store::Object* b) {
        std::string ta = StrAt(a->status, "requested_at");
        std::string tb = StrAt(b->status, "requested_at");
        if (ta != tb) {
            return ascending ? ta < tb : ta > tb;
        }
        return a->id < b->id;
    });
    json::array data;
    for (auto i = static_cast<size_t>(offset);
         i < hits.size() && data.size() < static_cast<size_t>(limit);
         ++i) {
        data.push_back(RequestToJson(*hits[i]));
    }
    return json::object{
        {"data", std::move(data)},
        {"meta",
         {{"limit", limit},
          {"offset", offset},
          {"sort", std::string(sort)},
          {"filter", std::string(filter)},
          {"total", static_cast<int64_t>(hits.size())}}}};
}

core::Result<json::object>
AppRequests::Stats(const std::string& workspace, const std::string& tenant) {
    auto all = OfWorkspace(workspace, tenant);
    if (!all) {
        return Fail(all.error());
    }
    int64_t seen = std::ranges::count_if(*all, [](const store::Object& o) {
        return core::BoolAt(o.status, "seen");
    });
    return json::object{
        {"data", {{"totalSeen", seen}, {"totalUnseen", static_cast<int64_t>(all->size()) - seen}}}};
}

core::Result<int64_t> AppRequests::Mark(
    const std::string& workspace,
    const std::string& tenant,
    const std::string& flag,
    const std::function<bool(const store::Object&)>& pick
) {
    auto all = OfWorkspace(workspace, tenant);
    if (!all) {
        return Fail(all.error());
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    int64_t marked = 0;
    for (const auto& o : *all) {
        if (core::BoolAt(o.status, flag) || !pick(o)) {
            continue;
        }
        auto u = store_.Update(
            o.id,
            std::nullopt,
            now,
            [&](store::Object& x) -> core::Result<void> {
                x.status[flag] = true;
                x.status[flag + "_at"] = now;
                return {};
            },
            store::SystemAudit(now, "workspace:" + workspace, tenant, o.id)
        );
        if (!u) {
            return Fail(u.error());
        }
        ++marked;
    }
    return marked;
}

core::Result<int64_t> AppRequests::MarkSeen(
    const std::string& workspace,
    const std::string& tenant,
    const std::vector<std::string>& ids
) {
    std::set<std::string, std::less<>> wanted(ids.begin(), ids.end());
    return Mark(workspace, tenant, "seen", [&](const store::Object& o) {
        return wanted.contains(o.id);
    });
}

core::Result<json::array>
AppRequests::PendingApps(const std::string& workspace, const std::string& tenant) {
    auto all = OfWorkspace(workspace, tenant);
    if (!all) {
        return Fail(all.error());
    }
    std::set<std::string> apps;
    for (const auto& o : *all) {
        if (!core::BoolAt(o.status, "notification_sent")) {
            apps.insert(StrAt(o.spec, "app_id"));
        }
    }
    json::array out;
    for (const auto& a : apps) {
        out.push_back(json::string(a));
    }
    return out;
}

core::Result<int64_t> AppRequests::MarkSent(
    const std::string& workspace,
    const std::string& tenant,
    std::string_view app_id,
    const std::vector<std::string>* user_ids
) {
    return Mark(workspace, tenant, "notification_sent", [&](const store::Object& o) {
        if (StrAt(o.spec, "app_id") != app_id) {
            return false;
        }
        if (user_ids == nullptr) {
            return true;
        }
        const json::object* r = core::ObjectAt(o.spec, "requester");
        std::string uid = r != nullptr ? StrAt(*r, "id") : "";
        return std::ranges::find(*user_ids, uid) != user_ids->end();
    });
}

}  // namespace hangar::marketplace
