#include "hangar/fleet/rollout.hpp"

#include <cmath>

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/fleet/specs.hpp"
#include "hangar/store/selector.hpp"

namespace hangar::fleet {

namespace json = boost::json;
using core::IntAt;
using core::StrAt;

core::Result<RolloutSpec> RolloutSpec::Parse(const json::object& spec) {
    auto checked = ValidateRolloutSpec(spec);
    if (!checked) {
        return core::Fail(checked.error());
    }
    const json::object& o = *checked;
    RolloutSpec s;
    s.product = StrAt(o, "product");
    s.target_version = StrAt(o, "target_version");
    s.from_version = StrAt(o, "from_version");
    s.release_channel = StrAt(o, "release_channel");
    s.selector = StrAt(o, "selector");
    for (const auto& w : o.at("waves").as_array()) {
        s.waves.push_back(w.as_int64());
    }
    s.max_unavailable = IntAt(o, "max_unavailable");
    s.health_gate_seconds = IntAt(o, "health_gate_seconds");
    s.gate_timeout_seconds = IntAt(o, "gate_timeout_seconds");
    s.paused = core::BoolAt(o, "paused");
    s.aborted = core::BoolAt(o, "aborted");
    return s;
}

json::object RolloutSpec::ToJson() const {
    json::object o{{"product", product}, {"target_version", target_version}};
    for (auto [key, v] :
         {std::pair{"from_version", &from_version},
          std::pair{"release_channel", &release_channel},
          std::pair{"selector", &selector}}) {
        if (!v->empty()) {
            o[key] = *v;
        }
    }
    json::array w;
    for (int64_t p : waves) {
        w.emplace_back(p);
    }
    o["waves"] = std::move(w);
    o["max_unavailable"] = max_unavailable;
    o["health_gate_seconds"] = health_gate_seconds;
    o["gate_timeout_seconds"] = gate_timeout_seconds;
    o["paused"] = paused;
    o["aborted"] = aborted;
    return o;
}

namespace {

constexpr std::pair<RolloutPhase, std::string_view> kPhases[] = {
    {RolloutPhase::kPending, "Pending"},
    {RolloutPhase::kProgressing, "Progressing"},
    {RolloutPhase::kPaused, "Paused"},
    {RolloutPhase::kHalted, "Halted"},
    {RolloutPhase::kCompleted, "Completed"},
    {RolloutPhase::kAborted, "Aborted"},
};

constexpr std::pair<TargetState, std::string_view> kStates[] = {
    {TargetState::kPending, "pending"},
    {TargetState::kUpgrading, "upgrading"},
    {TargetState::kDone, "done"},
    {TargetState::kRolledBack, "rolled_back"},
    {TargetState::kGone, "gone"},
};

std::string_view StateName(TargetState s) {
    for (auto [state, name] : kStates) {
        if (state == s) {
            return name;
        }
    }
    return "pending";
}

TargetState ParseState(std::string_view s) {
    for (auto [state, name] : kStates) {
        if (name == s) {
            return state;
        }
    }
    return TargetState::kPending;
}

}  // namespace

std::string_view PhaseName(RolloutPhase p) {
    for (auto [phase, name] : kPhases) {
        if (phase == p) {
            return name;
        }
    }
    return "Pending";
}

RolloutPhase ParseRolloutPhase(std::string_view s) {
    for (auto [phase, name] : kPhases) {
        if (name == s) {
            return phase;
        }
    }
    return RolloutPhase::kPending;
}

bool IsFinal(RolloutPhase p) {
    return p == RolloutPhase::kHalted || p == RolloutPhase::kCompleted ||
           p == RolloutPhase::kAborted;
}

RolloutStatus RolloutStatus::FromJson(const json::object& status) {
    RolloutStatus s;
    s.phase = ParseRolloutPhase(StrAt(status, "phase"));
    if (const json::value* t = status.if_contains("targets"); t != nullptr && t->is_array()) {
        s.planned = true;
        for (const auto& v : t->as_array()) {
            if (!v.is_object()) {
                continue;
            }
            const json::object& o = v.as_object();
            s.targets.push_back(RolloutTarget{
                StrAt(o, "id"),
                StrAt(o, "name"),
                StrAt(o, "tenant"),
                StrAt(o, "from"),
                IntAt(o, "wave"),
                ParseState(StrAt(o, "state")),
                StrAt(o, "since"),
                StrAt(o, "healthy_since")});
        }
    }
    s.total = IntAt(status, "total");
    s.upgraded = IntAt(status, "upgraded");
    if (const json::value* w = status.if_contains("current_wave"); w != nullptr && w->is_int64()) {
        s.current_wave = w->as_int64();
    }
    s.message = StrAt(status, "message");
    if (const json::value* e = status.if_contains("events"); e != nullptr && e->is_array()) {
        for (const auto& v : e->as_array()) {
            if (v.is_object()) {
                s.events.push_back({StrAt(v.as_object(), "time"), StrAt(v.as_object(), "message")});
            }
        }
    }
    s.observed_generation = IntAt(status, "observed_generation");
    return s;
}

json::object RolloutStatus::ToJson() const {
    json::object o;
    if (phase != RolloutPhase::kPending) {
        o["phase"] = PhaseName(phase);
    }
    if (planned) {
        json::array targets_json;
        for (const auto& t : targets) {
            json::object j{
                {"id", t.id},
                {"name", t.name},
                {"tenant", t.tenant},
                {"from", t.from},
                {"wave", t.wave},
                {"state", StateName(t.state)}};
            if (!t.since.empty()) {
                j["since"] = t.since;
            }
            if (!t.healthy_since.empty()) {
                j["healthy_since"] = t.healthy_since;
            }
            targets_json.push_back(std::move(j));
        }
        o["targets"] = std::move(targets_json);
    }
    o["total"] = total;
    o["upgraded"] = upgraded;
    if (current_wave) {
        o["current_wave"] = *current_wave;
    }
    if (!message.empty()) {
        o["message"] = message;
    }
    json::array ev;
    for (const auto& e : events) {
        ev.push_back(json::object{{"time", e.time}, {"message", e.message}});
    }
    o["events"] = std::move(ev);
    o["observed_generation"] = observed_generation;
    return o;
}

void RolloutStatus::AddEvent(std::string time, std::string msg) {
    events.push_back({std::move(time), std::move(msg)});
    while (events.size() > 50) {
        events.erase(events.begin());
    }
}

bool Selects(const RolloutSpec& spec, const store::Object& instance) {
    const json::object& is = instance.spec;
    std::string version = StrAt(is, "version");
    if (StrAt(is, "product") != spec.product || !instance.deletion_requested_at.empty() ||
        version == spec.target_version) {
        return false;
    }
    if (!spec.from_version.empty() && version != spec.from_version) {
        return false;
    }
    if (!spec.release_channel.empty() && StrAt(is, "release_channel") != spec.release_channel) {
        return false;
    }
    if (spec.selector.empty()) {
        return true;
    }
    auto sel = store::Selector::Parse(spec.selector);
    return sel && sel->Matches(instance.labels);
}

std::vector<RolloutTarget>
PlanWaves(const RolloutSpec& spec, const std::vector<store::Object>& instances) {
    std::vector<const store::Object*> canary, stable;
    for (const auto& o : instances) {
        std::string ch = StrAt(o.spec, "release_channel");
        (ch == "internal" || ch == "canary" ? canary : stable).push_back(&o);
    }
    std::vector<RolloutTarget> out;
    auto add = [&](const store::Object& o, int64_t wave) {
        out.push_back(RolloutTarget{
            o.id, o.name, o.tenant, StrAt(o.spec, "version"), wave, TargetState::kPending, "", ""});
    };
    int64_t wave = 0;
    if (!canary.empty()) {
        for (const auto* o : canary) {
            add(*o, wave);
        }
        ++wave;
    }
    size_t placed = 0;
    for (int64_t pct : spec.waves) {
        auto upto = static_cast<size_t>(
            std::ceil(static_cast<double>(stable.size()) * static_cast<double>(pct) / 100.0)
        );
        if (upto > placed) {
            for (; placed < upto; ++placed) {
                add(*stable[placed], wave);
            }
            ++wave;
        }
    }
    return out;
}

Gate JudgeGate(
    const RolloutSpec& spec,
    RolloutTarget& target,
    const InstanceHealth& health,
    core::TimePoint now
) {
    bool healthy = health.on_target && health.running_and_ready;
    if (healthy) {
        if (target.healthy_since.empty()) {
            target.healthy_since = core::FormatRfc3339(now);
        }
        auto since = core::ParseRfc3339(target.healthy_since).value_or(now);
        if (now - since >= std::chrono::seconds(spec.health_gate_seconds)) {
            return {GateVerdict::kPassed, ""};
        }
    } else {
        target.healthy_since.clear();
    }
    if (health.failed) {
        return {
            GateVerdict::kFailed,
            fmt::format(
                "it failed ({})", health.last_exit.empty() ? "not ready" : health.last_exit
            )};
    }
    auto started = core::ParseRfc3339(target.since).value_or(now);
    if (now - started > std::chrono::seconds(spec.gate_timeout_seconds)) {
        return {
            GateVerdict::kFailed,
            fmt::format("it was not healthy within {} s", spec.gate_timeout_seconds)};
    }
    return {GateVerdict::kWaiting, ""};
}

std::optional<int64_t> CurrentWave(const std::vector<RolloutTarget>& targets) {
    std::optional<int64_t> wave;
    for (const auto& t : targets) {
        if (t.state == TargetState::kPending || t.state == TargetState::kUpgrading) {
            wave = wave ? std::min(*wave, t.wave) : t.wave;
        }
    }
    return wave;
}

}  // namespace hangar::fleet
