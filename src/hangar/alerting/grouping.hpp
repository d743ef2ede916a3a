#pragma once
// The dispatcher's decisions as pure functions of alerts, configuration and time (no store, no
// threads): what mutes an alert (maintenance, silence, inhibition), which group a routed alert
// joins, and when a group notifies. Dispatcher::Tick gathers the state and applies them.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "hangar/core/clock.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::alerting {

struct Silence {
    std::string id, name, comment;
    std::vector<metrics::Matcher> matchers;
    core::TimePoint start, end;
};

struct Inhibit {
    std::vector<metrics::Matcher> source, target;
    std::vector<std::string> equal;
};

struct Maintenance {
    std::string name, reason;
    std::vector<metrics::Matcher> matchers;  // empty: the whole tenant
    core::TimePoint start, end;
};

// The firing alerts that match each rule's source, by the values of its `equal` labels.
class Inhibition {
public:
    // A firing alert: counted as a source of every rule whose source it matches.
    void AddFiring(const std::vector<const Inhibit*>& rules, const metrics::Labels& labels);
    // Does some firing source of `rule` (another alert, when this one is a source too) share
    // the `equal` labels of `labels`, which match the rule's target?
    bool Inhibits(const Inhibit& rule, const metrics::Labels& labels, bool firing) const;

private:
    std::map<const Inhibit*, std::map<std::string, int>> sources_;
};

// Why an alert routed for a tenant is muted, or "" when it is not: its own tenant's maintenance
// windows first, then the routing tenant's silences, then inhibition.
std::string MuteReason(
    const metrics::Labels& labels,
    const std::vector<Maintenance>& maintenance,
    const std::vector<Silence>& silences,
    bool inhibited
);

// The group a routed alert joins: the routing tenant, the route, and the values of its
// group_by labels (every label with "...").
std::string GroupKey(
    const std::string& tenant,
    const std::string& route_path,
    const std::vector<std::string>& group_by,
    bool group_all,
    const metrics::Labels& labels
);

// When a group notifies (Alertmanager's timings): first `wait` after it formed, once something
// fires; then at most every `interval` when what fires changed; and every `repeat` while the
// same alerts keep firing.
struct GroupClock {
    std::chrono::seconds wait{}, interval{}, repeat{};
    core::TimePoint created{}, last_flush{}, last_notify{};
    bool flushed = false;
    std::string last_firing;  // what fired at the last notification
};
struct FlushDecision {
    bool due = false;
    bool repeat = false;  // a reminder: nothing changed
};
FlushDecision DecideFlush(const GroupClock& g, const std::string& firing, core::TimePoint now);

}  // namespace hangar::alerting
