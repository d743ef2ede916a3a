#include "hangar/edge/announcements.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::edge {

using core::Fail;
using core::StrAt;

namespace {

constexpr std::string_view kAppId = "cloud-announcements-core";  // the server's own app id

bool IsVersion(std::string_view v) {
    return !v.empty() && v.size() <= 32 && std::isdigit(static_cast<unsigned char>(v[0])) != 0 &&
           v.find_first_not_of("0123456789.-+abcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
}

// A list of at most `max` distinct strings, each checked by `ok`.
std::optional<json::array> ReadStringList(
    core::ObjectReader& r,
    std::string_view key,
    size_t max,
    const std::function<bool(std::string_view)>& ok,
    std::string_view what
) {
    const json::array* a = r.Array(key);
    if (a == nullptr) {
        return std::nullopt;
    }
    std::set<std::string, std::less<>> seen;
    json::array out;
    if (a->size() > max) {
        r.SetError(r.PathOf(key), fmt::format("holds at most {} entries", max));
        return std::nullopt;
    }
    for (size_t i = 0; i < a->size(); ++i) {
        const json::value& v = (*a)[i];
        if (!v.is_string() || !ok(v.as_string()) ||
            !seen.insert(std::string(v.as_string())).second) {
            r.SetError(fmt::format("{}[{}]", r.PathOf(key), i), std::string(what));
            return std::nullopt;
        }
        out.push_back(v);
    }
    return out;
}

std::string_view VariantOf(std::string_view severity) {
    return severity == "critical" ? "danger" : severity == "warning" ? "warning" : "info";
}

}  // namespace

core::Result<json::object> ValidateAnnouncementSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out;
    if (auto t = core::ReadBoundedString(r, "title", 200)) {
        out["title"] = *t;
    }
    if (auto t = core::ReadBoundedString(r, "text", 2000, true)) {
        if (t->empty()) {
            r.SetError("spec.text", "must not be empty");
        }
        out["text"] = *t;
    }
    std::string severity = r.String("severity").value_or("info");
    if (severity != "info" && severity != "warning" && severity != "critical") {
        r.SetError("spec.severity", "must be info, warning or critical");
    }
    out["severity"] = severity;
    std::string surface = r.String("surface").value_or("banner");
    if (surface != "banner" && surface != "modal") {
        r.SetError("spec.surface", "must be banner or modal");
    }
    out["surface"] = surface;
    if (const json::object* link = r.Object("link")) {
        core::ObjectReader lr(*link, "spec.link");
        json::object l;
        if (auto u = core::ReadHttpUrl(lr, "url", false, true)) {
            l["url"] = *u;
        }
        l["label"] = core::ReadBoundedString(lr, "label", 80).value_or("Learn more");
        r.Absorb(lr.Finish());
        out["link"] = std::move(l);
    }
    auto platforms = ReadStringList(
        r,
        "platforms",
        2,
        [](std::string_view p) { return p == "web" || p == "mobile"; },
        "must be web or mobile, each once"
    );
    out["platforms"] = platforms.value_or(json::array{"web", "mobile"});
    auto roles = ReadStringList(
        r,
        "roles",
        20,
        [](std::string_view s) { return !s.empty() && s.size() <= 64; },
        "must be distinct role names of 1-64 characters"
    );
    out["roles"] = roles.value_or(json::array{"admin"});
    if (const json::object* a = r.Object("audience")) {
        core::ObjectReader ar(*a, "spec.audience");
        json::object aud;
        if (auto t = ReadStringList(
                ar,
                "tenants",
                1000,
                [](std::string_view s) { return core::IsValidId(s, "ten"); },
                "must be distinct tenant ids (ten_...)"
            )) {
            aud["tenants"] = std::move(*t);
        }
        if (auto p =
                ReadStringList(ar, "plans", 100, core::IsDnsLabel, "must be distinct plan names")) {
            aud["plans"] = std::move(*p);
        }
        if (const json::object* v = ar.Object("versions")) {
            core::ObjectReader vr(*v, "spec.audience.versions");
            json::object range;
            for (auto key : {"min", "below"}) {
                if (auto s = vr.String(key)) {
                    if (!IsVersion(*s)) {
                        vr.SetError(vr.PathOf(key), "must be a version such as 6.12 or 7.0.0");
                    }
                    range[key] = *s;
                }
            }
            if (range.contains("min") && range.contains("below") &&
                CompareVersions(StrAt(range, "min"), StrAt(range, "below")) >= 0) {
                vr.SetError("spec.audience.versions", "min must be below `below`");
            }
            ar.Absorb(vr.Finish());
            aud["versions"] = std::move(range);
        }
        r.Absorb(ar.Finish());
        out["audience"] = std::move(aud);
    }
    std::optional<core::TimePoint> start, end;
    for (auto key : {"starts_at", "ends_at"}) {
        if (auto s = r.String(key, std::string_view(key) == "ends_at")) {
            auto t = core::ParseRfc3339(*s);
            if (!t) {
                r.SetError(r.PathOf(key), "must be an RFC 3339 time");
                continue;
            }
            (std::string_view(key) == "ends_at" ? end : start) = *t;
            out[key] = core::FormatRfc3339(*t);  // the server accepts only ...Z with milliseconds
        }
    }
    if (start && end && *start >= *end) {
        r.SetError("spec.ends_at", "must be after starts_at");
    }
    out["withdrawn"] = r.Bool("withdrawn").value_or(false);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

int CompareVersions(std::string_view a, std::string_view b) {
    auto next = [](std::string_view& s) -> int64_t {
        int64_t n = 0;
        size_t i = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0 && n < 1000000) {
            n = n * 10 + (s[i] - '0');
            ++i;
        }
        size_t dot = s.find('.', i);
        // Past a non-digit ("0-rc.1") the version ends.
        bool more = dot != std::string_view::npos && i == dot;
        s = more ? s.substr(dot + 1) : std::string_view();
        return n;
    };
    for (int part = 0; part < 8 && (!a.empty() || !b.empty()); ++part) {
        int64_t x = next(a), y = next(b);
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

bool InAudience(const json::object& spec, const AudienceMember& who) {
    const json::object* aud = core::ObjectAt(spec, "audience");
    if (aud == nullptr) {
        return true;
    }
    auto listed = [&](std::string_view key, const std::string& v) {
        const json::value* list = aud->if_contains(key);
        if (list == nullptr || !list->is_array() || list->as_array().empty()) {
            return true;
        }
        const json::array& a = list->as_array();
        return std::any_of(a.begin(), a.end(), [&](const json::value& x) {
            return x.is_string() && x.as_string() == v;
        });
    };
    if (!listed("tenants", who.tenant) || !listed("plans", who.plan)) {
        return false;
    }
    if (const json::object* range = core::ObjectAt(*aud, "versions")) {
        std::string min = StrAt(*range, "min"), below = StrAt(*range, "below");
        if ((!min.empty() || !below.empty()) && who.version.empty()) {
            return false;  // a version range names only workspaces that said their version
        }
        if (!min.empty() && CompareVersions(who.version, min) < 0) {
            return false;
        }
        if (!below.empty() && CompareVersions(who.version, below) >= 0) {
            return false;
        }
    }
    return true;
}

json::object BannerFor(const store::Object& a) {
    const json::object& s = a.spec;
    std::string id = a.id;
    json::array blocks;
    std::string text = StrAt(s, "text");
    if (std::string title = StrAt(s, "title"); !title.empty()) {
        text = "*" + title + "*\n" + text;
    }
    blocks.push_back(json::object{
        {"type", "section"},
        {"blockId", "text"},
        {"appId", kAppId},
        {"text", json::object{{"type", "mrkdwn"}, {"text", text}}}});
    if (const json::object* link = core::ObjectAt(s, "link")) {
        blocks.push_back(json::object{
            {"type", "actions"},
            {"blockId", "link"},
            {"appId", kAppId},
            {"elements",
             json::array{json::object{
                 {"type", "button"},
                 {"actionId", "open"},
                 {"blockId", "link"},
                 {"appId", kAppId},
                 {"text", json::object{{"type", "plain_text"}, {"text", StrAt(*link, "label")}}},
                 {"url", StrAt(*link, "url")},
                 {"value", "clicked"}}}}});
    }
    std::string start = StrAt(s, "starts_at");
    if (start.empty()) {
        start = core::FormatRfc3339(core::ParseRfc3339(a.created_at).value_or(core::TimePoint{}));
    }
    const json::value* roles = s.if_contains("roles");
    return json::object{
        {"_id", id},
        {"platform", s.contains("platforms") ? s.at("platforms") : json::array{"web", "mobile"}},
        {"startAt", start},
        {"expireAt", StrAt(s, "ends_at")},
        {"createdAt",
         core::FormatRfc3339(core::ParseRfc3339(a.created_at).value_or(core::TimePoint{}))},
        {"_updatedAt",
         core::FormatRfc3339(core::ParseRfc3339(a.updated_at).value_or(core::TimePoint{}))},
        {"createdBy", "cloud"},
        {"surface", StrAt(s, "surface").empty() ? "banner" : StrAt(s, "surface")},
        {"selector",
         json::object{{"roles", roles != nullptr ? *roles : json::value(json::array{"admin"})}}},
        {"view",
         json::object{
             {"viewId", id},
             {"appId", kAppId},
             {"variant", VariantOf(StrAt(s, "severity"))},
             {"blocks", std::move(blocks)}}},
    };
}

CommsDelivery DeliveryFor(
    const std::vector<store::Object>& announcements,
    const AudienceMember& who,
    const json::object& held,
    core::TimePoint now
) {
    CommsDelivery d;
    for (const auto& a : announcements) {
        auto end = core::ParseRfc3339(StrAt(a.spec, "ends_at"));
        bool live = end && now < *end;
        const json::value* had = held.if_contains(a.id);
        if (core::BoolAt(a.spec, "withdrawn")) {
            if (had != nullptr && live) {
                d.del.emplace_back(a.id);  // its banner may still be showing
            }
            continue;  // and it leaves `held`
        }
        if (!live || !InAudience(a.spec, who)) {
            continue;
        }
        if (had == nullptr || !had->is_int64() || had->as_int64() != a.generation) {
            d.create.push_back(BannerFor(a));
            d.delivered.push_back(a.id);
        }
        d.held[a.id] = a.generation;
    }
    return d;
}

std::optional<Interaction> ReadInteraction(const json::object& body) {
    Interaction i;
    std::string type = StrAt(body, "type");
    i.trigger_id = StrAt(body, "triggerId");
    const json::object* payload = core::ObjectAt(body, "payload");
    if (type == "blockAction") {
        i.what = "clicked";
        // The banner's view id is its container's id.
        if (const json::object* c = core::ObjectAt(body, "container")) {
            i.announcement = StrAt(*c, "id");
        }
    } else if (type == "viewClosed") {
        i.what = "dismissed";
        if (payload != nullptr) {
            i.announcement = StrAt(*payload, "viewId");
        }
    } else if (type == "viewSubmit") {
        i.what = "submitted";
        i.announcement = StrAt(body, "viewId");
    } else {
        return std::nullopt;
    }
    if (i.announcement.empty() && payload != nullptr) {
        if (const json::object* view = core::ObjectAt(*payload, "view")) {
            i.announcement = StrAt(*view, "viewId");
            if (i.announcement.empty()) {
                i.announcement = StrAt(*view, "id");
            }
        }
    }
    if (!core::IsValidId(i.announcement, "ann")) {
        return std::nullopt;
    }
    return i;
}

}  // namespace hangar::edge
