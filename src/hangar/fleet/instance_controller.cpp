#include "hangar/fleet/instance_controller.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/fleet/instance_state.hpp"
#include "hangar/fleet/specs.hpp"

namespace hangar::fleet {

namespace json = boost::json;
using core::Fail;

namespace {

constexpr size_t kMaxEvents = 20;
constexpr auto kPoll = std::chrono::milliseconds(250);

// Sets a condition, keeping its last_transition_time when its status did not change.
void SetCondition(
    json::object& status,
    const std::string& type,
    bool ok,
    const std::string& reason,
    const std::string& message,
    const std::string& now
) {
    json::array& conds = status["conditions"].is_array() ? status["conditions"].as_array()
                                                         : status["conditions"].emplace_array();
    for (auto& c : conds) {
        json::object& co = c.as_object();
        if (core::StrAt(co, "type") == type) {
            std::string want = ok ? "True" : "False";
            if (core::StrAt(co, "status") != want) {
                co["last_transition_time"] = now;
            }
            co["status"] = want;
            co["reason"] = reason;
            co["message"] = message;
            return;
        }
    }
    conds.push_back(json::object{
        {"type", type},
        {"status", ok ? "True" : "False"},
        {"reason", reason},
        {"message", message},
        {"last_transition_time", now}});
}

void AddEvent(
    json::object& status,
    const std::string& now,
    const std::string& reason,
    const std::string& message
) {
    json::array& events = status["events"].is_array() ? status["events"].as_array()
                                                      : status["events"].emplace_array();
    events.push_back(json::object{{"time", now}, {"reason", reason}, {"message", message}});
    while (events.size() > kMaxEvents) {
        events.erase(events.begin());
    }
}

}  // namespace

void InstanceController::Tally(const std::string& id, const std::string& phase) {
    if (phases_ == nullptr) {
        return;
    }
    std::lock_guard lock(tally_mu_);
    auto it = phase_of_.find(id);
    if (it != phase_of_.end()) {
        if (it->second == phase) {
            return;
        }
        phases_->Add({it->second}, -1);
        if (phase.empty()) {
            phase_of_.erase(it);
            return;
        }
        it->second = phase;
    } else {
        if (phase.empty()) {
            return;
        }
        phase_of_.emplace(id, phase);
    }
    phases_->Add({phase}, 1);
}

// What the spec asks of the provisioner: the product version's recipe, health check and
// (in `backup`) its backup command, and the plan's size.
Desired InstanceController::DesiredFor(const store::Object& obj, std::vector<std::string>* backup) {
    InstanceSpec spec = InstanceSpec::FromStored(obj.spec);
    Desired want;
    want.id = obj.id;
    want.product = spec.product;
    want.version = spec.version;
    want.running = !spec.suspended;
    want.restart_nonce = spec.restart_nonce.value_or(0);
    want.config = spec.config.value_or(json::object());
    if (auto plan = store_.FindByName("Plan", "", spec.plan)) {
        PlanSpec p = PlanSpec::FromStored(plan->spec);
        want.memory_mb = p.memory_mb;
        want.cpu_millis = p.cpu_millis;
    }
    auto product_object = store_.FindByName("Product", "", want.product);
    if (!product_object) {
        return want;
    }
    ProductSpec product = ProductSpec::FromStored(product_object->spec);
    want.workspace = product.workspace;
    if (const ProductVersion* v = product.Find(want.version)) {
        want.health = v->health.value_or(json::object());
        want.metrics_path = v->metrics_path;
        want.run = v->RecipeFor(provisioner_.Name());
        if (backup != nullptr && v->backup_command) {
            *backup = *v->backup_command;
        }
    }
    return want;
}

std::optional<std::chrono::milliseconds> InstanceController::ProbeIfDue(
    const store::Object& obj,
    const Desired& want,
    const Observed& seen,
    json::object& status,
    const std::string& now
) {
    auto setting = [&](const char* key, int64_t fallback) {
        int64_t v = core::IntAt(want.health, key);
        return v > 0 ? v : fallback;
    };
    const std::chrono::milliseconds interval(setting("interval_seconds", 10) * 1000);
    auto steady = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(probe_mu_);
        ProbeState& st = probes_[obj.id];
        if (steady < st.next) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(st.next - steady) +
                   std::chrono::milliseconds(1);
        }
        st.next = steady + interval;
    }
    auto result = provisioner_.Probe(want);
    if (!result) {
        std::lock_guard lock(probe_mu_);
        probes_.erase(obj.id);
        return std::nullopt;  // this provisioner does not probe
    }
    std::optional<bool> before, after;
    {
        std::lock_guard lock(probe_mu_);
        ProbeState& st = probes_[obj.id];
        before = st.health.healthy();
        st.health.Record(
            result->healthy, setting("success_threshold", 1), setting("failure_threshold", 3)
        );
        after = st.health.healthy();
    }
    if (after) {
        SetCondition(
            status,
            "Health",
            *after,
            *after ? "ProbeSucceeded" : "ProbeFailed",
            *after ? "" : result->message,
            now
        );
        if (before != after) {
            AddEvent(
                status,
                now,
                *after ? "Healthy" : "Unhealthy",
                *after ? "health check passing" : result->message
            );
        }
    }
    if (probe_sink_) {
        ProbeReport report;
        report.tenant = obj.tenant;
        report.instance = obj.id;
        report.name = obj.name;
        report.product = want.product;
        report.version = want.version;
        report.time_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
                .count();
        report.restarts = seen.restarts;
        report.oom_kills = seen.oom_kills;
        report.memory_limit_bytes = want.memory_mb * 1024 * 1024;
        report.result = std::move(*result);
        probe_sink_(report);
    }
    return interval;
}

std::vector<std::string> InstanceController::List() {
    return reconcile::ListKind(store_, "Instance");
}

core::Result<reconcile::Outcome> InstanceController::Reconcile(const std::string& id) {
    auto obj = store_.Get(id);
    if (!obj) {
        if (obj.error().code != core::ErrorCode::kNotFound) {
            return Fail(obj.error());
        }
        // Gone from the store: make sure nothing of it is left running (an orphan).
        if (auto d = provisioner_.Destroy(id); !d) {
            return Fail(d.error());
        }
        Tally(id, "");
        {
            std::lock_guard lock(probe_mu_);
            probes_.erase(id);
        }
        return reconcile::Outcome{};
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    store::AuditEvent system = store::SystemAudit(now, "controller:instance", obj->tenant, id);

    if (!obj->deletion_requested_at.empty()) {
        // The product's backup step first, once: its result is recorded before the teardown.
        std::vector<std::string> backup;
        Desired want = DesiredFor(*obj, &backup);
        json::object status = obj->status;
        std::string phase = core::StrAt(status, "phase");
        bool ever_ran = ParseInstancePhase(phase) != InstancePhase::kPending;
        if (!backup.empty() && ever_ran && !status.contains("backup")) {
            auto where = provisioner_.Backup(want, backup);
            // A failure is recorded once: rewriting the status on every retry would come back
            // through the change feed as a change and bypass the back-off (a retry storm that
            // left thousands of backup folders behind).
            bool failed_before = ConditionStatus(status, "BackedUp") == "False";
            if (!where && failed_before) {
                return Fail(where.error());  // retried with back-off
            }
            if (!where) {
                AddEvent(status, now, "BackupFailed", where.error().message);
                SetCondition(status, "BackedUp", false, "BackupFailed", where.error().message, now);
            } else {
                AddEvent(
                    status,
                    now,
                    "BackedUp",
                    where->empty() ? "nothing to back up" : fmt::format("backup in {}", *where)
                );
                SetCondition(status, "BackedUp", true, "BackedUp", *where, now);
                status["backup"] = json::object{{"location", *where}, {"time", now}};
            }
            status["phase"] = PhaseName(InstancePhase::kDeleting);
            auto w = store_.Update(
                id,
                obj->revision,
                now,
                [&](store::Object& o) -> core::Result<void> {
                    o.status = status;
                    return {};
                },
                system
            );
            if (!where) {
                return Fail(where.error()
                );  // retried with back-off; the instance stays until it works
            }
            if (!w) {
                return Fail(w.error());  // read again and go on from what was recorded
            }
            obj = std::move(w);
        }
        auto gone = provisioner_.Destroy(id);
        if (!gone) {
            return Fail(gone.error());
        }
        if (hooks_.release) {
            if (auto r = hooks_.release(*obj); !r) {
                return Fail(r.error());
            }
        }
        // Torn down: the object goes, audited as the controller finishing the deletion.
        system.action = "instance.finalize";
        auto del = store_.Delete(
            id, obj->revision, [](const store::Object&) -> core::Result<void> { return {}; }, system
        );
        if (!del && del.error().code != core::ErrorCode::kNotFound) {
            return Fail(del.error());
        }
        Tally(id, "");
        return reconcile::Outcome{};
    }

    Desired want = DesiredFor(*obj);
    if (hooks_.prepare) {
        if (auto r = hooks_.prepare(*obj, want); !r) {
            return Fail(r.error());
        }
    }

    auto seen = provisioner_.Ensure(want);
    json::object status = obj->status;
    std::string before_phase = core::StrAt(status, "phase");
    PhaseDecision decided = DecidePhase(seen);
    std::string phase(PhaseName(decided.phase));
    std::optional<std::chrono::milliseconds> again;
    SetCondition(status, "Ready", decided.ready, decided.reason, decided.message, now);
    if (decided.poll) {
        again = kPoll;
    }
    if (seen) {
        if (seen->retry_after.count() > 0) {
            again = seen->retry_after;
        }
        int64_t before_ooms = core::IntAt(status, "oom_kills");
        if (seen->oom_kills > before_ooms) {
            AddEvent(status, now, "OOMKilled", seen->message);
            if (oom_kills_ != nullptr) {
                oom_kills_->Inc(
                    {obj->tenant, id, want.product},
                    static_cast<double>(seen->oom_kills - before_ooms)
                );
            }
        }
        status["oom_kills"] = seen->oom_kills;
        status["memory_limit"] = seen->limit_mode;   // how it is enforced
        status["memory_limit_mb"] = want.memory_mb;  // what the limit is
        status["last_exit"] = seen->message;
        if (seen->crash_loop || ConditionStatus(status, "CrashLoop")) {
            SetCondition(
                status,
                "CrashLoop",
                seen->crash_loop,
                seen->crash_loop ? "RestartingTooOften" : "Stable",
                seen->crash_loop ? seen->message : "",
                now
            );
        }
        status["endpoint"] = seen->endpoint;
        status["version"] = seen->version;
        status["restarts"] = seen->restarts;
        status["provisioner"] = std::string(provisioner_.Name());
    }
    if (decided.phase == InstancePhase::kRunning && seen) {
        if (auto next = ProbeIfDue(*obj, want, *seen, status, now)) {
            again = again ? std::min(*again, *next) : *next;
        }
    }
    if (phase != before_phase) {
        AddEvent(
            status,
            now,
            phase,
            before_phase.empty() ? fmt::format("phase {}", phase)
                                 : fmt::format("phase {} -> {}", before_phase, phase)
        );
    }
    status["phase"] = phase;
    status["observed_generation"] = obj->generation;
    Tally(id, phase);
    if (!again && (decided.phase == InstancePhase::kFailed ||
                   decided.phase == InstancePhase::kProvisioning)) {
        again = std::chrono::seconds(1);  // never leave an unsettled instance to the resync
    }
    if (status == obj->status) {
        if (!seen) {
            return Fail(seen.error());
        }
        return reconcile::Outcome{again};
    }
    // Written against the revision we read: if the spec moved meanwhile, this conflicts and the
    // change-log feed brings the key back with the new spec.
    auto w = store_.Update(
        id,
        obj->revision,
        now,
        [&](store::Object& o) -> core::Result<void> {
            o.status = status;
            return {};
        },
        system
    );
    if (!w && w.error().code != core::ErrorCode::kConflict &&
        w.error().code != core::ErrorCode::kNotFound) {
        return Fail(w.error());
    }
    if (!seen) {
        return Fail(seen.error());
    }
    return reconcile::Outcome{again, w ? w->revision : 0};
}

}  // namespace hangar::fleet
