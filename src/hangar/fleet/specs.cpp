#include "hangar/fleet/specs.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::fleet {

using core::ErrorCode;
using core::Fail;
using core::FieldError;
using core::ObjectReader;

namespace {

bool IsVersion(std::string_view v) {
    if (v.empty() || v.size() > 64) {
        return false;
    }
    return std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
               c == '+';
    });
}

// Positive integer with an upper bound.
void PositiveInt(
    ObjectReader& r,
    json::object& out,
    std::string_view key,
    int64_t max,
    bool required
) {
    auto v = r.Int(key, required);
    if (!v) {
        return;
    }
    if (*v <= 0 || *v > max) {
        r.SetError(r.PathOf(key), fmt::format("must be from 1 to {}", max));
        return;
    }
    out[key] = *v;
}

void StringArray(ObjectReader& r, json::object& out, std::string_view key) {
    const json::array* a = r.Array(key);
    if (a == nullptr) {
        return;
    }
    json::array copy;
    for (size_t i = 0; i < a->size(); ++i) {
        if (!(*a)[i].is_string()) {
            r.SetError(fmt::format("{}[{}]", r.PathOf(key), i), "must be a string");
            return;
        }
        copy.push_back((*a)[i]);
    }
    out[key] = std::move(copy);
}

core::Result<json::object> ValidateHealth(const json::object& h, const std::string& path) {
    ObjectReader r(h, path);
    json::object out;
    int kinds = 0;
    if (const json::object* http = r.Object("http")) {
        ++kinds;
        ObjectReader hr(*http, path + ".http");
        json::object o;
        auto p = hr.String("path", true);
        if (p && (p->empty() || p->front() != '/')) {
            hr.SetError(path + ".http.path", "must start with /");
        }
        if (p) {
            o["path"] = *p;
        }
        if (auto st = hr.Int("expected_status")) {
            if (*st < 100 || *st > 599) {
                hr.SetError(path + ".http.expected_status", "must be an HTTP status");
            }
            o["expected_status"] = *st;
        }
        if (auto f = hr.Finish(); !f) {
            return Fail(f.error());
        }
        out["http"] = std::move(o);
    }
    if (const json::object* tcp = r.Object("tcp")) {
        ++kinds;
        ObjectReader tr(*tcp, path + ".tcp");
        if (auto f = tr.Finish(); !f) {
            return Fail(f.error());
        }
        out["tcp"] = json::object();
    }
    if (const json::object* ex = r.Object("exec")) {
        ++kinds;
        ObjectReader er(*ex, path + ".exec");
        json::object o;
        StringArray(er, o, "command");
        if (!o.contains("command")) {
            er.SetError(path + ".exec.command", "is required (an array of strings)");
        }
        if (auto f = er.Finish(); !f) {
            return Fail(f.error());
        }
        out["exec"] = std::move(o);
    }
    for (auto key :
         {"interval_seconds", "timeout_seconds", "failure_threshold", "success_threshold"}) {
        PositiveInt(r, out, key, 3600, false);
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    if (kinds != 1) {
        return Fail(FieldError(path, "needs exactly one of http, tcp or exec"));
    }
    return out;
}

}  // namespace

core::Result<json::object> ValidateProductSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto d = r.String("display_name")) {
        out["display_name"] = *d;
    }
    auto def = r.String("default_version");
    const json::array* versions = r.Array("versions", true);
    if (const json::object* ws = r.Object("workspace")) {
        out["workspace"] = *ws;  // read by the cloud services' validator (api composes the two)
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    if (versions->empty()) {
        return Fail(FieldError("spec.versions", "needs at least one version"));
    }
    json::array vs;
    std::set<std::string> seen;
    for (size_t i = 0; i < versions->size(); ++i) {
        std::string path = fmt::format("spec.versions[{}]", i);
        if (!(*versions)[i].is_object()) {
            return Fail(FieldError(path, "must be an object"));
        }
        ObjectReader vr((*versions)[i].as_object(), path);
        json::object v;
        auto version = vr.String("version", true);
        if (version && !IsVersion(*version)) {
            vr.SetError(
                path + ".version", "must be 1-64 characters of letters, digits, '.', '-', '_', '+'"
            );
        }
        if (version) {
            if (!seen.insert(*version).second) {
                vr.SetError(path + ".version", fmt::format("\"{}\" is listed twice", *version));
            }
            v["version"] = *version;
        }
        const json::object* run = vr.Object("run", true);
        if (run != nullptr) {
            for (const auto& kv : *run) {
                if (kv.key() != "process" && kv.key() != "simulated" && kv.key() != "kubernetes") {
                    vr.SetError(
                        fmt::format("{}.run.{}", path, std::string_view(kv.key())),
                        "unknown provisioner (process, simulated, kubernetes)"
                    );
                } else if (!kv.value().is_object()) {
                    vr.SetError(
                        fmt::format("{}.run.{}", path, std::string_view(kv.key())),
                        "must be an object"
                    );
                } else if (const json::value* ports = kv.value().as_object().if_contains("extra_ports")) {
                    std::string at =
                        fmt::format("{}.run.{}.extra_ports", path, std::string_view(kv.key()));
                    bool ok = ports->is_array() && ports->as_array().size() <= 8;
                    std::set<std::string> names;
                    for (size_t k = 0; ok && k < ports->as_array().size(); ++k) {
                        const json::value& n = ports->as_array()[k];
                        ok = n.is_string() && !n.as_string().empty() &&
                             n.as_string().size() <= 32 &&
                             std::isalpha(static_cast<unsigned char>(n.as_string()[0])) != 0 &&
                             n.as_string().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"
                             ) == json::string::npos &&
                             names.insert(std::string(n.as_string())).second;
                    }
                    if (!ok) {
                        vr.SetError(
                            at,
                            "must be a list of at most 8 distinct names of lowercase letters, "
                            "digits and '_'"
                        );
                    }
                }
            }
            v["run"] = *run;
        }
        const json::object* health = vr.Object("health");
        if (auto mp = vr.String("metrics_path")) {
            if (mp->empty() || mp->front() != '/') {
                vr.SetError(path + ".metrics_path", "must start with /");
            }
            v["metrics_path"] = *mp;
        }
        if (const json::object* schema = vr.Object("config_schema")) {
            v["config_schema"] = *schema;
        }
        StringArray(vr, v, "backup_command");
        if (auto f = vr.Finish(); !f) {
            return Fail(f.error());
        }
        if (health != nullptr) {
            auto h = ValidateHealth(*health, path + ".health");
            if (!h) {
                return Fail(h.error());
            }
            v["health"] = std::move(*h);
        }
        vs.push_back(std::move(v));
    }
    if (def) {
        if (!seen.contains(*def)) {
            return Fail(FieldError(
                "spec.default_version", fmt::format("\"{}\" is not one of the versions", *def)
            ));
        }
        out["default_version"] = *def;
    } else {
        out["default_version"] = vs.back().as_object().at("version");
    }
    out["versions"] = std::move(vs);
    return out;
}

core::Result<json::object> ValidatePlanSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    PositiveInt(r, out, "memory_mb", 1 << 20, true);
    PositiveInt(r, out, "cpu_millis", 1 << 20, true);
    if (auto d = r.String("display_name")) {
        out["display_name"] = *d;
    }
    const json::object* ent = r.Object("entitlements");
    const json::object* sla = r.Object("sla");
    const json::object* price = r.Object("price");
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    if (ent != nullptr) {
        ObjectReader er(*ent, "spec.entitlements");
        json::object e;
        PositiveInt(er, e, "max_instances", 1000000, false);
        PositiveInt(er, e, "max_total_memory_mb", 1 << 30, false);
        PositiveInt(er, e, "monthly_push_notifications", 1 << 30, false);
        // The marketplace's enterprise-only apps are for plans that say so.
        if (auto ent_apps = er.Bool("enterprise_apps")) {
            e["enterprise_apps"] = *ent_apps;
        }
        if (auto f = er.Finish(); !f) {
            return Fail(f.error());
        }
        out["entitlements"] = std::move(e);
    }
    if (price != nullptr) {
        // What the plan costs, shown on the checkout page (billing itself reads its own kinds).
        ObjectReader pr(*price, "spec.price");
        json::object p;
        if (auto a = pr.Int("amount_cents", true)) {
            if (*a < 0 || *a > int64_t{1} << 40) {
                pr.SetError("spec.price.amount_cents", "must be from 0 to 2^40");
            }
            p["amount_cents"] = *a;
        }
        if (auto c = pr.String("currency", true)) {
            if (c->size() != 3 || !std::all_of(c->begin(), c->end(), [](char ch) {
                    return ch >= 'A' && ch <= 'Z';
                })) {
                pr.SetError("spec.price.currency", "must be an ISO 4217 code such as EUR or USD");
            }
            p["currency"] = *c;
        }
        std::string interval = pr.String("interval").value_or("month");
        if (interval != "month" && interval != "year") {
            pr.SetError("spec.price.interval", "must be month or year");
        }
        p["interval"] = interval;
        if (auto f = pr.Finish(); !f) {
            return Fail(f.error());
        }
        out["price"] = std::move(p);
    }
    if (sla != nullptr) {
        ObjectReader sr(*sla, "spec.sla");
        json::object s;
        const json::value* target = sr.Any("target_percent");
        if (target == nullptr || !target->is_number() || target->to_number<double>() <= 0 ||
            target->to_number<double>() > 100) {
            sr.SetError("spec.sla.target_percent", "is required: a percentage such as 99.5");
        } else {
            s["target_percent"] = target->to_number<double>();
        }
        if (const json::array* credits = sr.Array("credits")) {
            // [{below_percent: 99.5, credit_percent: 10}, ...]: the credit owed when a month's
            // uptime is under below_percent (the largest that applies).
            json::array out_credits;
            for (size_t i = 0; i < credits->size(); ++i) {
                std::string at = fmt::format("spec.sla.credits[{}]", i);
                const json::value& c = (*credits)[i];
                const json::value* below =
                    c.is_object() ? c.as_object().if_contains("below_percent") : nullptr;
                const json::value* pct =
                    c.is_object() ? c.as_object().if_contains("credit_percent") : nullptr;
                if (!c.is_object() || c.as_object().size() != 2 || below == nullptr ||
                    pct == nullptr || !below->is_number() || !pct->is_number() ||
                    below->to_number<double>() <= 0 || below->to_number<double>() > 100 ||
                    pct->to_number<double>() < 0 || pct->to_number<double>() > 100) {
                    sr.SetError(at, "must be {below_percent: 0-100, credit_percent: 0-100}");
                    break;
                }
                out_credits.push_back(json::object{
                    {"below_percent", below->to_number<double>()},
                    {"credit_percent", pct->to_number<double>()}});
            }
            s["credits"] = std::move(out_credits);
        }
        if (auto f = sr.Finish(); !f) {
            return Fail(f.error());
        }
        out["sla"] = std::move(s);
    }
    return out;
}

core::Result<json::object> ValidateInstanceSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    for (auto key : {"product", "plan"}) {
        if (auto v = r.String(key, true)) {
            if (!core::IsDnsLabel(*v)) {
                r.SetError(r.PathOf(key), "must be the name of an existing object");
            }
            out[key] = *v;
        }
    }
    if (auto v = r.String("version")) {
        if (!IsVersion(*v)) {
            r.SetError("spec.version", "is not a version");
        }
        out["version"] = *v;
    }
    if (const json::object* c = r.Object("config")) {
        out["config"] = *c;
    }
    if (auto d = r.String("domain")) {
        if (d->size() > 253) {
            r.SetError("spec.domain", "must be at most 253 characters");
        }
        out["domain"] = *d;
    }
    if (auto ch = r.String("release_channel")) {
        if (*ch != "internal" && *ch != "canary" && *ch != "stable") {
            r.SetError("spec.release_channel", "must be internal, canary or stable");
        }
        out["release_channel"] = *ch;
    } else {
        out["release_channel"] = "stable";
    }
    out["deletion_protection"] = r.Bool("deletion_protection").value_or(false);
    out["suspended"] = r.Bool("suspended").value_or(false);
    if (auto n = r.Int("restart_nonce")) {
        out["restart_nonce"] = *n;
    }
    if (const json::object* mw = r.Object("maintenance_window")) {
        ObjectReader mr(*mw, "spec.maintenance_window");
        json::object m;
        if (auto day = mr.String("day", true)) {
            static const std::set<std::string> kDays = {
                "mon", "tue", "wed", "thu", "fri", "sat", "sun", "daily"};
            if (!kDays.contains(*day)) {
                mr.SetError("spec.maintenance_window.day", "must be mon..sun or daily");
            }
            m["day"] = *day;
        }
        if (auto start = mr.String("start", true)) {
            if (start->size() != 5 || (*start)[2] != ':' || (*start).substr(0, 2) > "23" ||
                (*start).substr(3) > "59") {
                mr.SetError("spec.maintenance_window.start", "must be HH:MM (UTC)");
            }
            m["start"] = *start;
        }
        PositiveInt(mr, m, "duration_minutes", int64_t{24} * 60, true);
        if (auto f = mr.Finish(); !f) {
            return Fail(f.error());
        }
        out["maintenance_window"] = std::move(m);
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateRolloutSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto p = r.String("product", true)) {
        if (!core::IsDnsLabel(*p)) {
            r.SetError("spec.product", "must be the name of a product");
        }
        out["product"] = *p;
    }
    for (auto key : {"target_version", "from_version"}) {
        if (auto v = r.String(key, std::string_view(key) == "target_version")) {
            if (!IsVersion(*v)) {
                r.SetError(r.PathOf(key), "is not a version");
            }
            out[key] = *v;
        }
    }
    if (auto ch = r.String("release_channel")) {
        if (*ch != "internal" && *ch != "canary" && *ch != "stable") {
            r.SetError("spec.release_channel", "must be internal, canary or stable");
        }
        out["release_channel"] = *ch;
    }
    if (auto sel = r.String("selector")) {
        out["selector"] = *sel;
    }
    json::array waves;
    if (const json::array* w = r.Array("waves")) {
        int64_t last = 0;
        for (size_t i = 0; i < w->size(); ++i) {
            const json::value& v = (*w)[i];
            if (!v.is_int64() || v.as_int64() <= last || v.as_int64() > 100) {
                r.SetError(
                    fmt::format("spec.waves[{}]", i), "must be increasing percentages up to 100"
                );
                break;
            }
            last = v.as_int64();
            waves.push_back(v);
        }
        if (last != 100 && r.ok()) {
            r.SetError("spec.waves", "the last wave must be 100");
        }
    } else {
        waves = {10, 40, 100};
    }
    out["waves"] = std::move(waves);
    json::object defaults{
        {"max_unavailable", 1}, {"health_gate_seconds", 10}, {"gate_timeout_seconds", 120}};
    for (const auto& [key, def] : defaults) {
        auto v = r.Int(key);
        if (v && (*v < (key == "health_gate_seconds" ? 0 : 1) || *v > 86400)) {
            r.SetError(r.PathOf(key), "is out of range");
        }
        out[key] = v ? json::value(*v) : def;
    }
    out["paused"] = r.Bool("paused").value_or(false);
    out["aborted"] = r.Bool("aborted").value_or(false);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

namespace {

using core::BoolAt;
using core::IntAt;
using core::ObjectAt;
using core::StrAt;

double NumberAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_number() ? v->to_number<double>() : 0;
}

const json::array* ArrayAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

std::optional<json::object> OptionalObject(const json::object& o, std::string_view key) {
    if (const json::object* v = ObjectAt(o, key)) {
        return *v;
    }
    return std::nullopt;
}

// A strict parse: the validator names the field; what it stored is then read as stored.
template <typename T>
core::Result<T>
ParseVia(core::Result<json::object> (*validate)(const json::object&), const json::object& spec) {
    auto checked = validate(spec);
    if (!checked) {
        return Fail(checked.error());
    }
    return T::FromStored(*checked);
}

}  // namespace

core::Result<PlanSpec> PlanSpec::Parse(const json::object& spec) {
    return ParseVia<PlanSpec>(ValidatePlanSpec, spec);
}

PlanSpec PlanSpec::FromStored(const json::object& spec) {
    PlanSpec p;
    p.memory_mb = IntAt(spec, "memory_mb");
    p.cpu_millis = IntAt(spec, "cpu_millis");
    p.display_name = StrAt(spec, "display_name");
    if (const json::object* e = ObjectAt(spec, "entitlements")) {
        p.entitlements = Entitlements{
            .max_instances = IntAt(*e, "max_instances"),
            .max_total_memory_mb = IntAt(*e, "max_total_memory_mb"),
            .monthly_push_notifications = IntAt(*e, "monthly_push_notifications"),
            .enterprise_apps = e->contains("enterprise_apps")
                                   ? std::optional<bool>(BoolAt(*e, "enterprise_apps"))
                                   : std::nullopt};
    }
    if (const json::object* price = ObjectAt(spec, "price")) {
        p.price = Price{
            .amount_cents = IntAt(*price, "amount_cents"),
            .currency = StrAt(*price, "currency"),
            .interval = StrAt(*price, "interval")};
    }
    if (const json::object* sla = ObjectAt(spec, "sla")) {
        Sla s{.target_percent = NumberAt(*sla, "target_percent"), .credits = std::nullopt};
        if (const json::array* credits = ArrayAt(*sla, "credits")) {
            s.credits.emplace();
            for (const auto& c : *credits) {
                if (c.is_object()) {
                    s.credits->push_back(SlaCredit{
                        .below_percent = NumberAt(c.as_object(), "below_percent"),
                        .credit_percent = NumberAt(c.as_object(), "credit_percent")});
                }
            }
        }
        p.sla = std::move(s);
    }
    return p;
}

json::object PlanSpec::ToJson() const {
    json::object o{{"memory_mb", memory_mb}, {"cpu_millis", cpu_millis}};
    if (!display_name.empty()) {
        o["display_name"] = display_name;
    }
    if (entitlements) {
        json::object e;
        for (auto [key, v] :
             {std::pair{"max_instances", entitlements->max_instances},
              std::pair{"max_total_memory_mb", entitlements->max_total_memory_mb},
              std::pair{"monthly_push_notifications", entitlements->monthly_push_notifications}}) {
            if (v > 0) {
                e[key] = v;
            }
        }
        if (entitlements->enterprise_apps) {
            e["enterprise_apps"] = *entitlements->enterprise_apps;
        }
        o["entitlements"] = std::move(e);
    }
    if (price) {
        o["price"] = json::object{
            {"amount_cents", price->amount_cents},
            {"currency", price->currency},
            {"interval", price->interval}};
    }
    if (sla) {
        json::object s{{"target_percent", sla->target_percent}};
        if (sla->credits) {
            json::array a;
            for (const auto& c : *sla->credits) {
                a.push_back(json::object{
                    {"below_percent", c.below_percent}, {"credit_percent", c.credit_percent}});
            }
            s["credits"] = std::move(a);
        }
        o["sla"] = std::move(s);
    }
    return o;
}

json::object ProductVersion::RecipeFor(std::string_view provisioner) const {
    const json::object* mine = ObjectAt(run, provisioner);
    return mine != nullptr ? *mine : json::object();
}

const ProductVersion* ProductSpec::Find(std::string_view version) const {
    for (const auto& v : versions) {
        if (v.version == version) {
            return &v;
        }
    }
    return nullptr;
}

core::Result<ProductSpec> ProductSpec::Parse(const json::object& spec) {
    return ParseVia<ProductSpec>(ValidateProductSpec, spec);
}

ProductSpec ProductSpec::FromStored(const json::object& spec) {
    ProductSpec p;
    p.display_name = StrAt(spec, "display_name");
    p.default_version = StrAt(spec, "default_version");
    p.workspace = OptionalObject(spec, "workspace");
    if (const json::array* vs = ArrayAt(spec, "versions")) {
        for (const auto& v : *vs) {
            if (!v.is_object()) {
                continue;
            }
            const json::object& o = v.as_object();
            ProductVersion pv;
            pv.version = StrAt(o, "version");
            if (const json::object* run = ObjectAt(o, "run")) {
                pv.run = *run;
            }
            pv.health = OptionalObject(o, "health");
            pv.metrics_path = StrAt(o, "metrics_path");
            pv.config_schema = OptionalObject(o, "config_schema");
            if (const json::array* cmd = ArrayAt(o, "backup_command")) {
                pv.backup_command.emplace();
                for (const auto& a : *cmd) {
                    if (a.is_string()) {
                        pv.backup_command->emplace_back(a.as_string());
                    }
                }
            }
            p.versions.push_back(std::move(pv));
        }
    }
    return p;
}

json::object ProductSpec::ToJson() const {
    json::object o;
    if (!display_name.empty()) {
        o["display_name"] = display_name;
    }
    if (workspace) {
        o["workspace"] = *workspace;
    }
    o["default_version"] = default_version;
    json::array vs;
    for (const auto& v : versions) {
        json::object ov{{"version", v.version}, {"run", v.run}};
        if (!v.metrics_path.empty()) {
            ov["metrics_path"] = v.metrics_path;
        }
        if (v.config_schema) {
            ov["config_schema"] = *v.config_schema;
        }
        if (v.backup_command) {
            json::array cmd;
            for (const auto& a : *v.backup_command) {
                cmd.emplace_back(a);
            }
            ov["backup_command"] = std::move(cmd);
        }
        if (v.health) {
            ov["health"] = *v.health;
        }
        vs.push_back(std::move(ov));
    }
    o["versions"] = std::move(vs);
    return o;
}

core::Result<InstanceSpec> InstanceSpec::Parse(const json::object& spec) {
    return ParseVia<InstanceSpec>(ValidateInstanceSpec, spec);
}

InstanceSpec InstanceSpec::FromStored(const json::object& spec) {
    InstanceSpec i;
    i.product = StrAt(spec, "product");
    i.plan = StrAt(spec, "plan");
    i.version = StrAt(spec, "version");
    i.config = OptionalObject(spec, "config");
    if (spec.contains("domain")) {
        i.domain = StrAt(spec, "domain");
    }
    if (std::string ch = StrAt(spec, "release_channel"); !ch.empty()) {
        i.release_channel = std::move(ch);
    }
    i.deletion_protection = BoolAt(spec, "deletion_protection");
    i.suspended = BoolAt(spec, "suspended");
    if (const json::value* n = spec.if_contains("restart_nonce"); n != nullptr && n->is_int64()) {
        i.restart_nonce = n->as_int64();
    }
    if (const json::object* mw = ObjectAt(spec, "maintenance_window")) {
        i.maintenance_window = MaintenanceWindow{
            .day = StrAt(*mw, "day"),
            .start = StrAt(*mw, "start"),
            .duration_minutes = IntAt(*mw, "duration_minutes")};
    }
    return i;
}

json::object InstanceSpec::ToJson() const {
    json::object o{{"product", product}, {"plan", plan}};
    if (!version.empty()) {
        o["version"] = version;
    }
    if (config) {
        o["config"] = *config;
    }
    if (domain) {
        o["domain"] = *domain;
    }
    o["release_channel"] = release_channel;
    o["deletion_protection"] = deletion_protection;
    o["suspended"] = suspended;
    if (restart_nonce) {
        o["restart_nonce"] = *restart_nonce;
    }
    if (maintenance_window) {
        o["maintenance_window"] = json::object{
            {"day", maintenance_window->day},
            {"start", maintenance_window->start},
            {"duration_minutes", maintenance_window->duration_minutes}};
    }
    return o;
}

core::Result<void> AdmitInstance(store::Store& store, store::Object& candidate) {
    InstanceSpec spec = InstanceSpec::FromStored(candidate.spec);
    auto product_object = store.FindByName("Product", "", spec.product);
    if (!product_object) {
        return Fail(
            FieldError("spec.product", fmt::format("there is no product \"{}\"", spec.product))
        );
    }
    ProductSpec product = ProductSpec::FromStored(product_object->spec);
    if (spec.version.empty()) {
        spec.version = product.default_version;
        candidate.spec["version"] = spec.version;
    }
    if (product.Find(spec.version) == nullptr) {
        return Fail(FieldError(
            "spec.version",
            fmt::format("product {} has no version \"{}\"", product_object->name, spec.version)
        ));
    }
    auto plan_object = store.FindByName("Plan", "", spec.plan);
    if (!plan_object) {
        return Fail(FieldError("spec.plan", fmt::format("there is no plan \"{}\"", spec.plan)));
    }
    PlanSpec plan = PlanSpec::FromStored(plan_object->spec);
    // Quotas: the tenant's other instances (of every plan) plus this one, against the
    // entitlements of the tenant's own plan, and of the instance's plan too: a tenant allowed
    // one instance cannot get a second by asking for it on another plan.
    std::string quota_plan = plan_object->name;
    Entitlements limit = plan.entitlements.value_or(Entitlements{});
    if (auto tenant = store.Get(candidate.tenant); tenant && tenant->kind == "Tenant") {
        std::optional<store::Object> tenant_plan;
        if (std::string name = StrAt(tenant->spec, "plan"); !name.empty()) {
            if (auto found = store.FindByName("Plan", "", name)) {
                tenant_plan = std::move(*found);
            }
        }
        if (tenant_plan) {
            // The stricter of the two, each naming the plan it comes from.
            auto tighter = [](int64_t a, int64_t b) {
                return a == 0 ? b : (b == 0 ? a : std::min(a, b));
            };
            Entitlements theirs =
                PlanSpec::FromStored(tenant_plan->spec).entitlements.value_or(Entitlements{});
            int64_t ti = tighter(limit.max_instances, theirs.max_instances);
            int64_t tm = tighter(limit.max_total_memory_mb, theirs.max_total_memory_mb);
            if (ti != limit.max_instances || tm != limit.max_total_memory_mb) {
                quota_plan = tenant_plan->name;
            }
            limit.max_instances = ti;
            limit.max_total_memory_mb = tm;
        }
    }
    int64_t max_instances = limit.max_instances;
    int64_t max_memory = limit.max_total_memory_mb;
    if (max_instances == 0 && max_memory == 0) {
        return {};
    }
    // Usage: the tenant's live instances by plan, counted by the store (this one excluded when
    // it is a resize of an existing instance).
    int64_t count = 1;
    int64_t memory = plan.memory_mb;
    auto by_plan = store.CountBy("Instance", candidate.tenant, "plan");
    if (!by_plan) {
        return Fail(by_plan.error());
    }
    std::string own_plan;
    if (auto current = store.Get(candidate.id); current && current->deletion_requested_at.empty()) {
        own_plan = InstanceSpec::FromStored(current->spec).plan;
    }
    for (auto [plan_name, n] : *by_plan) {
        if (!own_plan.empty() && plan_name == own_plan) {
            --n;
            own_plan.clear();
        }
        count += n;
        if (n > 0) {
            auto other = store.FindByName("Plan", "", plan_name);
            memory += n * (other ? PlanSpec::FromStored(other->spec).memory_mb : 0);
        }
    }
    if (max_instances > 0 && count > max_instances) {
        core::Error e = core::MakeError(
            ErrorCode::kUnprocessable,
            fmt::format(
                "plan {} allows {} instances per tenant; this would be instance {}",
                quota_plan,
                max_instances,
                count
            )
        );
        e.With("quota", "max_instances").With("limit", std::to_string(max_instances));
        return Fail(std::move(e));
    }
    if (max_memory > 0 && memory > max_memory) {
        core::Error e = core::MakeError(
            ErrorCode::kUnprocessable,
            fmt::format(
                "plan {} allows {} MiB in total per tenant; this would make {} MiB",
                quota_plan,
                max_memory,
                memory
            )
        );
        e.With("quota", "max_total_memory_mb").With("limit", std::to_string(max_memory));
        return Fail(std::move(e));
    }
    return {};
}

}  // namespace hangar::fleet
