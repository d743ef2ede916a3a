#include "hangar/fleet/rollout_controller.hpp"

#include <cmath>

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/store/selector.hpp"

namespace hangar::fleet {

namespace json = boost::json;
using core::Fail;

namespace {

constexpr auto kTick = std::chrono::milliseconds(500);

bool Ready(const json::object& status) {
    const json::value* conds = status.if_contains("conditions");
    if (conds == nullptr || !conds->is_array()) {
        return false;
    }
    for (const auto& c : conds->as_array()) {
        if (c.is_object() && core::StrAt(c.as_object(), "type") == "Ready") {
            return core::StrAt(c.as_object(), "status") == "True";
        }
    }
    return false;
}

void Event(json::object& status, const std::string& now, const std::string& message) {
    json::value& ev = status["events"];
    json::array& events = ev.is_array() ? ev.as_array() : ev.emplace_array();
    events.push_back(json::object{{"time", now}, {"message", message}});
    while (events.size() > 50) {
        events.erase(events.begin());
    }
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
    const json::object& spec = obj->spec;
    json::object status = obj->status;
    std::string phase = core::StrAt(status, "phase");
    if (phase == "Completed" || phase == "Aborted" || phase == "Halted") {
        return reconcile::Outcome{};
    }
    auto now_tp = clock_.Now();
    std::string now = core::FormatRfc3339(now_tp);
    std::string target = core::StrAt(spec, "target_version");
    store::AuditEvent audit{0, now, "controller:rollout", "", "", "", "", "local", ""};

    // The targets are chosen once, at the start, and kept in the status.
    if (!status.contains("targets")) {
        auto sel = store::Selector::Parse(core::StrAt(spec, "selector"));
        std::vector<store::Object> canary, stable;
        auto instances = store_.ListAll("Instance");
        if (!instances) {
            return Fail(instances.error());
        }
        for (auto& o : *instances) {
            const json::object& is = o.spec;
            if (core::StrAt(is, "product") != core::StrAt(spec, "product") ||
                !o.deletion_requested_at.empty() || core::StrAt(is, "version") == target ||
                (!core::StrAt(spec, "from_version").empty() &&
                 core::StrAt(is, "version") != core::StrAt(spec, "from_version")) ||
                (!core::StrAt(spec, "release_channel").empty() &&
                 core::StrAt(is, "release_channel") != core::StrAt(spec, "release_channel")) ||
                (sel && !sel->Matches(o.labels))) {
                continue;
            }
            std::string ch = core::StrAt(is, "release_channel");
            (ch == "internal" || ch == "canary" ? canary : stable).push_back(std::move(o));
        }
        json::array targets;
        auto add = [&](const store::Object& o, int64_t wave) {
            targets.push_back(json::object{
                {"id", o.id},
                {"name", o.name},
                {"tenant", o.tenant},
                {"from", core::StrAt(o.spec, "version")},
                {"wave", wave},
                {"state", "pending"}});
        };
        int64_t wave = 0;
        if (!canary.empty()) {
            for (const auto& o : canary) {
                add(o, wave);
            }
            ++wave;
        }
        size_t placed = 0;
        for (const auto& pct : spec.at("waves").as_array()) {
            auto upto = static_cast<size_t>(std::ceil(
                static_cast<double>(stable.size()) * static_cast<double>(pct.as_int64()) / 100.0
            ));
            if (upto > placed) {
                for (; placed < upto; ++placed) {
                    add(stable[placed], wave);
                }
                ++wave;
            }
        }
        status["targets"] = std::move(targets);
        status["total"] = static_cast<int64_t>(canary.size() + stable.size());
        Event(
            status,
            now,
            fmt::format(
                "{} instances to move to {} ({} canary)",
                canary.size() + stable.size(),
                target,
                canary.size()
            )
        );
    }
    // A local array: inserting keys into `status` below may move its storage, so no reference
    // into it is held across those inserts.
    json::array targets = std::move(status["targets"].as_array());

    if (core::BoolAt(spec, "aborted")) {
        status["phase"] = "Aborted";
        Event(status, now, "aborted; instances already moved keep their new version");
    } else if (core::BoolAt(spec, "paused")) {
        if (phase != "Paused") {
            Event(status, now, "paused");
        }
        status["phase"] = "Paused";
    } else {
        status["phase"] = "Progressing";
        int64_t gate = core::IntAt(spec, "health_gate_seconds");
        int64_t timeout = core::IntAt(spec, "gate_timeout_seconds");
        int64_t in_flight = 0;
        // 1. Instances in flight: passed their gate, still waiting, or failed it.
        for (auto& tv : targets) {
            json::object& t = tv.as_object();
            if (core::StrAt(t, "state") != "upgrading") {
                continue;
            }
            std::string iid = core::StrAt(t, "id");
            auto inst = store_.Get(iid);
            if (!inst) {
                t["state"] = "gone";
                continue;
            }
            const json::object& ist = inst->status;
            bool healthy = core::StrAt(inst->spec, "version") == target &&
                           core::StrAt(ist, "version") == target &&
                           core::StrAt(ist, "phase") == "Running" && Ready(ist) &&
                           core::IntAt(ist, "observed_generation") == inst->generation;
            auto since = core::ParseRfc3339(core::StrAt(t, "since")).value_or(now_tp);
            if (healthy) {
                if (!t.contains("healthy_since")) {
                    t["healthy_since"] = now;
                }
                auto hs = core::ParseRfc3339(core::StrAt(t, "healthy_since")).value_or(now_tp);
                if (now_tp - hs >= std::chrono::seconds(gate)) {
                    t["state"] = "done";
                    Event(
                        status,
                        now,
                        fmt::format(
                            "{} passed its health gate on {}", core::StrAt(t, "name"), target
                        )
                    );
                    continue;
                }
            } else {
                t.erase("healthy_since");
            }
            bool failed = core::StrAt(ist, "phase") == "Failed" ||
                          now_tp - since > std::chrono::seconds(timeout);
            if (failed) {
                // Roll that instance back and halt: nothing else moves until someone looks.
                std::string from = core::StrAt(t, "from");
                auto back = SetVersion(*inst, from, "instance.rollback", std::nullopt, audit);
                if (!back) {
                    return Fail(back.error());
                }
                t["state"] = "rolled_back";
                std::string why =
                    core::StrAt(ist, "phase") == "Failed"
                        ? fmt::format(
                              "it failed ({})",
                              core::StrAt(ist, "last_exit").empty() ? "not ready"
                                                                    : core::StrAt(ist, "last_exit")
                          )
                        : fmt::format("it was not healthy within {} s", timeout);
                status["phase"] = "Halted";
                status["message"] = fmt::format(
                    "{} failed its health gate on {}: {}; rolled back to {}",
                    core::StrAt(t, "name"),
                    target,
                    why,
                    from
                );
                Event(status, now, core::StrAt(status, "message"));
                break;
            }
            ++in_flight;
        }
        // 2. Start more in the current wave, up to max_unavailable in flight.
        if (core::StrAt(status, "phase") == "Progressing") {
            int64_t wave = -1;
            for (const auto& tv : targets) {
                const json::object& t = tv.as_object();
                std::string st = core::StrAt(t, "state");
                if (st == "pending" || st == "upgrading") {
                    wave =
                        wave < 0 ? core::IntAt(t, "wave") : std::min(wave, core::IntAt(t, "wave"));
                }
            }
            if (wave < 0) {
                status["phase"] = "Completed";
                Event(status, now, fmt::format("completed: every instance runs {}", target));
            } else {
                if (core::IntAt(status, "current_wave") != wave ||
                    !status.contains("current_wave")) {
                    Event(status, now, fmt::format("wave {} started", wave));
                }
                status["current_wave"] = wave;
                for (auto& tv : targets) {
                    json::object& t = tv.as_object();
                    if (in_flight >= core::IntAt(spec, "max_unavailable")) {
                        break;
                    }
                    if (core::IntAt(t, "wave") != wave || core::StrAt(t, "state") != "pending") {
                        continue;
                    }
                    std::string iid = core::StrAt(t, "id");
                    auto inst = store_.Get(iid);
                    if (!inst) {
                        t["state"] = "gone";
                        continue;
                    }
                    if (core::StrAt(inst->spec, "version") !=
                        target) {  // after a crash it may be there already
                        auto up =
                            SetVersion(*inst, target, "instance.upgrade", inst->revision, audit);
                        if (!up) {
                            return Fail(up.error());
                        }
                    }
                    t["state"] = "upgrading";
                    t["since"] = now;
                    ++in_flight;
                }
            }
        }
    }
    int64_t done = 0;
    for (const auto& tv : targets) {
        done += core::StrAt(tv.as_object(), "state") == "done" ? 1 : 0;
    }
    status["targets"] = std::move(targets);
    status["upgraded"] = done;
    status["observed_generation"] = obj->generation;
    auto w = store_.Update(
        id,
        obj->revision,
        now,
        [&](store::Object& o) -> core::Result<void> {
            o.status = status;
            return {};
        },
        store::SystemAudit(now, "controller:rollout", "", id)
    );
    if (!w && w.error().code != core::ErrorCode::kConflict) {
        return Fail(w.error());
    }
    std::string p = core::StrAt(status, "phase");
    if (p == "Progressing" || !w) {
        return reconcile::Outcome{kTick};
    }
    return reconcile::Outcome{};
}

}  // namespace hangar::fleet
