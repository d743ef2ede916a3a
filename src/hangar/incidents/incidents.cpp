#include "hangar/incidents/incidents.hpp"

#include <set>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/metrics/promql_engine.hpp"

namespace hangar::incidents {

namespace json = boost::json;
using core::ErrorCode;
using core::Fail;
using core::ObjectReader;

namespace {

constexpr std::string_view kStatuses[] = {"investigating", "identified", "monitoring", "resolved"};
constexpr std::string_view kPostmortemStates[] = {"Draft", "Reviewed", "Published"};

template <size_t N>
bool OneOf(std::string_view v, const std::string_view (&set)[N]) {
    return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

json::array StringList(ObjectReader& r, std::string_view key, size_t max) {
    json::array out;
    if (const json::array* a = r.Array(key)) {
        if (a->size() > max) {
            r.SetError(r.PathOf(key), fmt::format("at most {} entries", max));
        }
        for (const auto& v : *a) {
            if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 200) {
                r.SetError(r.PathOf(key), "must be non-empty strings");
                break;
            }
            out.push_back(v);
        }
    }
    return out;
}

std::vector<std::string>
Strings(const json::object& o, std::string_view a, std::string_view b = "") {
    std::vector<std::string> out;
    const json::value* v = o.if_contains(a);
    if (v != nullptr && !b.empty()) {
        v = v->is_object() ? v->as_object().if_contains(b) : nullptr;
    }
    if (v != nullptr && v->is_array()) {
        for (const auto& s : v->as_array()) {
            if (s.is_string()) {
                out.emplace_back(s.as_string());
            }
        }
    }
    return out;
}

std::string Nested(const json::object& o, std::string_view a, std::string_view b) {
    const auto* v = o.if_contains(a);
    return v != nullptr && v->is_object() ? core::StrAt(v->as_object(), b) : "";
}

std::vector<store::Object> ListKind(
    store::Store& store,
    const std::string& kind,
    std::optional<std::string> tenant,
    std::function<bool(const store::Object&)> filter = {}
) {
    return store.ListAll(kind, std::move(tenant), std::move(filter))
        .value_or(std::vector<store::Object>{});
}

std::string Html(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string Minutes(core::TimePoint a, core::TimePoint b) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(b - a).count();
    return s < 60 ? fmt::format("{} s", s) : fmt::format("{} min {} s", s / 60, s % 60);
}

}  // namespace

void AddEntry(
    store::Object& incident,
    const std::string& now,
    std::string type,
    std::string text,
    const std::string& by,
    bool is_public
) {
    json::value& tl = incident.status["timeline"];
    json::array& list = tl.is_array() ? tl.as_array() : tl.emplace_array();
    if (list.size() >= 2000) {
        return;
    }
    json::object e{{"at", now}, {"type", std::move(type)}, {"text", std::move(text)}, {"by", by}};
    if (is_public) {
        e["public"] = true;
    }
    list.push_back(std::move(e));
}

core::Result<json::object> ValidateIncidentSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    auto title = r.String("title", true);
    if (title && (title->empty() || title->size() > 200)) {
        r.SetError("spec.title", "must say what is wrong in 1 to 200 characters");
    }
    out["title"] = title.value_or("");
    std::string severity = r.String("severity").value_or("P2");
    if (severity != "P1" && severity != "P2" && severity != "P3" && severity != "P4") {
        r.SetError("spec.severity", "must be P1, P2, P3 or P4");
    }
    out["severity"] = severity;
    std::string status = r.String("status").value_or("investigating");
    if (!OneOf(status, kStatuses)) {
        r.SetError("spec.status", "must be investigating, identified, monitoring or resolved");
    }
    out["status"] = status;
    for (const char* key : {"summary", "public_summary"}) {
        if (auto v = r.String(key)) {
            if (v->size() > 20000) {
                r.SetError(r.PathOf(key), "is longer than 20000 characters");
            }
            out[key] = *v;
        }
    }
    out["public"] = r.Bool("public").value_or(false);
    if (auto p = r.String("source_page")) {
        out["source_page"] = *p;
    }
    json::object affected;
    if (const json::object* a = r.Object("affected")) {
        ObjectReader ar(*a, "spec.affected");
        affected["tenants"] = StringList(ar, "tenants", 1000);
        affected["instances"] = StringList(ar, "instances", 1000);
        r.Absorb(ar.Finish());
    } else {
        affected = json::object{{"tenants", json::array()}, {"instances", json::array()}};
    }
    out["affected"] = std::move(affected);
    json::object roles;
    if (const json::object* ro = r.Object("roles")) {
        ObjectReader rr(*ro, "spec.roles");
        for (const char* key : {"lead", "communications"}) {
            if (auto v = rr.String(key)) {
                roles[key] = *v;
            }
        }
        roles["responders"] = StringList(rr, "responders", 100);
        r.Absorb(rr.Finish());
    } else {
        roles["responders"] = json::array();
    }
    out["roles"] = std::move(roles);
    json::array follow_ups;
    if (const json::array* fs = r.Array("follow_ups")) {
        if (fs->size() > 200) {
            r.SetError("spec.follow_ups", "at most 200 items");
        }
        for (size_t i = 0; i < fs->size() && r.ok(); ++i) {
            std::string path = fmt::format("spec.follow_ups[{}]", i);
            if (!(*fs)[i].is_object()) {
                r.SetError(path, "must be an object with text, owner and done");
                break;
            }
            ObjectReader fr((*fs)[i].as_object(), path);
            json::object f;
            auto text = fr.String("text", true);
            if (text && (text->empty() || text->size() > 2000)) {
                fr.SetError(path + ".text", "must say what to do (1 to 2000 characters)");
            }
            f["text"] = text.value_or("");
            if (auto o = fr.String("owner")) {
                f["owner"] = *o;
            }
            f["done"] = fr.Bool("done").value_or(false);
            r.Absorb(fr.Finish());
            follow_ups.push_back(std::move(f));
        }
    }
    out["follow_ups"] = std::move(follow_ups);
    json::object pm{{"state", "Draft"}};
    if (const json::object* p = r.Object("postmortem")) {
        ObjectReader pr(*p, "spec.postmortem");
        std::string state = pr.String("state").value_or("Draft");
        if (!OneOf(state, kPostmortemStates)) {
            pr.SetError("spec.postmortem.state", "must be Draft, Reviewed or Published");
        }
        pm["state"] = state;
        for (const char* key : {"root_cause", "remediation"}) {
            if (auto v = pr.String(key)) {
                pm[key] = *v;
            }
        }
        r.Absorb(pr.Finish());
    }
    out["postmortem"] = std::move(pm);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

void Incidents::DeclareFromPage(const store::Object& page) {
    if (core::StrAt(page.spec, "priority") != "P1") {
        return;
    }
    auto existing = ListKind(store_, "Incident", page.tenant, [&](const store::Object& o) {
        return core::StrAt(o.spec, "source_page") == page.id;
    });
    if (!existing.empty()) {
        return;
    }
    std::set<std::string> tenants, instances;
    for (const auto& av : page.spec.at("alerts").as_array()) {
        const json::object& a = av.as_object();
        std::string t = core::StrAt(a, "tenant");
        tenants.insert(t);
        if (auto alert = store_.FindByName("Alert", t, core::StrAt(a, "fingerprint"))) {
            if (auto i = Nested(alert->spec, "labels", "instance"); !i.empty()) {
                instances.insert(i);
            }
        }
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    store::Object inc = store::NewSystemObject("Incident", "inc", page.tenant, now);
    json::array ta(tenants.begin(), tenants.end()), ia(instances.begin(), instances.end());
    std::string lead = core::StrAt(page.status, "assignee");
    json::object spec{
        {"title", core::StrAt(page.spec, "title")},
        {"severity", "P1"},
        {"status", "investigating"},
        {"source_page", page.id},
        {"affected", json::object{{"tenants", ta}, {"instances", ia}}}};
    json::object roles{{"responders", json::array()}};
    if (!lead.empty()) {
        roles["lead"] = lead;
    }
    spec["roles"] = std::move(roles);
    auto valid = ValidateIncidentSpec(spec);
    if (!valid) {
        core::LogWarn(
            "declaring an incident failed",
            {{"page", std::string_view(page.id)}, {"error", valid.error().message}}
        );
        return;
    }
    inc.spec = std::move(*valid);
    AddEntry(
        inc,
        now,
        "declared",
        fmt::format("Declared from page {}: {}", page.id, core::StrAt(page.spec, "title")),
        "hangar"
    );
    if (!lead.empty()) {
        AddEntry(
            inc,
            now,
            "role",
            fmt::format("{} is lead (on call when the page opened)", lead),
            "hangar"
        );
    }
    if (auto c = store_.Create(
            inc, std::nullopt, store::SystemAudit(now, "controller:incidents", inc.tenant, inc.id)
        );
        !c) {
        core::LogWarn(
            "declaring an incident failed",
            {{"page", std::string_view(page.id)}, {"error", c.error().message}}
        );
    }
}

core::Result<store::Object> Incidents::Change(
    const std::string& id,
    store::AuditEvent audit,
    const std::function<core::Result<void>(store::Object&, const std::string& now)>& fn
) {
    std::string now = core::FormatRfc3339(clock_.Now());
    return store_.Update(
        id,
        std::nullopt,
        now,
        [&](store::Object& o) -> core::Result<void> {
            if (o.kind != "Incident") {
                return Fail(ErrorCode::kNotFound, fmt::format("there is no incident {}", id));
            }
            return fn(o, now);
        },
        std::move(audit)
    );
}

core::Result<store::Object> Incidents::SetStatus(
    const std::string& id,
    const std::string& status,
    const std::string& note,
    const std::string& by,
    store::AuditEvent audit
) {
    if (!OneOf(status, kStatuses)) {
        return Fail(
            core::FieldError("status", "must be investigating, identified, monitoring or resolved")
        );
    }
    return Change(
        id,
        std::move(audit),
        [&](store::Object& o, const std::string& now) -> core::Result<void> {
            std::string from = core::StrAt(o.spec, "status");
            if (from == status) {
                return Fail(
                    ErrorCode::kConflict, fmt::format("incident {} is already {}", id, status)
                );
            }
            o.spec["status"] = status;
            if (status == "resolved") {
                o.status["resolved_at"] = now;
            } else {
                o.status.erase("resolved_at");
            }
            AddEntry(
                o,
                now,
                "status",
                fmt::format("Status {} → {}{}", from, status, note.empty() ? "" : ": " + note),
                by,
                true
            );
            return {};
        }
    );
}

core::Result<store::Object> Incidents::Assign(
    const std::string& id,
    const std::string& role,
    const std::string& user,
    const std::string& by,
    store::AuditEvent audit
) {
    if (role != "lead" && role != "communications" && role != "responder") {
        return Fail(core::FieldError("role", "must be lead, communications or responder"));
    }
    if (user.empty() || user.size() > 200) {
        return Fail(core::FieldError("user", "must name the user taking the role"));
    }
    return Change(
        id,
        std::move(audit),
        [&](store::Object& o, const std::string& now) -> core::Result<void> {
            json::object& roles = o.spec["roles"].as_object();
            if (role == "responder") {
                json::array& rs = roles["responders"].as_array();
                if (std::find(rs.begin(), rs.end(), json::value(user)) != rs.end()) {
                    return Fail(
                        ErrorCode::kConflict, fmt::format("{} is already a responder", user)
                    );
                }
                rs.push_back(json::value(user));
                AddEntry(o, now, "role", fmt::format("{} joined as responder", user), by);
                return {};
            }
            std::string before = core::StrAt(roles, role);
            if (before == user) {
                return Fail(ErrorCode::kConflict, fmt::format("{} is already {}", user, role));
            }
            roles[role] = user;
            AddEntry(
                o,
                now,
                "role",
                before.empty() ? fmt::format("{} is {}", user, role)
                               : fmt::format("{} hands {} over to {}", before, role, user),
                by
            );
            return {};
        }
    );
}

core::Result<store::Object> Incidents::Note(
    const std::string& id,
    const std::string& text,
    bool is_public,
    const std::string& by,
    store::AuditEvent audit
) {
    if (text.empty() || text.size() > 10000) {
        return Fail(core::FieldError("text", "must be 1 to 10000 characters"));
    }
    return Change(
        id,
        std::move(audit),
        [&](store::Object& o, const std::string& now) -> core::Result<void> {
            AddEntry(o, now, "note", text, by, is_public);
            return {};
        }
    );
}

core::Result<store::Object> Incidents::SetPostmortemState(
    const std::string& id,
    const std::string& state,
    const std::string& by,
    store::AuditEvent audit
) {
    if (!OneOf(state, kPostmortemStates)) {
        return Fail(core::FieldError("state", "must be Draft, Reviewed or Published"));
    }
    return Change(
        id,
        std::move(audit),
        [&](store::Object& o, const std::string& now) -> core::Result<void> {
            json::object& pm = o.spec["postmortem"].as_object();
            std::string from = core::StrAt(pm, "state");
            // Forward one step at a time; back to Draft from anywhere before publishing.
            bool ok = (from == "Draft" && state == "Reviewed") ||
                      (from == "Reviewed" && state == "Published") ||
                      (from == "Reviewed" && state == "Draft");
            if (!ok) {
                return Fail(
                    ErrorCode::kConflict,
                    fmt::format(
                        "the post-mortem is {}: it can go {}",
                        from,
                        from == "Draft"      ? "to Reviewed"
                        : from == "Reviewed" ? "to Published or back to Draft"
                                             : "nowhere (published)"
                    )
                );
            }
            if (state == "Published" && core::StrAt(o.spec, "status") != "resolved") {
                return Fail(
                    ErrorCode::kConflict, "resolve the incident before publishing its post-mortem"
                );
            }
            pm["state"] = state;
            AddEntry(o, now, "postmortem", fmt::format("Post-mortem {} → {}", from, state), by);
            return {};
        }
    );
}

std::string Incidents::OperatorId() {
    if (operator_tenant_.empty()) {
        return "";
    }
    auto t = store_.FindByName("Tenant", "", operator_tenant_);
    return t ? t->id : "";
}

std::vector<std::string> Incidents::VisibleTenants(const store::Object& inc) {
    auto named = Strings(inc.spec, "affected", "tenants");
    std::string op = OperatorId();
    if (!op.empty() && inc.tenant == op) {
        return named;
    }
    // Its own tenant, whether or not it names it.
    return {inc.tenant};
}

json::array Incidents::Timeline(const store::Object& inc) {
    std::vector<json::object> out;
    auto opened = core::ParseRfc3339(inc.created_at).value_or(clock_.Now());
    auto resolved = core::ParseRfc3339(core::StrAt(inc.status, "resolved_at"));
    auto from = opened - std::chrono::hours(1);
    auto to = resolved.value_or(clock_.Now()) + std::chrono::minutes(1);
    bool declared = false;
    if (const auto* tl = inc.status.if_contains("timeline"); tl != nullptr && tl->is_array()) {
        for (const auto& e : tl->as_array()) {
            out.push_back(e.as_object());
            declared = declared || core::StrAt(e.as_object(), "type") == "declared";
        }
    }
    if (!declared) {
        out.push_back(json::object{
            {"at", inc.created_at},
            {"type", "declared"},
            {"text", "Declared: " + core::StrAt(inc.spec, "title")}});
    }
    // Pages of this incident.
    std::string source = core::StrAt(inc.spec, "source_page");
    for (const auto& p : ListKind(store_, "Page", inc.tenant, [&](const store::Object& o) {
             return o.id == source || core::StrAt(o.spec, "incident") == inc.id;
         })) {
        const auto* h = p.status.if_contains("history");
        if (h == nullptr || !h->is_array()) {
            continue;
        }
        for (const auto& ev : h->as_array()) {
            const json::object& e = ev.as_object();
            std::string type = core::StrAt(e, "event");
            std::string text;
            if (type == "notified") {
                text = fmt::format(
                    "Page {}: notified {} by {} ({}){}",
                    p.id,
                    core::StrAt(e, "user").empty() ? core::StrAt(e, "target")
                                                   : core::StrAt(e, "user"),
                    core::StrAt(e, "channel"),
                    core::StrAt(e, "reason"),
                    core::StrAt(e, "delivery").empty() ? "" : ", " + core::StrAt(e, "delivery")
                );
            } else if (type == "escalated") {
                text = fmt::format(
                    "Page {}: no acknowledgement, escalated to step {}",
                    p.id,
                    core::IntAt(e, "step") + 1
                );
            } else if (type == "acknowledged" || type == "resolved" || type == "reassigned") {
                text = fmt::format(
                    "Page {} {} by {}{}",
                    p.id,
                    type,
                    core::StrAt(e, "by"),
                    core::StrAt(e, "user").empty() ? "" : " to " + core::StrAt(e, "user")
                );
            } else if (type == "triggered") {
                text = fmt::format("Page {} opened: {}", p.id, core::StrAt(e, "detail"));
            } else {
                text = fmt::format("Page {}: {} {}", p.id, type, core::StrAt(e, "detail"));
            }
            out.push_back(json::object{
                {"at", core::StrAt(e, "at")}, {"type", "page"}, {"text", text}, {"source", p.id}});
        }
    }
    // Alerts and changes on the affected instances (or tenants).
    auto instances = Strings(inc.spec, "affected", "instances");
    std::set<std::string> inst(instances.begin(), instances.end());
    auto in_window = [&](const std::string& at) {
        auto t = core::ParseRfc3339(at);
        return t && *t >= from && *t <= to;
    };
    for (const auto& t : VisibleTenants(inc)) {
        for (const auto& a : ListKind(store_, "Alert", t, [&](const store::Object& o) {
                 return inst.empty() || inst.contains(Nested(o.spec, "labels", "instance"));
             })) {
            std::string name = Nested(a.spec, "labels", "alertname");
            std::string summary = Nested(a.spec, "annotations", "summary");
            for (const auto& f : Strings(a.status, "firings")) {
                if (in_window(f)) {
                    out.push_back(json::object{
                        {"at", f},
                        {"type", "alert"},
                        {"text", fmt::format("Alert {} firing: {}", name, summary)},
                        {"source", a.id}});
                }
            }
            if (auto end = core::StrAt(a.status, "ends_at"); !end.empty() && in_window(end)) {
                out.push_back(json::object{
                    {"at", end},
                    {"type", "alert"},
                    {"text", fmt::format("Alert {} resolved", name)},
                    {"source", a.id}});
            }
            if (const auto* rs = a.status.if_contains("remediations");
                rs != nullptr && rs->is_array()) {
                for (const auto& rv : rs->as_array()) {
                    const json::object& r = rv.as_object();
                    if (in_window(core::StrAt(r, "at"))) {
                        out.push_back(json::object{
                            {"at", core::StrAt(r, "at")},
                            {"type", "remediation"},
                            {"text",
                             fmt::format(
                                 "Runbook {} ({}): {}: {}",
                                 core::StrAt(r, "runbook"),
                                 core::StrAt(r, "action"),
                                 core::StrAt(r, "result"),
                                 core::StrAt(r, "detail")
                             )},
                            {"source", a.id}});
                    }
                }
            }
        }
        store::AuditQuery q;
        q.tenant = t;
        q.since = core::FormatRfc3339(from);
        q.until = core::FormatRfc3339(to);
        q.limit = 1000;
        if (auto events = store_.ListAudit(q)) {
            for (const auto& se : *events) {
                const auto& e = se.event;
                if (e.action.empty() || e.action.starts_with("runbook.") ||
                    e.action.starts_with("page.") || e.action.starts_with("incident.") ||
                    (!inst.empty() && !inst.contains(e.object)) ||
                    (inst.empty() && !e.object.starts_with("ins_"))) {
                    continue;
                }
                out.push_back(json::object{
                    {"at", e.time},
                    {"type", "change"},
                    {"text",
                     fmt::format("{} on {} by {}: {}", e.action, e.object, e.actor, e.outcome)}});
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const json::object& a, const json::object& b) {
        return core::StrAt(a, "at") < core::StrAt(b, "at");
    });
    return json::array(out.begin(), out.end());
}

std::string Incidents::PostmortemMarkdown(const store::Object& inc) {
    const json::object& spec = inc.spec;
    auto opened = core::ParseRfc3339(inc.created_at).value_or(clock_.Now());
    auto resolved = core::ParseRfc3339(core::StrAt(inc.status, "resolved_at"));
    auto end = resolved.value_or(clock_.Now());
    json::array timeline = Timeline(inc);
    std::string md = fmt::format("# Post-mortem: {}\n\n", core::StrAt(spec, "title"));
    md += fmt::format(
        "*{}* · incident `{}` · severity {} · status {}\n\n",
        Nested(spec, "postmortem", "state"),
        inc.id,
        core::StrAt(spec, "severity"),
        core::StrAt(spec, "status")
    );
    md += "## Summary\n\n" +
          (core::StrAt(spec, "summary").empty()
               ? std::string("_To fill in: what happened, in two or three sentences._")
               : core::StrAt(spec, "summary")) +
          "\n\n";
    md += "## Impact\n\n";
    md += fmt::format(
        "- From {} to {} ({}{})\n",
        core::FormatRfc3339(opened),
        resolved ? core::FormatRfc3339(*resolved) : "now",
        Minutes(opened, end),
        resolved ? "" : ", still open"
    );
    auto tenants = VisibleTenants(inc);
    auto instances = Strings(spec, "affected", "instances");
    md += fmt::format(
        "- Tenants affected: {}\n",
        tenants.empty() ? "none recorded" : fmt::format("{}", fmt::join(tenants, ", "))
    );
    md += fmt::format(
        "- Instances affected: {}\n\n",
        instances.empty() ? "none recorded" : fmt::format("{}", fmt::join(instances, ", "))
    );
    md +=
        "SLO minutes burnt (minutes the probes found the tenant's instances down during the "
        "incident):\n\n| tenant | minutes down |\n|---|---|\n";
    int64_t window = std::max<int64_t>(
        60, std::chrono::duration_cast<std::chrono::seconds>(end - opened).count()
    );
    for (const auto& t : tenants) {
        std::string value = "no probe data";
        if (tsdb_ != nullptr) {
            std::string sel = "up{job=\"hangar-probe\"";
            if (!instances.empty()) {
                sel += fmt::format(
                    ",instance=~\"{}\"",
                    metrics::EscapeLabelValue(fmt::format("{}", fmt::join(instances, "|")))
                );
            }
            sel += "}";
            metrics::promql::Engine engine(*tsdb_);
            int64_t at =
                std::chrono::duration_cast<std::chrono::milliseconds>(end.time_since_epoch())
                    .count();
            auto r = engine.Instant(
                t,
                fmt::format(
                    "sum((1 - avg_over_time({}[{}s])) * {})",
                    sel,
                    window,
                    static_cast<double>(window) / 60
                ),
                at
            );
            if (r && !r->series.empty() && !r->series[0].samples.empty()) {
                value = fmt::format("{:.1f}", r->series[0].samples.back().v);
            }
        }
        md += fmt::format("| {} | {} |\n", t, value);
    }
    md += "\n## Timeline\n\n| time (UTC) | what |\n|---|---|\n";
    std::optional<core::TimePoint> first_ack;
    for (const auto& e : timeline) {
        std::string text = core::StrAt(e.as_object(), "text");
        std::replace(text.begin(), text.end(), '\n', ' ');
        std::string escaped;
        for (char c : text) {
            escaped += c == '|' ? std::string("\\|") : std::string(1, c);
        }
        std::string by = core::StrAt(e.as_object(), "by");
        md += fmt::format(
            "| {} | {}{} |\n",
            core::StrAt(e.as_object(), "at"),
            escaped,
            by.empty() || by == "hangar" ? "" : " (" + by + ")"
        );
        if (!first_ack && text.find(" acknowledged by ") != std::string::npos) {
            first_ack = core::ParseRfc3339(core::StrAt(e.as_object(), "at"));
        }
    }
    md += "\n## Response\n\n";
    md += fmt::format(
        "- Time to acknowledge: {}\n", first_ack ? Minutes(opened, *first_ack) : "not acknowledged"
    );
    md += fmt::format(
        "- Time to resolve: {}\n", resolved ? Minutes(opened, *resolved) : "not resolved"
    );
    md += fmt::format(
        "- Lead: {}; communications: {}\n\n",
        Nested(spec, "roles", "lead").empty() ? "none" : Nested(spec, "roles", "lead"),
        Nested(spec, "roles", "communications").empty() ? "none"
                                                        : Nested(spec, "roles", "communications")
    );
    std::string root = Nested(spec, "postmortem", "root_cause"),
                remediation = Nested(spec, "postmortem", "remediation");
    md += "## Root cause\n\n" +
          (root.empty() ? std::string("_To fill in: why it happened (ask why until the answer is a "
                                      "decision, not a person)._")
                        : root) +
          "\n\n";
    md += "## Remediation\n\n" +
          (remediation.empty()
               ? std::string("_To fill in: what stopped the impact and what prevents a repeat._")
               : remediation) +
          "\n\n";
    md += "## Follow-ups\n\n";
    const auto& fus = spec.at("follow_ups").as_array();
    if (fus.empty()) {
        md += "_None yet._\n";
    }
    for (const auto& f : fus) {
        md += fmt::format(
            "- [{}] {}{}\n",
            core::BoolAt(f.as_object(), "done") ? "x" : " ",
            core::StrAt(f.as_object(), "text"),
            core::StrAt(f.as_object(), "owner").empty()
                ? ""
                : " (" + core::StrAt(f.as_object(), "owner") + ")"
        );
    }
    return md;
}

std::string Incidents::StatusPageHtml() {
    auto now = clock_.Now();
    // The status page is the cloud team's: only the operator tenant's incidents. Without one
    // it shows none; a customer's incident marked public is for its own status page, not the
    // platform's.
    std::string op = OperatorId();
    std::vector<store::Object> incidents;
    if (!op.empty()) {
        incidents = ListKind(store_, "Incident", std::optional(op), [&](const store::Object& o) {
            if (!core::BoolAt(o.spec, "public")) {
                return false;
            }
            auto resolved = core::ParseRfc3339(core::StrAt(o.status, "resolved_at"));
            return core::StrAt(o.spec, "status") != "resolved" ||
                   (resolved && now - *resolved < std::chrono::days(14));
        });
    }
    std::sort(
        incidents.begin(),
        incidents.end(),
        [](const store::Object& a, const store::Object& b) { return a.created_at > b.created_at; }
    );
    std::string open, recent;
    for (const auto& inc : incidents) {
        bool is_open = core::StrAt(inc.spec, "status") != "resolved";
        std::string html = fmt::format(
            "<article class=\"incident {}\"><h3>{}</h3><p class=\"meta\">{} · {} · since {}{}</p>",
            Html(core::StrAt(inc.spec, "status")),
            Html(core::StrAt(inc.spec, "title")),
            Html(core::StrAt(inc.spec, "severity")),
            Html(core::StrAt(inc.spec, "status")),
            Html(inc.created_at),
            is_open ? "" : " · resolved " + Html(core::StrAt(inc.status, "resolved_at"))
        );
        if (auto ps = core::StrAt(inc.spec, "public_summary"); !ps.empty()) {
            html += "<p>" + Html(ps) + "</p>";
        }
        html += "<ul>";
        if (const auto* tl = inc.status.if_contains("timeline"); tl != nullptr && tl->is_array()) {
            for (const auto& e : tl->as_array()) {
                if (core::BoolAt(e.as_object(), "public")) {
                    html += fmt::format(
                        "<li><time>{}</time> {}</li>",
                        Html(core::StrAt(e.as_object(), "at")),
                        Html(core::StrAt(e.as_object(), "text"))
                    );
                }
            }
        }
        html += "</ul></article>\n";
        (is_open ? open : recent) += html;
    }
    return fmt::format(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width\">"
        "<title>Status</"
        "title><style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem "
        "auto;padding:0 1rem;color:#222}}"
        ".ok{{background:#e6f4ea;padding:1rem;border-radius:6px}}.incident{{border-left:4px solid "
        "#d93025;padding:0 1rem;margin:1rem 0}}"
        ".incident.resolved{{border-color:#1e8e3e}}.meta{{color:#666}}time{{color:#666;margin-"
        "right:.5rem}}</style></head><body>\n"
        "<h1>Service status</h1>\n{}\n<h2>Open incidents</h2>\n{}<h2>Past 14 days</h2>\n{}<p "
        "class=\"meta\">Updated {}</p></body></html>\n",
        open.empty() ? "<p class=\"ok\" id=\"overall\">All systems operational.</p>"
                     : "<p id=\"overall\">Some services are affected.</p>",
        open.empty() ? "<p>None.</p>\n" : open,
        recent.empty() ? "<p>None.</p>\n" : recent,
        core::FormatRfc3339(now)
    );
}

json::object
Incidents::Handoff(const std::string& tenant, core::TimePoint from, core::TimePoint to) {
    auto now = clock_.Now();
    json::array open;
    for (const auto& inc : ListKind(store_, "Incident", tenant, [](const store::Object& o) {
             return core::StrAt(o.spec, "status") != "resolved";
         })) {
        std::string next;
        for (const auto& f : inc.spec.at("follow_ups").as_array()) {
            if (!core::BoolAt(f.as_object(), "done")) {
                next = core::StrAt(f.as_object(), "text");
                break;
            }
        }
        if (next.empty()) {
            if (const auto* tl = inc.status.if_contains("timeline");
                tl != nullptr && tl->is_array()) {
                for (auto it = tl->as_array().rbegin(); it != tl->as_array().rend(); ++it) {
                    if (core::StrAt(it->as_object(), "type") == "note") {
                        next = core::StrAt(it->as_object(), "text");
                        break;
                    }
                }
            }
        }
        open.push_back(json::object{
            {"id", inc.id},
            {"title", core::StrAt(inc.spec, "title")},
            {"severity", core::StrAt(inc.spec, "severity")},
            {"status", core::StrAt(inc.spec, "status")},
            {"lead", Nested(inc.spec, "roles", "lead")},
            {"next_step", next.empty() ? "none recorded" : next},
            {"opened_at", inc.created_at}});
    }
    // Alerts that fired in the shift, the noisiest first.
    struct Count {
        int64_t fired = 0;
        std::string last, state, summary, alertname, instance;
    };
    std::map<std::string, Count> counts;
    for (const auto& a : ListKind(store_, "Alert", tenant)) {
        for (const auto& f : Strings(a.status, "firings")) {
            auto t = core::ParseRfc3339(f);
            if (t && *t >= from && *t < to) {
                Count& c = counts[a.id];
                ++c.fired;
                c.last = std::max(c.last, f);
                c.state = core::StrAt(a.status, "state");
                c.summary = Nested(a.spec, "annotations", "summary");
                c.alertname = Nested(a.spec, "labels", "alertname");
                c.instance = Nested(a.spec, "labels", "instance_name").empty()
                                 ? Nested(a.spec, "labels", "instance")
                                 : Nested(a.spec, "labels", "instance_name");
            }
        }
    }
    std::vector<std::pair<std::string, Count>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second.fired > b.second.fired;
    });
    json::array alerts;
    for (const auto& [id, c] : ranked) {
        alerts.push_back(json::object{
            {"alert", id},
            {"alertname", c.alertname},
            {"instance", c.instance},
            {"fired", c.fired},
            {"last_fired", c.last},
            {"state", c.state},
            {"summary", c.summary}});
    }
    json::array silences;
    for (const auto& s : ListKind(store_, "Silence", tenant)) {
        auto start = core::ParseRfc3339(core::StrAt(s.spec, "starts_at"))
                         .value_or(core::ParseRfc3339(s.created_at).value_or(now));
        auto end = core::ParseRfc3339(core::StrAt(s.spec, "ends_at"));
        if (end && start <= now && now < *end) {
            silences.push_back(json::object{
                {"name", s.name},
                {"matchers", s.spec.at("matchers")},
                {"comment", core::StrAt(s.spec, "comment")},
                {"author", core::StrAt(s.spec, "author")},
                {"ends_at", core::StrAt(s.spec, "ends_at")}});
        }
    }
    json::array rollouts;
    for (const auto& r : ListKind(store_, "Rollout", std::nullopt)) {
        std::string phase = core::StrAt(r.status, "phase");
        if (phase == "Completed" || phase == "Aborted" || phase == "Halted") {
            continue;
        }
        rollouts.push_back(json::object{
            {"name", r.name},
            {"product", core::StrAt(r.spec, "product")},
            {"target_version", core::StrAt(r.spec, "target_version")},
            {"phase", phase.empty() ? "Pending" : phase},
            {"upgraded", core::IntAt(r.status, "upgraded")},
            {"total", core::IntAt(r.status, "total")}});
    }
    json::array maintenance;
    for (const auto& m : ListKind(store_, "MaintenanceWindow", tenant)) {
        auto start = core::ParseRfc3339(core::StrAt(m.spec, "starts_at"));
        auto end = core::ParseRfc3339(core::StrAt(m.spec, "ends_at"));
        if (start && end && *end > now && *start < to + std::chrono::days(7)) {
            maintenance.push_back(json::object{
                {"name", m.name},
                {"reason", core::StrAt(m.spec, "reason")},
                {"starts_at", core::StrAt(m.spec, "starts_at")},
                {"ends_at", core::StrAt(m.spec, "ends_at")},
                {"selector", core::StrAt(m.spec, "selector")},
                {"active", *start <= now}});
        }
    }
    return json::object{
        {"tenant", tenant},
        {"from", core::FormatRfc3339(from)},
        {"to", core::FormatRfc3339(to)},
        {"open_incidents", std::move(open)},
        {"alerts", std::move(alerts)},
        {"silences", std::move(silences)},
        {"rollouts_in_flight", std::move(rollouts)},
        {"maintenance", std::move(maintenance)}};
}

}  // namespace hangar::incidents
