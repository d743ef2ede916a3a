// The rules every tenant gets. Each is an ordinary AlertRule spec; a tenant's AlertRule of the
// same name replaces it.

#include <boost/json.hpp>

#include "hangar/alerting/rule_evaluator.hpp"
#include "hangar/alerting/specs.hpp"

namespace hangar::alerting {

namespace json = boost::json;

namespace {

RuleDef Rule(
    const char* name,
    const char* alert,
    const char* expr,
    const char* for_,
    const char* severity,
    const char* summary,
    const char* description
) {
    json::object spec{
        {"alert", alert},
        {"expr", expr},
        {"for", for_},
        {"labels", json::object{{"severity", severity}}},
        {"annotations", json::object{{"summary", summary}, {"description", description}}},
        {"runbook_url", std::string("https://hangar.invalid/runbooks/") + name}};
    return RuleDef{name, *ValidateAlertRuleSpec(spec)};
}

}  // namespace

const std::vector<RuleDef>& BuiltinRules() {
    static const std::vector<RuleDef> rules = {
        Rule(
            "instance-down",
            "InstanceDown",
            R"(up{job="hangar-probe"} == 0)",
            "1m",
            "critical",
            "{{ $labels.instance_name }} is down",
            "The health check of instance {{ $labels.instance_name }} ({{ $labels.instance }}, "
            "product {{ $labels.product }}) has failed for a minute."
        ),
        Rule(
            "instance-oom-killed",
            "InstanceOOMKilled",
            R"(increase(instance_oom_kills_total{job="hangar-probe"}[10m]) > 0)",
            "0s",
            "error",
            "{{ $labels.instance_name }} was killed at its memory limit",
            "Instance {{ $labels.instance_name }} ({{ $labels.instance }}) ran out of memory {{ "
            "$value | humanize }} time(s) in the last 10 minutes."
        ),
        Rule(
            "instance-memory-high",
            "InstanceMemoryNearLimit",
            R"(instance_memory_rss_bytes{job="hangar-probe"} / instance_memory_limit_bytes{job="hangar-probe"} > 0.9)",
            "10m",
            "warning",
            "{{ $labels.instance_name }} uses {{ $value | humanizePercentage }} of its memory "
            "limit",
            "Instance {{ $labels.instance_name }} ({{ $labels.instance }}) has been above 90% of "
            "its memory limit for 10 minutes."
        ),
        Rule(
            "instance-crash-looping",
            "InstanceCrashLooping",
            R"(increase(instance_restarts_total{job="hangar-probe"}[15m]) >= 3)",
            "0s",
            "error",
            "{{ $labels.instance_name }} is crash-looping",
            "Instance {{ $labels.instance_name }} ({{ $labels.instance }}) restarted {{ $value | "
            "humanize }} times in 15 minutes."
        ),
        Rule(
            "slo-fast-burn",
            "SLOFastBurn",
            R"(slo_burn_rate{window="1h"} > 14.4 and on(slo) slo_burn_rate{window="5m"} > 14.4)",
            "0s",
            "critical",
            "SLO {{ $labels.slo }} is burning its error budget fast",
            "SLO {{ $labels.slo }} burns its error budget {{ $value | humanize }}x faster than "
            "sustainable (1h and 5m windows): 2% of a 30-day budget per hour."
        ),
        Rule(
            "slo-slow-burn",
            "SLOSlowBurn",
            R"(slo_burn_rate{window="6h"} > 6 and on(slo) slo_burn_rate{window="30m"} > 6)",
            "0s",
            "warning",
            "SLO {{ $labels.slo }} is burning its error budget",
            "SLO {{ $labels.slo }} burns its error budget {{ $value | humanize }}x faster than "
            "sustainable (6h and 30m windows)."
        ),
    };
    return rules;
}

}  // namespace hangar::alerting
