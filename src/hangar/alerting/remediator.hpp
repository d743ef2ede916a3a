#pragma once
// Auto-remediation: Runbook objects bind alerts (by matchers) to an action on the alert's
// instance: restart it, resize it to the next larger plan, or run a command for it. Each
// runbook acts at most `max_per_hour` times per instance; one that `requires_approval` waits
// for POST /v1/runbooks/{id}:approve. Every action is written to the alert (status.remediations),
// to the audit log (runbook.<action>) and so to incident timelines.
//
// Shipped by default (a tenant's Runbook of the same name replaces it): "oom-resize-up", an
// instance OOM-killed or near its memory limit goes one plan up.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "hangar/alerting/alert.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/store/store.hpp"

namespace hangar::alerting {

// Runs a command for an instance (the provisioner's Exec); returns what it printed.
using ExecFn = std::function<
    core::Result<std::string>(const store::Object& instance, const std::vector<std::string>& argv)>;

class Remediator {
public:
    Remediator(store::Store& store, const core::Clock& clock, ExecFn exec);
    ~Remediator();
    void Start();
    void Stop();
    // An alert began firing (once per episode); `tenants` are the tenants whose runbooks apply.
    void Enqueue(const Alert& a, std::vector<std::string> tenants);
    // Handles what is queued now (the worker does this; tests may call it).
    void Drain();
    // Runs a pending action of a runbook that requires approval.
    core::Result<store::Object> Approve(
        const std::string& runbook_id,
        const std::string& instance,
        const std::string& by,
        store::AuditEvent audit
    );

private:
    struct Work {
        Alert alert;
        std::vector<std::string> tenants;
    };
    void Handle(const Work& w);
    // Performs the action; returns what happened (for the records) or the error.
    core::Result<std::string> Act(
        const boost::json::object& runbook,
        const std::string& runbook_name,
        store::Object instance,
        const std::string& actor
    );
    void Record(const Alert& a, boost::json::object entry);
    store::Store& store_;
    const core::Clock& clock_;
    ExecFn exec_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Work> queue_;
    bool stop_ = false;
    std::map<std::pair<std::string, std::string>, std::deque<core::TimePoint>>
        recent_;  // (runbook, instance) → action times
    std::thread thread_;
};

}  // namespace hangar::alerting
