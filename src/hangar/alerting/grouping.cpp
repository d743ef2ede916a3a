#include "hangar/alerting/grouping.hpp"

#include <fmt/format.h>

#include "hangar/alerting/alert.hpp"

namespace hangar::alerting {

namespace {

std::string EqualTuple(const metrics::Labels& l, const std::vector<std::string>& equal) {
    std::string t;
    for (const auto& name : equal) {
        t += metrics::Get(l, name);
        t += '\xff';
    }
    return t;
}

}  // namespace

void Inhibition::AddFiring(
    const std::vector<const Inhibit*>& rules,
    const metrics::Labels& labels
) {
    for (const Inhibit* rule : rules) {
        if (Matches(labels, rule->source)) {
            ++sources_[rule][EqualTuple(labels, rule->equal)];
        }
    }
}

bool Inhibition::Inhibits(const Inhibit& rule, const metrics::Labels& labels, bool firing) const {
    if (!Matches(labels, rule.target)) {
        return false;
    }
    auto s = sources_.find(&rule);
    if (s == sources_.end()) {
        return false;
    }
    auto t = s->second.find(EqualTuple(labels, rule.equal));
    // An alert that is itself a source is inhibited only by another one.
    return t != s->second.end() && t->second > (firing && Matches(labels, rule.source) ? 1 : 0);
}

std::string MuteReason(
    const metrics::Labels& labels,
    const std::vector<Maintenance>& maintenance,
    const std::vector<Silence>& silences,
    bool inhibited
) {
    for (const auto& m : maintenance) {
        if (Matches(labels, m.matchers)) {
            return fmt::format("maintenance window {} ({})", m.name, m.reason);
        }
    }
    for (const auto& s : silences) {
        if (Matches(labels, s.matchers)) {
            return fmt::format("silence {} ({})", s.name, s.comment);
        }
    }
    return inhibited ? "inhibited" : "";
}

std::string GroupKey(
    const std::string& tenant,
    const std::string& route_path,
    const std::vector<std::string>& group_by,
    bool group_all,
    const metrics::Labels& labels
) {
    std::string key = tenant + "|" + route_path + "|";
    if (group_all) {
        key += metrics::FormatLabels(labels);
        return key;
    }
    for (const auto& name : group_by) {
        key +=
            fmt::format("{}=\"{}\",", name, metrics::EscapeLabelValue(metrics::Get(labels, name)));
    }
    return key;
}

FlushDecision DecideFlush(const GroupClock& g, const std::string& firing, core::TimePoint now) {
    if (!g.flushed) {
        return {!firing.empty() && now - g.created >= g.wait, false};
    }
    if (firing != g.last_firing) {
        return {now - g.last_flush >= g.interval, false};
    }
    if (!firing.empty() && now - g.last_notify >= g.repeat) {
        return {true, true};
    }
    return {};
}

}  // namespace hangar::alerting
