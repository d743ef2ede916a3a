#include "hangar/fleet/rollout_controller.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/fleet/instance_state.hpp"
#include "hangar/fleet/rollout.hpp"

namespace hangar::fleet {

namespace json = boost::json;
using core::Fail;

namespace {

constexpr auto kTick = std::chrono::milliseconds(500);

// What the health gate needs to know of an instance.
InstanceHealth HealthOf(const store::Object& inst, const std::string& target) {
    const json::object& st = inst.status;
    InstanceHealth h;
    h.on_target = core::StrAt(inst.spec, "version") == target &&
                  core::StrAt(st, "version") == target &&
                  core::IntAt(st, "observed_generation") == inst.generation;
    h.running_and_ready =
        core::StrAt(st, "phase") == "Running" && ConditionStatus(st, "Ready") == "True";
    h.failed = core::StrAt(st, "phase") == "Failed";
    h.last_exit = core::StrAt(st, "last_exit");
    return h;
}

}  // namespace

// Moves one instance to `version`, audited as the rollout's doing.
core::Result<store::Object> RolloutController::SetVersion(
    const store::Object& inst,
    const std::string& version,
    const std::string& action,
    std::optional<int64_t> expected_revision,
    store::AuditEvent audit
) {
    audit.action = action;
    audit.tenant = inst.tenant;
    audit.object = inst.id;
    return store_.Update(
        inst.id,
        expected_revision,
        audit.time,
        [&](store::Object& o) -> core::Result<void> {
            o.spec["version"] = version;
            return {};
        },
        audit
    );
}

std::vector<std::string> RolloutController::List() {
    return reconcile::ListKind(store_, "Rollout");
}

core::Result<reconcile::Outcome> RolloutController::Reconcile(const std::string& id) {
    auto obj = store_.Get(id);
    if (!obj) {
        return obj.error().code == core::ErrorCode::kNotFound
                   ? core::Result<reconcile::Outcome>(reconcile::Outcome{})
                   : Fail(obj.error());
    }
    auto parsed = RolloutSpec::Parse(obj->spec);
    if (!parsed) {
        return Fail(parsed.error());  // written through the validator: only a corrupted row
    }
    const RolloutSpec& spec = *parsed;
    RolloutStatus status = RolloutStatus::FromJson(obj->status);
    if (IsFinal(status.phase)) {
        return reconcile::Outcome{};
    }
    auto now_tp = clock_.Now();
    std::string now = core::FormatRfc3339(now_tp);
    const std::string& target = spec.target_version;
    store::AuditEvent audit{0, now, "controller:rollout", "", "", "", "", "local", ""};

    // The targets are chosen once, at the start, and kept in the status.
    if (!status.planned) {
        auto instances = store_.ListAll("Instance");
        if (!instances) {
            return Fail(instances.error());
        }
        std::erase_if(*instances, [&](const store::Object& o) { return !Selects(spec, o); });
        status.targets = PlanWaves(spec, *instances);
        status.planned = true;
        status.total = static_cast<int64_t>(status.targets.size());
        auto canary =
            std::count_if(instances->begin(), instances->end(), [](const store::Object& o) {
                std::string ch = core::StrAt(o.spec, "release_channel");
                return ch == "internal" || ch == "canary";
            });
        status.AddEvent(
            now, fmt::format("{} instances to move to {} ({} canary)", status.total, target, canary)
        );
    }

    if (spec.aborted) {
        status.phase = RolloutPhase::kAborted;
        status.AddEvent(now, "aborted; instances already moved keep their new version");
    } else if (spec.paused) {
        if (status.phase != RolloutPhase::kPaused) {
            status.AddEvent(now, "paused");
        }
        status.phase = RolloutPhase::kPaused;
    } else {
        status.phase = RolloutPhase::kProgressing;
        int64_t in_flight = 0;
        // 1. Instances in flight: passed their gate, still waiting, or failed it.
        for (auto& t : status.targets) {
            if (t.state != TargetState::kUpgrading) {
                continue;
            }
            auto inst = store_.Get(t.id);
            if (!inst) {
                t.state = TargetState::kGone;
                continue;
            }
            Gate gate = JudgeGate(spec, t, HealthOf(*inst, target), now_tp);
            if (gate.verdict == GateVerdict::kPassed) {
                t.state = TargetState::kDone;
                status.AddEvent(
                    now, fmt::format("{} passed its health gate on {}", t.name, target)
                );
                continue;
            }
            if (gate.verdict == GateVerdict::kFailed) {
                // Roll that instance back and halt: nothing else moves until someone looks.
                auto back = SetVersion(*inst, t.from, "instance.rollback", std::nullopt, audit);
                if (!back) {
                    return Fail(back.error());
                }
                t.state = TargetState::kRolledBack;
                status.phase = RolloutPhase::kHalted;
                status.message = fmt::format(
                    "{} failed its health gate on {}: {}; rolled back to {}",
                    t.name,
                    target,
                    gate.why,
                    t.from
                );
                status.AddEvent(now, status.message);
                break;
            }
            ++in_flight;
        }
        // 2. Start more in the current wave, up to max_unavailable in flight.
        if (status.phase == RolloutPhase::kProgressing) {
            std::optional<int64_t> wave = CurrentWave(status.targets);
            if (!wave) {
                status.phase = RolloutPhase::kCompleted;
                status.AddEvent(now, fmt::format("completed: every instance runs {}", target));
            } else {
                if (status.current_wave != wave) {
                    status.AddEvent(now, fmt::format("wave {} started", *wave));
                }
                status.current_wave = wave;
                for (auto& t : status.targets) {
                    if (in_flight >= spec.max_unavailable) {
                        break;
                    }
                    if (t.wave != *wave || t.state != TargetState::kPending) {
                        continue;
                    }
                    auto inst = store_.Get(t.id);
                    if (!inst) {
                        t.state = TargetState::kGone;
                        continue;
                    }
                    // After a crash it may be there already.
                    if (core::StrAt(inst->spec, "version") != target) {
                        auto up =
                            SetVersion(*inst, target, "instance.upgrade", inst->revision, audit);
                        if (!up) {
                            return Fail(up.error());
                        }
                    }
                    t.state = TargetState::kUpgrading;
                    t.since = now;
                    ++in_flight;
                }
            }
        }
    }
    status.upgraded = static_cast<int64_t>(std::count_if(
        status.targets.begin(),
        status.targets.end(),
        [](const RolloutTarget& t) { return t.state == TargetState::kDone; }
    ));
    status.observed_generation = obj->generation;
    json::object written = status.ToJson();
    auto w = store_.Update(
        id,
        obj->revision,
        now,
        [&](store::Object& o) -> core::Result<void> {
            o.status = written;
            return {};
        },
        store::SystemAudit(now, "controller:rollout", "", id)
    );
    if (!w && w.error().code != core::ErrorCode::kConflict) {
        return Fail(w.error());
    }
    if (status.phase == RolloutPhase::kProgressing || !w) {
        return reconcile::Outcome{kTick};
    }
    return reconcile::Outcome{};
}

}  // namespace hangar::fleet
