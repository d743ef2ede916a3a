#pragma once
// Evaluates alert rules on an interval, as Prometheus's rule manager does: each series an
// expression returns is an alert; it is pending until it has been returned for `for`, then
// firing; when it is no longer returned (and `keep_firing_for` has passed) it resolves. Firing
// alerts are handed to the sink on every evaluation, resolved ones once. Active alerts are
// also written to the tenant's metrics as ALERTS{alertname, alertstate, ...} = 1.
//
// Rules are the AlertRule objects of every tenant plus the built-in rules, which run for every
// tenant; an AlertRule with a built-in rule's name replaces it (or, disabled, turns it off).

#include <chrono>
#include <functional>
#include <map>

#include <boost/json/object.hpp>

#include "hangar/alerting/alert.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/metrics/promql_ast.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/store/store.hpp"

namespace hangar::alerting {

struct RuleDef {
    std::string name;          // the AlertRule's metadata.name (the built-in's name)
    boost::json::object spec;  // a validated AlertRule spec
};

// Down, OOM-killed, memory above 90% of the limit for 10 minutes, crash-looping, SLO fast and
// slow burn.
const std::vector<RuleDef>& BuiltinRules();

struct EvaluationStats {
    size_t rules = 0, series = 0, pending = 0, firing = 0, errors = 0;
    double seconds = 0;
};

class RuleEvaluator {
public:
    using Sink = std::function<void(std::vector<Alert>)>;
    RuleEvaluator(
        store::Store& store,
        metrics::Tsdb& db,
        const core::Clock& clock,
        std::chrono::milliseconds interval,
        Sink sink
    );
    // hangar_rule_evaluation_seconds (the last pass), hangar_rule_evaluations_total,
    // hangar_rules and hangar_alerts{state}; call before Start.
    void SetMetrics(core::MetricsRegistry& registry);
    void Start() { loop_.Start(); }
    void Stop() { loop_.Stop(); }
    // One pass over every rule of every tenant (tests and the benchmark call it directly).
    EvaluationStats EvaluateAll();

private:
    struct Active {
        metrics::Labels labels;
        std::map<std::string, std::string> annotations;
        bool firing = false;
        core::TimePoint active_at{}, fired_at{}, last_seen{};
        double value = 0;
    };
    struct RuleState {
        std::map<std::string, Active> active;  // by fingerprint
        std::string status_key;                // what was last written to the rule's status
    };
    void Evaluate(
        const std::string& tenant,
        const std::string& rule_key,
        const RuleDef& rule,
        const store::Object* object,
        core::TimePoint now,
        std::vector<Alert>& out,
        metrics::WriteBatch& alerts_series,
        EvaluationStats& stats
    );
    // A pass on the loop, with its metrics.
    void Pass();
    store::Store& store_;
    metrics::Tsdb& db_;
    const core::Clock& clock_;
    Sink sink_;
    core::GaugeFamily* last_seconds_ = nullptr;
    core::CounterFamily* passes_ = nullptr;
    core::GaugeFamily* rules_ = nullptr;
    core::GaugeFamily* alerts_ = nullptr;
    std::map<std::string, metrics::promql::ExprPtr> parsed_;  // by expression text
    std::map<std::string, RuleState> states_;                 // by tenant + "/" + rule key
    core::Periodic loop_;  // last: stopped before the members it uses go
};

}  // namespace hangar::alerting
