#pragma once
// What turns an instance spec into something running. Instances are named deterministically
// (by instance id), so a controller that dies and re-runs finds what it already made.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::fleet {

struct Desired {
    std::string id;  // the instance id: the provisioner's name for it
    std::string product, version;
    int64_t memory_mb = 0;
    int64_t cpu_millis = 0;
    boost::json::object run;     // the product version's recipe for this provisioner
    boost::json::object health;  // the product version's health check (http, tcp or exec)
    std::string metrics_path;    // where the instance serves Prometheus metrics ("" if it does not)
    boost::json::object config;
    bool running = true;        // false: suspended
    int64_t restart_nonce = 0;  // a change restarts the instance
    // The product's "workspace" block, when it has one: the instance gets a Workspace.
    std::optional<boost::json::object> workspace;
    // Added to the instance's environment (the cloud's address, its registration token); set
    // by the controller's hooks.
    std::vector<std::pair<std::string, std::string>> env;
};

struct Observed {
    enum class State { kAbsent, kStarting, kRunning, kStopped, kFailed };
    State state = State::kAbsent;
    std::string version;
    std::string endpoint;
    std::string message;
    int64_t restarts = 0;
    int64_t oom_kills = 0;    // over the instance's life
    bool crash_loop = false;  // restarting too often: back-off is long
    std::string limit_mode;   // how memory is limited: cgroup2, cgroup1, rlimit, none
    std::chrono::milliseconds retry_after{0};  // when to look again (starting, backing off)
};

std::string_view StateName(Observed::State s);

// One run of an instance's health check, with what was read beside it.
struct ProbeResult {
    bool healthy = false;
    std::string message;   // why not, when not healthy
    double seconds = 0;    // how long the check took
    std::string metrics;   // the exposition text at metrics_path ("" when none or unreadable)
    bool process = false;  // the process figures below are set
    double rss_bytes = 0, cpu_seconds = 0, open_fds = 0;
};

// A probe's result with whose it was, for the metrics store.
struct ProbeReport {
    std::string tenant, instance, name, product, version;
    int64_t time_ms = 0;
    int64_t restarts = 0, oom_kills = 0;
    int64_t memory_limit_bytes = 0;  // the plan's memory; 0: unlimited
    ProbeResult result;
};

class Provisioner {
public:
    virtual ~Provisioner() = default;
    virtual std::string_view Name() const = 0;
    // Moves the instance towards `want` and reports where it is now.
    virtual core::Result<Observed> Ensure(const Desired& want) = 0;
    virtual core::Result<Observed> Observe(const std::string& id) = 0;
    // Gone (or was never there) → Observed::kAbsent.
    virtual core::Result<Observed> Destroy(const std::string& id) = 0;
    // Runs a product's backup command for an instance about to be torn down; returns where the
    // backup went ("" when there was nothing to back up).
    virtual core::Result<std::string>
    Backup(const Desired& want, const std::vector<std::string>& command) = 0;
    // Runs the health check once, reads the instance's metrics at want.metrics_path and its
    // process figures. nullopt: this provisioner does not probe (the simulated cloud).
    virtual std::optional<ProbeResult> Probe(const Desired& want) {
        (void)want;
        return std::nullopt;
    }
    // Runs a command for an instance (a runbook's exec action) in its data folder with its
    // environment; returns the tail of what it printed.
    virtual core::Result<std::string>
    Exec(const Desired& want, const std::vector<std::string>& command) {
        (void)want;
        (void)command;
        return core::Fail(
            core::ErrorCode::kInvalidArgument, "this provisioner cannot run commands for instances"
        );
    }
    // Where an instance's "stdout" or "stderr" goes, if this provisioner keeps logs.
    virtual std::string LogPath(const std::string& id, std::string_view stream) const {
        (void)id;
        (void)stream;
        return "";
    }
};

}  // namespace hangar::fleet
