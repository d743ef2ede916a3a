#include "hangar/metering/entitlements.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/metering/metering.hpp"

namespace hangar::metering {

namespace {

using Seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

bool IsInterval(std::string_view s, bool hour) {
    return s == "DAY" || s == "WEEK" || s == "MONTH" || s == "YEAR" || (hour && s == "HOUR");
}

int64_t ApproxSeconds(std::string_view interval) {
    if (interval == "HOUR") {
        return 3600;
    }
    if (interval == "DAY") {
        return 86400;
    }
    if (interval == "WEEK") {
        return 604800;
    }
    if (interval == "MONTH") {
        return 2629746;
    }
    return 31556952;
}

// RFC 3339 at `key`, taken up to the whole minute (OpenMeter rounds grants' times so).
std::optional<int64_t> ReadTime(core::ObjectReader& r, std::string_view key, bool required) {
    auto s = r.String(key, required);
    if (!s) {
        return std::nullopt;
    }
    auto t = core::ParseRfc3339(*s);
    if (!t) {
        r.SetError(r.PathOf(key), "must be an RFC 3339 time");
        return std::nullopt;
    }
    int64_t secs = core::UnixSeconds(*t);
    return (secs + 59) / 60 * 60;
}

std::string Rfc(int64_t t) {
    return core::FormatRfc3339(core::TimePoint(std::chrono::seconds(t)));
}

// {interval, anchor?}
std::optional<json::object>
ReadPeriod(core::ObjectReader& r, std::string_view key, bool hour, bool required) {
    const json::object* o = r.Object(key, required);
    if (o == nullptr) {
        return std::nullopt;
    }
    core::ObjectReader p(*o, r.PathOf(key));
    std::string interval = p.String("interval", true).value_or("");
    if (p.ok() && !IsInterval(interval, hour)) {
        p.SetError(p.PathOf("interval"), "must be DAY, WEEK, MONTH or YEAR");
    }
    json::object out{{"interval", interval}};
    if (auto a = ReadTime(p, "anchor", false)) {
        out["anchor"] = Rfc(*a);
    }
    r.Absorb(p.Finish());
    return out;
}

double ReadAmount(core::ObjectReader& r, std::string_view key, double def = 0) {
    const json::value* v = r.Any(key);
    if (v == nullptr || v->is_null()) {
        return def;
    }
    if (!v->is_number() || !std::isfinite(v->to_number<double>()) || v->to_number<double>() < 0 ||
        v->to_number<double>() > 1e15) {
        r.SetError(r.PathOf(key), "must be a number from 0");
        return def;
    }
    return v->to_number<double>();
}

json::object ReadGrant(core::ObjectReader& g) {
    json::object out{
        {"amount", ReadAmount(g, "amount")},
        {"priority", core::ReadIntInRange(g, "priority", 1, 255).value_or(1)}};
    if (!g.Any("amount")) {
        g.SetError(g.PathOf("amount"), "is required");
    }
    if (auto t = ReadTime(g, "effective_at", true)) {
        out["effective_at"] = Rfc(*t);
    }
    if (const json::object* e = g.Object("expiration")) {
        core::ObjectReader x(*e, g.PathOf("expiration"));
        std::string d = x.String("duration", true).value_or("");
        if (x.ok() && !IsInterval(d, true)) {
            x.SetError(x.PathOf("duration"), "must be HOUR, DAY, WEEK, MONTH or YEAR");
        }
        out["expiration"] = json::object{
            {"duration", d},
            {"count", core::ReadIntInRange(x, "count", 1, 1000, true).value_or(1)}};
        g.Absorb(x.Finish());
    }
    double min_roll = ReadAmount(g, "min_rollover_amount");
    double max_roll = ReadAmount(g, "max_rollover_amount");
    if (g.ok() && min_roll > max_roll) {
        g.SetError(g.PathOf("max_rollover_amount"), "must not be below min_rollover_amount");
    }
    out["min_rollover_amount"] = min_roll;
    out["max_rollover_amount"] = max_roll;
    if (auto rec = ReadPeriod(g, "recurrence", false, false)) {
        out["recurrence"] = *rec;
    }
    return out;
}

bool IsKey(std::string_view s) {
    if (s.empty() || s.size() > 64 || s.front() == '_' || s.back() == '_') {
        return false;
    }
    return std::ranges::all_of(s, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

struct Grant {
    double amount = 0;
    int64_t priority = 1;
    int64_t effective = 0;
    std::optional<int64_t> expires;
    double min_roll = 0, max_roll = 0;
    std::string recurrence;  // "" none
    int64_t recurrence_anchor = 0;
    bool issued = false;  // issue_after_reset: refilled at each reset, never rolled over
    // state
    bool active = false;
    double balance = 0;
};

// The start of the period (anchor + k intervals) that holds t.
int64_t PeriodStart(int64_t anchor, std::string_view interval, int64_t t) {
    int64_t k = (t - anchor) / ApproxSeconds(interval);
    if (t < anchor) {
        k -= 1;
    }
    for (int i = 0; i < 4 && AddInterval(anchor, interval, k) > t; ++i) {
        --k;
    }
    for (int i = 0; i < 4 && AddInterval(anchor, interval, k + 1) <= t; ++i) {
        ++k;
    }
    return AddInterval(anchor, interval, k);
}

}  // namespace

int64_t AddInterval(int64_t t, std::string_view interval, int64_t count) {
    if (interval == "HOUR") {
        return t + 3600 * count;
    }
    if (interval == "DAY") {
        return t + 86400 * count;
    }
    if (interval == "WEEK") {
        return t + 604800 * count;
    }
    const cctz::time_zone utc = cctz::utc_time_zone();
    cctz::civil_second cs = cctz::convert(Seconds(std::chrono::seconds(t)), utc);
    cctz::civil_month m(cs);
    m += interval == "MONTH" ? count : 12 * count;
    // The same day of the month, or the month's last day.
    int last =
        static_cast<int>(cctz::civil_day(cctz::civil_month(m + 1)) - 1 - cctz::civil_day(m)) + 1;
    int day = std::min(static_cast<int>(cs.day()), last);
    cctz::civil_second out(m.year(), m.month(), day, cs.hour(), cs.minute(), cs.second());
    return cctz::convert(out, utc).time_since_epoch().count();
}

core::Result<json::object> ValidateFeatureSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    std::string key = r.String("key", true).value_or("");
    if (r.ok() && !IsKey(key)) {
        r.SetError("spec.key", "must be 1-64 lowercase letters, digits and underscores inside");
    }
    json::object out{
        {"key", key},
        {"meter_slug", r.String("meter_slug").value_or("")},
        {"display_name", core::ReadBoundedString(r, "display_name", 256).value_or("")}};
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateEntitlementSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    std::string feature = r.String("feature", true).value_or("");
    if (r.ok() && !IsKey(feature)) {
        r.SetError("spec.feature", "must be a feature key");
    }
    std::string subject = r.String("subject").value_or("");
    std::string plan = r.String("plan").value_or("");
    if (r.ok() && subject.empty() == plan.empty()) {
        r.SetError(
            "spec.subject", "give exactly one of subject (a tenant id) or plan (a plan name)"
        );
    }
    std::string type = r.String("type", true).value_or("");
    if (r.ok() && type != "boolean" && type != "static" && type != "metered") {
        r.SetError("spec.type", "must be boolean, static or metered");
    }
    json::object out{{"feature", feature}, {"subject", subject}, {"plan", plan}, {"type", type}};
    if (auto c = r.String("config")) {
        if (type != "static") {
            r.SetError("spec.config", "is for static entitlements");
        } else if (!core::ParseJson(*c)) {
            r.SetError("spec.config", "must be JSON text");
        }
        out["config"] = *c;
    } else if (r.ok() && type == "static") {
        r.SetError("spec.config", "is required for a static entitlement (JSON text)");
    }
    if (type == "metered") {
        if (auto p = ReadPeriod(r, "usage_period", false, true)) {
            out["usage_period"] = *p;
        }
        out["issue_after_reset"] = ReadAmount(r, "issue_after_reset");
        out["is_soft_limit"] = r.Bool("is_soft_limit").value_or(false);
        json::array grants;
        core::ReadObjectArray(r, "grants", 0, 100, [&](core::ObjectReader& g, size_t) {
            grants.push_back(ReadGrant(g));
        });
        out["grants"] = std::move(grants);
    } else {
        for (auto key : {"usage_period", "issue_after_reset", "is_soft_limit", "grants"}) {
            if (r.Any(key) != nullptr) {
                r.SetError(r.PathOf(key), "is for metered entitlements");
            }
        }
    }
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

core::Result<json::object> GrantFromOpenMeter(const json::object& body) {
    // camelCase to the spec's names, then read as a grant of the spec.
    json::object g;
    for (const auto& [k, v] : body) {
        if (k == "effectiveAt") {
            g["effective_at"] = v;
        } else if (k == "minRolloverAmount") {
            g["min_rollover_amount"] = v;
        } else if (k == "maxRolloverAmount") {
            g["max_rollover_amount"] = v;
        } else if (k == "metadata") {
            continue;
        } else {
            g[k] = v;
        }
    }
    core::ObjectReader r(g, "");
    json::object out = ReadGrant(r);
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

json::object
GrantToOpenMeter(const json::object& grant, std::string_view entitlement_id, size_t index) {
    json::object o{
        {"id", fmt::format("{}-grant-{}", entitlement_id, index + 1)},
        {"entitlementId", entitlement_id},
        {"amount", grant.contains("amount") ? grant.at("amount") : json::value(0)},
        {"priority", core::IntAt(grant, "priority")},
        {"effectiveAt", core::StrAt(grant, "effective_at")},
        {"minRolloverAmount",
         grant.contains("min_rollover_amount") ? grant.at("min_rollover_amount") : json::value(0)},
        {"maxRolloverAmount",
         grant.contains("max_rollover_amount") ? grant.at("max_rollover_amount") : json::value(0)}};
    if (const json::object* e = core::ObjectAt(grant, "expiration")) {
        o["expiration"] = *e;
    }
    if (const json::object* rec = core::ObjectAt(grant, "recurrence")) {
        o["recurrence"] = *rec;
    }
    return o;
}

json::object ValueToJson(const EntitlementValue& v) {
    json::object o{{"hasAccess", v.has_access}};
    if (v.metered) {
        o["balance"] = v.balance;
        o["usage"] = v.usage;
        o["overage"] = v.overage;
    }
    if (v.config) {
        o["config"] = *v.config;
    }
    return o;
}

Entitlements::Entitlements(
    Metering& metering,
    std::function<std::string(const std::string&)> plan_of
)
    : metering_(metering), plan_of_(std::move(plan_of)) {}

std::shared_ptr<const std::vector<store::Object>> Entitlements::Index(bool force) {
    uint64_t epoch = epoch_.load(std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(index_mu_);
    if (index_ != nullptr && !force &&
        (index_epoch_ == epoch || now - index_at_ < std::chrono::seconds(1))) {
        return index_;
    }
    auto all = metering_.store().ListAll("Entitlement");
    if (!all) {
        return index_ != nullptr ? index_ : std::make_shared<const std::vector<store::Object>>();
    }
    std::string print;
    for (const auto& o : *all) {
        print += o.id + ":" + std::to_string(o.revision) + ",";
    }
    if (print != index_print_) {
        std::lock_guard c(cache_mu_);
        cache_.clear();  // an entitlement changed: no kept answer stands
    }
    index_print_ = std::move(print);
    index_ = std::make_shared<const std::vector<store::Object>>(std::move(*all));
    index_epoch_ = epoch;
    index_at_ = now;
    return index_;
}

std::optional<store::Object>
Entitlements::Find(const std::string& subject, std::string_view feature, bool fresh) {
    auto all = Index(fresh);
    for (const auto& o : *all) {
        if (core::StrAt(o.spec, "feature") == feature &&
            core::StrAt(o.spec, "subject") == subject) {
            return o;
        }
    }
    std::string plan = plan_of_(subject);
    if (plan.empty()) {
        return std::nullopt;
    }
    for (const auto& o : *all) {
        if (core::StrAt(o.spec, "feature") == feature && core::StrAt(o.spec, "plan") == plan) {
            return o;
        }
    }
    return std::nullopt;
}

core::Result<EntitlementValue>
Entitlements::Value(const std::string& subject, std::string_view feature, int64_t at, bool fresh) {
    auto ent = Find(subject, feature, fresh);
    if (!ent) {
        return core::Fail(core::MakeError(
            core::ErrorCode::kNotFound, fmt::format("no entitlement to {} for {}", feature, subject)
        ));
    }
    const json::object& s = ent->spec;
    EntitlementValue v;
    v.entitlement_id = ent->id;
    v.type = core::StrAt(s, "type");
    if (v.type == "boolean") {
        v.has_access = true;
        return v;
    }
    if (v.type == "static") {
        v.has_access = true;
        v.config = core::StrAt(s, "config");
        return v;
    }
    v.metered = true;
    // The feature's meter: SUM or COUNT.
    auto feat = metering_.store().FindByName("Feature", "", MeterObjectName(feature));
    std::string slug = feat ? core::StrAt(feat->spec, "meter_slug") : "";
    auto meter = slug.empty() ? std::nullopt : metering_.Find(slug);
    if (!meter ||
        (meter->aggregation != Aggregation::kSum && meter->aggregation != Aggregation::kCount)) {
        return core::Fail(core::MakeError(
            core::ErrorCode::kConflict,
            fmt::format("the feature {} has no SUM or COUNT meter to measure it by", feature)
        ));
    }
    const json::object* period = core::ObjectAt(s, "usage_period");
    std::string interval = period != nullptr ? core::StrAt(*period, "interval") : "MONTH";
    auto anchor_t =
        period != nullptr ? core::ParseRfc3339(core::StrAt(*period, "anchor")) : std::nullopt;
    int64_t anchor =
        anchor_t
            ? core::UnixSeconds(*anchor_t)
            : core::UnixSeconds(core::ParseRfc3339(ent->created_at).value_or(core::TimePoint{}));
    anchor = anchor / 60 * 60;
    at = at / 60 * 60;
    std::vector<Grant> grants;
    if (const json::value* issue = s.if_contains("issue_after_reset");
        issue != nullptr && issue->is_number() && issue->to_number<double>() > 0) {
        Grant g;
        g.amount = issue->to_number<double>();
        g.priority = 1;
        g.effective = anchor;
        g.issued = true;
        grants.push_back(g);
    }
    if (const json::value* list = s.if_contains("grants"); list != nullptr && list->is_array()) {
        for (const auto& gv : list->as_array()) {
            if (!gv.is_object()) {
                continue;
            }
            const json::object& go = gv.as_object();
            Grant g;
            g.amount = go.contains("amount") ? go.at("amount").to_number<double>() : 0;
            g.priority = core::IntAt(go, "priority");
            g.effective = core::UnixSeconds(
                core::ParseRfc3339(core::StrAt(go, "effective_at")).value_or(core::TimePoint{})
            );
            if (const json::object* e = core::ObjectAt(go, "expiration")) {
                g.expires =
                    AddInterval(g.effective, core::StrAt(*e, "duration"), core::IntAt(*e, "count"));
            }
            g.min_roll = go.contains("min_rollover_amount")
                             ? go.at("min_rollover_amount").to_number<double>()
                             : 0;
            g.max_roll = go.contains("max_rollover_amount")
                             ? go.at("max_rollover_amount").to_number<double>()
                             : 0;
            if (const json::object* rec = core::ObjectAt(go, "recurrence")) {
                g.recurrence = core::StrAt(*rec, "interval");
                auto a = core::ParseRfc3339(core::StrAt(*rec, "anchor"));
                g.recurrence_anchor = a ? core::UnixSeconds(*a) : g.effective;
            }
            grants.push_back(g);
        }
    }
    // From the earliest moment that matters, at most 400 days back.
    int64_t start = PeriodStart(anchor, interval, at);
    for (const Grant& g : grants) {
        if (!g.issued) {
            start = std::min(start, g.effective);
        }
    }
    start = std::max<int64_t>(start, at - int64_t{400} * 86400);
    start = PeriodStart(anchor, interval, start);
    // The moments something changes, and what.
    std::set<int64_t> resets, points{start, at};
    for (int64_t p = start; p <= at && resets.size() < 20000; p = AddInterval(p, interval, 1)) {
        resets.insert(p);
        points.insert(p);
    }
    std::vector<std::set<int64_t>> recurs(grants.size());
    for (size_t i = 0; i < grants.size(); ++i) {
        const Grant& g = grants[i];
        if (g.effective > start && g.effective < at) {
            points.insert(g.effective);
        }
        if (g.expires && *g.expires > start && *g.expires < at) {
            points.insert(*g.expires);
        }
        if (!g.recurrence.empty()) {
            int64_t r =
                PeriodStart(g.recurrence_anchor, g.recurrence, std::max(start, g.effective));
            for (; r < at && recurs[i].size() < 20000; r = AddInterval(r, g.recurrence, 1)) {
                if (r > g.effective) {
                    recurs[i].insert(r);
                    points.insert(r);
                }
            }
        }
    }
    if (points.size() > 40000) {
        return core::Fail(core::MakeError(
            core::ErrorCode::kConflict,
            "this entitlement changes too often to evaluate (shorten its history)"
        ));
    }
    double period_usage = 0, period_overage = 0;
    // What changes at `a`: grants taking effect or expiring, resets and recurrences.
    auto advance = [&](int64_t a) {
        bool reset = resets.contains(a);
        for (size_t i = 0; i < grants.size(); ++i) {
            Grant& g = grants[i];
            bool live = g.effective <= a && (!g.expires || *g.expires > a);
            if (!live) {
                g.active = false;
                g.balance = 0;
                continue;
            }
            if (!g.active) {
                g.active = true;
                g.balance = g.amount;
            } else if (g.issued && reset) {
                g.balance = g.amount;
            } else {
                if (reset) {
                    g.balance = std::min(g.max_roll, std::max(g.balance, g.min_roll));
                }
                if (recurs[i].contains(a)) {
                    g.balance = g.amount;
                }
            }
        }
        if (reset) {
            period_usage = 0;
            period_overage = 0;
        }
    };
    std::vector<int64_t> bounds(points.begin(), points.end());
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
        int64_t a = bounds[i], b = bounds[i + 1];
        advance(a);
        double u = metering_.Total(*meter, subject, a, b);
        period_usage += u;
        // Burn down: lower priority first, then the grant expiring sooner.
        std::vector<Grant*> order;
        for (Grant& g : grants) {
            if (g.active && g.balance > 0) {
                order.push_back(&g);
            }
        }
        std::ranges::stable_sort(order, [](const Grant* x, const Grant* y) {
            if (x->priority != y->priority) {
                return x->priority < y->priority;
            }
            return x->expires.value_or(INT64_MAX) < y->expires.value_or(INT64_MAX);
        });
        for (Grant* g : order) {
            double take = std::min(g->balance, u);
            g->balance -= take;
            u -= take;
        }
        period_overage += u;
    }
    advance(at);
    for (const Grant& g : grants) {
        if (g.active) {
            v.balance += g.balance;
        }
    }
    v.usage = period_usage;
    v.overage = period_overage;
    v.has_access = v.balance > 0 || core::BoolAt(s, "is_soft_limit");
    return v;
}

core::GateAnswer
Entitlements::Check(std::string_view tenant, std::string_view feature, bool may_block) {
    std::string key = std::string(tenant) + "\x1f" + std::string(feature);
    auto now = std::chrono::steady_clock::now();
    if (may_block) {
        (void)Index();  // read again after a change (clears the kept answers if it changed)
    }
    {
        std::lock_guard lock(cache_mu_);
        if (auto it = cache_.find(key);
            it != cache_.end() && now - it->second.at < std::chrono::seconds(5)) {
            return it->second.answer;
        }
    }
    if (!may_block) {
        return core::GateAnswer{core::GateAnswer::kWouldBlock, ""};
    }
    core::GateAnswer answer;
    auto v = Value(std::string(tenant), feature, core::UnixSeconds(metering_.clock().Now()), false);
    if (v && !v->has_access) {
        answer = core::GateAnswer{
            core::GateAnswer::kDenied,
            fmt::format(
                "the tenant's entitlement to {} is used up (usage {}, overage {})",
                feature,
                v->usage,
                v->overage
            )};
    }
    std::lock_guard lock(cache_mu_);
    if (cache_.size() > 100000) {
        cache_.clear();
    }
    cache_[key] = Cached{answer, now};
    return answer;
}

}  // namespace hangar::metering
