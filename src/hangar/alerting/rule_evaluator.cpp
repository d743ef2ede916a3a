#include "hangar/alerting/rule_evaluator.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/alerting/template.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/metrics/promql_engine.hpp"

namespace hangar::alerting {

namespace json = boost::json;

namespace {

std::chrono::seconds DurationAt(const json::object& spec, std::string_view key) {
    return core::ParseDuration(core::StrAt(spec, key)).value_or(std::chrono::seconds(0));
}

}  // namespace

RuleEvaluator::RuleEvaluator(
    store::Store& store,
    metrics::Tsdb& db,
    const core::Clock& clock,
    std::chrono::milliseconds interval,
    Sink sink
)
    : store_(store),
      db_(db),
      clock_(clock),
      sink_(std::move(sink)),
      // Passes start every interval (as Prometheus's groups do), not an interval after the last
      // one ended; a pass longer than the interval delays the next, which then starts at once.
      loop_(
          interval,
          [this] { Pass(); },
          core::Periodic::Cadence::kFixedRate
      ) {}

void RuleEvaluator::SetMetrics(core::MetricsRegistry& registry) {
    last_seconds_ = &registry.Gauge(
        "hangar_rule_evaluation_seconds", "How long the last pass over every alert rule took.", {}
    );
    passes_ =
        &registry.Counter("hangar_rule_evaluations_total", "Passes over every alert rule.", {});
    rules_ = &registry.Gauge(
        "hangar_rules",
        "Alert rules evaluated in the last pass (built-in ones once per tenant).",
        {}
    );
    alerts_ = &registry.Gauge("hangar_alerts", "Alerts the rules hold, by state.", {"state"});
}

void RuleEvaluator::Pass() {
    auto stats = EvaluateAll();
    if (passes_ != nullptr) {
        last_seconds_->Set({}, stats.seconds);
        passes_->Inc({});
        rules_->Set({}, static_cast<double>(stats.rules));
        alerts_->Set({"pending"}, static_cast<double>(stats.pending));
        alerts_->Set({"firing"}, static_cast<double>(stats.firing));
    }
}

void RuleEvaluator::Evaluate(
    const std::string& tenant,
    const std::string& rule_key,
    const RuleDef& rule,
    const store::Object* object,
    core::TimePoint now,
    std::vector<Alert>& out,
    metrics::WriteBatch& alerts_series,
    EvaluationStats& stats
) {
    RuleState& state = states_[tenant + "/" + rule_key];
    const json::object& spec = rule.spec;
    std::string expr = core::StrAt(spec, "expr");
    std::string error;
    metrics::promql::QueryResult result;
    auto it = parsed_.find(expr);
    if (it == parsed_.end()) {
        auto e = metrics::promql::Parse(expr);
        if (e) {
            it = parsed_.emplace(expr, std::move(*e)).first;
        } else {
            error = e.error().message;
        }
    }
    int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    if (error.empty()) {
        metrics::promql::Engine engine(db_);
        auto r = engine.Instant(tenant, *it->second, now_ms);
        if (!r) {
            error = r.error().message;
        } else if (r->type != metrics::promql::ValueType::kVector) {
            error = "the expression does not give an instant vector";
        } else {
            result = std::move(*r);
        }
    }
    ++stats.rules;
    std::string alertname = core::StrAt(spec, "alert");
    if (alertname.empty()) {
        alertname = rule.name;
    }
    auto hold = DurationAt(spec, "for");
    auto keep = DurationAt(spec, "keep_firing_for");
    std::set<std::string> seen;
    if (!error.empty()) {
        ++stats.errors;
        // As Prometheus: a failed evaluation keeps the alerts as they are.
        for (auto& [fp, a] : state.active) {
            seen.insert(fp);
        }
    }
    const json::object& rule_labels = spec.at("labels").as_object();
    const json::object& annotations = spec.at("annotations").as_object();
    std::string runbook = core::StrAt(spec, "runbook_url");
    for (auto& s : result.series) {
        ++stats.series;
        metrics::Labels labels;
        for (auto& l : s.labels) {
            if (l.name != metrics::kMetricName) {
                labels.push_back(std::move(l));
            }
        }
        for (const auto& [k, v] : rule_labels) {
            auto pos = std::find_if(labels.begin(), labels.end(), [&](const metrics::Label& l) {
                return l.name == k;
            });
            if (pos != labels.end()) {
                pos->value = v.as_string();
            } else {
                labels.push_back({std::string(k), std::string(v.as_string())});
            }
        }
        auto pos = std::find_if(labels.begin(), labels.end(), [](const metrics::Label& l) {
            return l.name == "alertname";
        });
        if (pos != labels.end()) {
            pos->value = alertname;
        } else {
            labels.push_back({"alertname", alertname});
        }
        (void)metrics::NormalizeLabelSet(labels);
        std::string fp = Fingerprint(labels);
        if (!seen.insert(fp).second) {
            continue;  // two series gave one label set (Prometheus calls this an error; the first
                       // wins)
        }
        double value = s.samples.empty() ? 0 : s.samples.back().v;
        Active& a = state.active[fp];
        if (a.labels.empty()) {
            a.labels = labels;
            a.active_at = now;
        }
        a.value = value;
        a.last_seen = now;
        a.annotations.clear();
        for (const auto& [k, v] : annotations) {
            auto text = ExpandTemplate(v.as_string(), labels, value);
            a.annotations[k] = text ? *text : "template error: " + text.error().message;
        }
        if (!runbook.empty()) {
            a.annotations["runbook_url"] = runbook;
        }
        if (!a.firing && now - a.active_at >= hold) {
            a.firing = true;
            a.fired_at = now;
        }
    }
    size_t pending = 0, firing = 0;
    for (auto i = state.active.begin(); i != state.active.end();) {
        Active& a = i->second;
        bool present = seen.contains(i->first);
        if (!present && a.firing && keep.count() > 0 && now - a.last_seen < keep) {
            present = true;  // keep_firing_for: hold a firing alert a while after it clears
        }
        if (!present) {
            if (a.firing) {
                Alert r{tenant, a.labels, a.annotations, a.fired_at, now, "rule", "", a.value};
                r.generator_url =
                    object != nullptr ? "/v1/alertrules/" + object->id : "builtin:" + rule.name;
                out.push_back(std::move(r));
            }
            i = state.active.erase(i);
            continue;
        }
        a.firing ? ++firing : ++pending;
        if (a.firing) {
            Alert f{tenant, a.labels, a.annotations, a.fired_at, std::nullopt, "rule", "", a.value};
            f.generator_url =
                object != nullptr ? "/v1/alertrules/" + object->id : "builtin:" + rule.name;
            out.push_back(std::move(f));
        }
        std::vector<metrics::LabelView> views = {
            {metrics::kMetricName, "ALERTS"}, {"alertstate", a.firing ? "firing" : "pending"}};
        for (const auto& l : a.labels) {
            if (l.name != "alertstate") {
                views.push_back({l.name, l.value});
            }
        }
        if (metrics::NormalizeLabels(views)) {
            metrics::Sample one{now_ms, 1};
            alerts_series.Add(views, std::span(&one, 1));
        }
        ++i;
    }
    stats.pending += pending;
    stats.firing += firing;
    if (object != nullptr) {
        json::object status{
            {"health", error.empty() ? "ok" : "error"},
            {"pending", static_cast<int64_t>(pending)},
            {"firing", static_cast<int64_t>(firing)}};
        if (!error.empty()) {
            status["last_error"] = error;
        }
        std::string key = json::serialize(status);
        if (key != state.status_key) {
            std::string now_text = core::FormatRfc3339(now);
            status["changed_at"] = now_text;
            store::AuditEvent system =
                store::SystemAudit(now_text, "controller:rules", tenant, object->id);
            auto u = store_.Update(
                object->id,
                std::nullopt,
                now_text,
                [&](store::Object& o) -> core::Result<void> {
                    o.status = status;
                    return {};
                },
                system
            );
            if (u) {
                state.status_key = key;
            }
        }
    }
}

EvaluationStats RuleEvaluator::EvaluateAll() {
    auto started = std::chrono::steady_clock::now();
    EvaluationStats stats;
    auto now = clock_.Now();
    std::map<std::string, std::vector<store::Object>> by_tenant;
    for (auto& t : store_.ListAll("Tenant").value_or(std::vector<store::Object>{})) {
        by_tenant[t.id];
    }
    for (auto& r : store_.ListAll("AlertRule").value_or(std::vector<store::Object>{})) {
        by_tenant[r.tenant].push_back(std::move(r));
    }
    std::vector<Alert> out;
    std::set<std::string> live;
    for (auto& [tenant, rules] : by_tenant) {
        metrics::WriteBatch series;
        std::set<std::string> overridden;
        for (const auto& r : rules) {
            overridden.insert(r.name);
        }
        // The built-in rules read instance series: a tenant with none (most, on a big cloud)
        // cannot match them, and skipping it keeps a pass proportional to the fleet.
        bool has_series = db_.HasTenant(tenant);
        for (const auto& b : BuiltinRules()) {
            if (has_series && !overridden.contains(b.name)) {
                std::string key = "builtin:" + b.name;
                live.insert(tenant + "/" + key);
                Evaluate(tenant, key, b, nullptr, now, out, series, stats);
            }
        }
        for (const auto& r : rules) {
            if (core::BoolAt(r.spec, "disabled")) {
                continue;
            }
            live.insert(tenant + "/" + r.id);
            Evaluate(tenant, r.id, RuleDef{r.name, r.spec}, &r, now, out, series, stats);
        }
        if (!series.series.empty()) {
            if (auto a = db_.Append(tenant, series); !a) {
                core::LogWarn(
                    "storing ALERTS series failed",
                    {{"tenant", std::string_view(tenant)}, {"error", a.error().message}}
                );
            }
        }
    }
    // Rules deleted or disabled: their firing alerts resolve.
    for (auto it = states_.begin(); it != states_.end();) {
        if (live.contains(it->first)) {
            ++it;
            continue;
        }
        std::string tenant = it->first.substr(0, it->first.find('/'));
        for (auto& [fp, a] : it->second.active) {
            if (a.firing) {
                out.push_back(Alert{
                    tenant, a.labels, a.annotations, a.fired_at, now, "rule", "", a.value});
            }
        }
        it = states_.erase(it);
    }
    if (parsed_.size() > 10000) {
        parsed_.clear();  // edited rules leave old expressions behind
    }
    stats.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (sink_ && !out.empty()) {
        sink_(std::move(out));
    }
    return stats;
}

}  // namespace hangar::alerting
