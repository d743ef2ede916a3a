#include "hangar/alerting/specs.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/alerting/alert.hpp"
#include "hangar/alerting/template.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/destination.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/metrics/promql_ast.hpp"

namespace hangar::alerting {

namespace json = boost::json;
using core::Fail;
using core::ObjectReader;

namespace {

void Duration(
    ObjectReader& r,
    json::object& out,
    std::string_view key,
    std::string_view dflt,
    int64_t max_seconds
) {
    std::string text = r.String(key).value_or(std::string(dflt));
    auto d = core::ParseDuration(text);
    if (!d || d->count() > max_seconds) {
        r.SetError(
            r.PathOf(key),
            fmt::format("must be a duration such as 30s, 5m or 1h (at most {}s)", max_seconds)
        );
    }
    out[key] = text;
}

json::array Matchers(ObjectReader& r, std::string_view key, bool required) {
    json::array out;
    const json::array* ms = r.Array(key, required);
    if (ms == nullptr) {
        return out;
    }
    std::vector<std::string> texts;
    for (const auto& m : *ms) {
        if (!m.is_string()) {
            r.SetError(r.PathOf(key), "must be strings such as severity=\"critical\"");
            return out;
        }
        texts.emplace_back(m.as_string());
    }
    if (texts.size() > 50) {
        r.SetError(r.PathOf(key), "at most 50 matchers");
    }
    if (auto parsed = ParseMatchers(texts); !parsed) {
        r.SetError(r.PathOf(key), parsed.error().message);
    } else {
        for (const auto& m : *parsed) {
            out.emplace_back(m.ToString());
        }
    }
    return out;
}

json::array LabelNames(ObjectReader& r, std::string_view key) {
    json::array out;
    if (const json::array* a = r.Array(key)) {
        for (const auto& v : *a) {
            if (!v.is_string() ||
                (!metrics::ValidLabelName(v.as_string()) && v.as_string() != "...")) {
                r.SetError(r.PathOf(key), "must be label names (or \"...\" for every label)");
                break;
            }
            out.push_back(v);
        }
    }
    return out;
}

void LabelMap(ObjectReader& r, json::object& out, std::string_view key, bool templates) {
    auto m = r.StringMap(key);
    if (!m) {
        return;
    }
    json::object o;
    for (const auto& [k, v] : *m) {
        if (!metrics::ValidLabelName(k)) {
            r.SetError(
                fmt::format("{}.{}", r.PathOf(key), k),
                "is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"
            );
        } else if (v.size() > 4096) {
            r.SetError(fmt::format("{}.{}", r.PathOf(key), k), "is longer than 4096 bytes");
        } else if (auto t = CheckTemplate(v); templates && !t) {
            r.SetError(fmt::format("{}.{}", r.PathOf(key), k), "template: " + t.error().message);
        }
        o[k] = v;
    }
    out[key] = std::move(o);
}

void Route(
    ObjectReader& r,
    const json::object& in,
    const std::string& path,
    int depth,
    json::object& out
) {
    ObjectReader rr(in, path);
    if (auto recv = rr.String("receiver")) {
        out["receiver"] = *recv;
    } else if (depth == 0) {
        rr.SetError(
            path + ".receiver",
            "is required at the root: the receiver for alerts no other route takes"
        );
    }
    if (depth > 0) {
        out["matchers"] = Matchers(rr, "matchers", false);
        out["continue"] = rr.Bool("continue").value_or(false);
    }
    if (rr.Any("group_by") != nullptr) {
        out["group_by"] = LabelNames(rr, "group_by");
    }
    for (auto [key, max] :
         {std::pair{"group_wait", 3600},
          {"group_interval", 86400},
          {"repeat_interval", 30 * 86400}}) {
        if (rr.Any(key) != nullptr) {
            Duration(rr, out, key, "", max);
        }
    }
    json::array children;
    if (const json::array* routes = rr.Array("routes")) {
        if (depth >= 8 || routes->size() > 100) {
            rr.SetError(
                path + ".routes", "routes nest at most 8 deep and hold at most 100 children"
            );
        }
        for (size_t i = 0; i < routes->size() && rr.ok(); ++i) {
            std::string cpath = fmt::format("{}.routes[{}]", path, i);
            if (!(*routes)[i].is_object()) {
                rr.SetError(cpath, "must be a route object");
                break;
            }
            json::object child;
            Route(rr, (*routes)[i].as_object(), cpath, depth + 1, child);
            children.push_back(std::move(child));
        }
    }
    out["routes"] = std::move(children);
    r.Absorb(rr.Finish());
}

void CollectReceivers(
    const json::object& route,
    std::vector<std::pair<std::string, std::string>>& used,
    const std::string& path
) {
    if (const auto* recv = route.if_contains("receiver")) {
        used.emplace_back(std::string(recv->as_string()), path + ".receiver");
    }
    const auto& children = route.at("routes").as_array();
    for (size_t i = 0; i < children.size(); ++i) {
        CollectReceivers(children[i].as_object(), used, fmt::format("{}.routes[{}]", path, i));
    }
}

}  // namespace

core::Result<json::object> ValidateAlertRuleSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto alert = r.String("alert")) {
        if (!metrics::ValidLabelName(*alert)) {
            r.SetError(
                "spec.alert",
                "must be an alert name such as InstanceMemoryHigh ([a-zA-Z_][a-zA-Z0-9_]*)"
            );
        }
        out["alert"] = *alert;
    }
    if (auto expr = r.String("expr", true)) {
        auto e = metrics::promql::Parse(*expr);
        if (!e) {
            r.SetError("spec.expr", e.error().message);
        } else if ((*e)->type != metrics::promql::ValueType::kVector) {
            r.SetError("spec.expr", "must give an instant vector (each series found is one alert)");
        }
        out["expr"] = *expr;
    }
    Duration(r, out, "for", "0s", int64_t{7} * 86400);
    Duration(r, out, "keep_firing_for", "0s", int64_t{7} * 86400);
    LabelMap(r, out, "labels", false);
    if (!out.contains("labels")) {
        out["labels"] = json::object();
    }
    LabelMap(r, out, "annotations", true);
    if (!out.contains("annotations")) {
        out["annotations"] = json::object();
    }
    if (auto u = r.String("runbook_url")) {
        if (core::HttpUrlProblem(*u)) {
            r.SetError("spec.runbook_url", "must be an http:// or https:// URL");
        }
        out["runbook_url"] = *u;
    }
    out["disabled"] = r.Bool("disabled").value_or(false);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateSilenceSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    out["matchers"] = Matchers(r, "matchers", true);
    if (r.ok() && out["matchers"].as_array().empty()) {
        r.SetError("spec.matchers", "needs at least one matcher");
    }
    std::optional<core::TimePoint> a, b;
    if (auto s = r.String("starts_at")) {
        a = core::ParseRfc3339(*s);
        if (!a) {
            r.SetError("spec.starts_at", "must be an RFC 3339 time such as 2026-11-23T09:00:00Z");
        } else {
            out["starts_at"] = core::FormatRfc3339(*a);
        }
    }
    if (auto e = r.String("ends_at", true)) {
        b = core::ParseRfc3339(*e);
        if (!b) {
            r.SetError("spec.ends_at", "must be an RFC 3339 time such as 2026-11-23T17:00:00Z");
        } else {
            out["ends_at"] = core::FormatRfc3339(*b);
        }
    }
    if (a && b && *b <= *a) {
        r.SetError("spec.ends_at", "must be after starts_at");
    }
    for (const char* key : {"author", "comment"}) {
        if (auto v = r.String(key, true)) {
            if (v->empty() || v->size() > 2000) {
                r.SetError(
                    r.PathOf(key),
                    std::string(key) == "author" ? "must say who silenced"
                                                 : "must say why (1 to 2000 characters)"
                );
            }
            out[key] = *v;
        }
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateNotificationPolicySpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    std::set<std::string> names;
    json::array receivers;
    if (const json::array* rs = r.Array("receivers", true)) {
        for (size_t i = 0; i < rs->size() && r.ok(); ++i) {
            std::string path = fmt::format("spec.receivers[{}]", i);
            if (!(*rs)[i].is_object()) {
                r.SetError(path, "must be an object");
                break;
            }
            ObjectReader rr((*rs)[i].as_object(), path);
            json::object one;
            auto name = rr.String("name", true);
            if (name && !names.insert(*name).second) {
                rr.SetError(
                    path + ".name", fmt::format("\"{}\" is used by an earlier receiver", *name)
                );
            }
            one["name"] = name.value_or("");
            int kinds = 0;
            if (auto p = rr.String("escalation_policy")) {
                ++kinds;
                one["escalation_policy"] = *p;
            }
            if (auto u = rr.String("webhook_url")) {
                ++kinds;
                if (auto ok = core::DestinationPolicy::Global().CheckUrl(*u); !ok) {
                    rr.SetError(path + ".webhook_url", ok.error().message);
                }
                one["webhook_url"] = *u;
            }
            if (auto e = rr.String("email")) {
                ++kinds;
                if (e->find('@') == std::string::npos ||
                    e->find_first_of(" <>\r\n") != std::string::npos) {
                    rr.SetError(path + ".email", "must be an email address");
                }
                one["email"] = *e;
            }
            if (kinds != 1 && rr.ok()) {
                rr.SetError(path, "needs exactly one of escalation_policy, webhook_url or email");
            }
            r.Absorb(rr.Finish());
            receivers.push_back(std::move(one));
        }
    }
    json::object route;
    if (const json::object* root = r.Object("route", true); root != nullptr && r.ok()) {
        Route(r, *root, "spec.route", 0, route);
        if (r.ok()) {
            std::vector<std::pair<std::string, std::string>> used;
            CollectReceivers(route, used, "spec.route");
            for (const auto& [name, path] : used) {
                if (!names.contains(name)) {
                    r.SetError(
                        path, fmt::format("there is no receiver \"{}\" in spec.receivers", name)
                    );
                    break;
                }
            }
        }
    }
    json::array inhibit;
    if (const json::array* is = r.Array("inhibit_rules")) {
        for (size_t i = 0; i < is->size() && r.ok(); ++i) {
            std::string path = fmt::format("spec.inhibit_rules[{}]", i);
            if (!(*is)[i].is_object()) {
                r.SetError(path, "must be an object");
                break;
            }
            ObjectReader ir((*is)[i].as_object(), path);
            json::object one;
            one["source_matchers"] = Matchers(ir, "source_matchers", true);
            one["target_matchers"] = Matchers(ir, "target_matchers", true);
            one["equal"] = LabelNames(ir, "equal");
            r.Absorb(ir.Finish());
            inhibit.push_back(std::move(one));
        }
    }
    out["receivers"] = std::move(receivers);
    out["route"] = std::move(route);
    out["inhibit_rules"] = std::move(inhibit);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateRunbookSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    out["matchers"] = Matchers(r, "matchers", true);
    if (r.ok() && out["matchers"].as_array().empty()) {
        r.SetError(
            "spec.matchers", "needs at least one matcher: which alerts this runbook answers"
        );
    }
    std::string action = r.String("action", true).value_or("");
    if (r.ok() && action != "restart" && action != "resize_up" && action != "exec") {
        r.SetError(
            "spec.action",
            "must be restart, resize_up (the next larger plan) or exec (run spec.command)"
        );
    }
    out["action"] = action;
    if (const json::array* cmd = r.Array("command")) {
        json::array argv;
        for (const auto& a : *cmd) {
            if (!a.is_string() || a.as_string().empty()) {
                r.SetError(
                    "spec.command", "must be the program and its arguments, as non-empty strings"
                );
                break;
            }
            argv.push_back(a);
        }
        if (argv.empty() && r.ok()) {
            r.SetError("spec.command", "must name a program");
        }
        out["command"] = std::move(argv);
    }
    if (r.ok() && (action == "exec") != out.contains("command")) {
        r.SetError(
            "spec.command",
            action == "exec" ? "is required for the exec action" : "is only for the exec action"
        );
    }
    auto max = r.Int("max_per_hour");
    if (max && (*max < 1 || *max > 100)) {
        r.SetError("spec.max_per_hour", "must be between 1 and 100");
    }
    out["max_per_hour"] = max.value_or(3);
    out["requires_approval"] = r.Bool("requires_approval").value_or(false);
    out["disabled"] = r.Bool("disabled").value_or(false);
    if (auto d = r.String("description")) {
        out["description"] = *d;
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

}  // namespace hangar::alerting
