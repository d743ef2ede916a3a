#pragma once
// An alert: one firing instance of a rule (or of an outside source), identified within its
// tenant by the fingerprint of its labels. Matchers use Alertmanager's notation
// (`severity="critical"`, `alertname=~"Instance.*"`), parsed as a PromQL series selector.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::alerting {

struct Alert {
    std::string tenant;
    metrics::Labels labels;  // sorted; always has alertname
    std::map<std::string, std::string> annotations;
    core::TimePoint starts_at{};
    std::optional<core::TimePoint> ends_at;  // set: resolved at that time
    std::string source;                      // "rule", "alertmanager" or "events"
    std::string generator_url;               // the rule's or the sender's link
    double value = 0;
    bool resolved() const { return ends_at.has_value(); }
};

// 16 lowercase hex digits of the label set's hash (also the Alert object's name).
std::string Fingerprint(const metrics::Labels& labels);

// severity → priority: critical → P1, error/high → P2, warning → P3, anything else → P4. A
// `priority` label of P1..P4 wins.
std::string PriorityOf(const metrics::Labels& labels);

// Each string one matcher: name, an operator (=, !=, =~, !~) and a quoted or bare value.
core::Result<std::vector<metrics::Matcher>> ParseMatchers(const std::vector<std::string>& texts);
bool Matches(const metrics::Labels& labels, const std::vector<metrics::Matcher>& matchers);

}  // namespace hangar::alerting
