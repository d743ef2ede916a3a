#pragma once
// Reconciles one Instance: reads it, asks the provisioner for what the spec wants (running,
// suspended, gone), and writes the status it observed: phase, conditions, observed_generation,
// endpoint and a bounded event list. Deletion: the object carries deletion_requested_at until
// the provisioner has torn the instance down; then the object goes.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "hangar/core/clock.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/fleet/instance_state.hpp"
#include "hangar/fleet/provisioner.hpp"
#include "hangar/reconcile/controller.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

class InstanceController {
public:
    InstanceController(
        store::Store& store,
        Provisioner& provisioner,
        const core::Clock& clock,
        core::CounterFamily* oom_kills = nullptr,
        core::GaugeFamily* phases = nullptr
    )
        : store_(store),
          provisioner_(provisioner),
          clock_(clock),
          oom_kills_(oom_kills),
          phases_(phases) {}

    core::Result<reconcile::Outcome> Reconcile(const std::string& id);
    // Where probe results go (the metrics store); set before the controller starts.
    void SetProbeSink(std::function<void(const ProbeReport&)> sink) {
        probe_sink_ = std::move(sink);
    }
    // What another module does for an instance: `prepare` before the provisioner starts it (it
    // may add to want.env), `release` once the provisioner has torn it down. An error fails the
    // reconcile, which is retried.
    struct Hooks {
        std::function<core::Result<void>(const store::Object& instance, Desired& want)> prepare;
        std::function<core::Result<void>(const store::Object& instance)> release;
    };
    void SetHooks(Hooks hooks) { hooks_ = std::move(hooks); }
    // Every instance id (for resync).
    std::vector<std::string> List();
    // What an instance object asks of the provisioner (its product version's recipe, its
    // plan's size); `backup` receives the version's backup command.
    Desired DesiredFor(const store::Object& obj, std::vector<std::string>* backup = nullptr);

private:
    // Keeps hangar_instances{phase} equal to the number of instances last seen in each phase.
    void Tally(const std::string& id, const std::string& phase);
    // Runs a running instance's health check when its interval is up, keeps the Health
    // condition (failure/success thresholds) and reports the result; returns when to look again.
    std::optional<std::chrono::milliseconds> ProbeIfDue(
        const store::Object& obj,
        const Desired& want,
        const Observed& seen,
        boost::json::object& status,
        const std::string& now
    );

    store::Store& store_;
    Provisioner& provisioner_;
    const core::Clock& clock_;
    core::CounterFamily* oom_kills_;  // hangar_instance_oom_kills_total{tenant,instance,product}
    core::GaugeFamily* phases_;       // hangar_instances{phase}
    std::mutex tally_mu_;
    std::unordered_map<std::string, std::string> phase_of_;

    struct ProbeState {
        std::chrono::steady_clock::time_point next{};
        HealthTracker health;
    };
    std::function<void(const ProbeReport&)> probe_sink_;
    Hooks hooks_;
    std::mutex probe_mu_;
    std::unordered_map<std::string, ProbeState> probes_;
};

}  // namespace hangar::fleet
