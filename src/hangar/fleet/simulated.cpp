#include "hangar/fleet/simulated.hpp"

#include <fmt/format.h>

namespace hangar::fleet {

std::string_view StateName(Observed::State s) {
    switch (s) {
        case Observed::State::kAbsent:
            return "absent";
        case Observed::State::kStarting:
            return "starting";
        case Observed::State::kRunning:
            return "running";
        case Observed::State::kStopped:
            return "stopped";
        case Observed::State::kFailed:
            return "failed";
    }
    return "absent";
}

SimulatedProvisioner::SimulatedProvisioner(SimulatedOptions opts) : opts_(opts) {}

Observed SimulatedProvisioner::View(const std::string& id, const Sim& s) const {
    Observed o;
    o.version = s.spec.version;
    o.restarts = s.restarts;
    o.limit_mode = "none";
    const auto* broken = s.spec.run.if_contains("fail");
    if (broken != nullptr && broken->is_bool() && broken->as_bool()) {
        o.state = Observed::State::kFailed;
        o.message = fmt::format(
            "version {} does not start (its simulated recipe says fail)", s.spec.version
        );
        o.retry_after = std::chrono::seconds(1);
    } else if (s.failed) {
        o.state = Observed::State::kFailed;
        o.message = "the simulated host failed";
    } else if (!s.spec.running) {
        o.state = Observed::State::kStopped;
    } else if (std::chrono::steady_clock::now() < s.ready_at) {
        o.state = Observed::State::kStarting;
    } else {
        o.state = Observed::State::kRunning;
        o.endpoint = fmt::format("sim://{}", id);
    }
    return o;
}

core::Result<Observed> SimulatedProvisioner::Ensure(const Desired& want) {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    auto it = sims_.find(want.id);
    if (it == sims_.end()) {
        if (sims_.size() >= opts_.capacity) {
            return core::Fail(
                core::ErrorCode::kUnavailable,
                fmt::format("the simulated cloud is full ({} instances)", opts_.capacity)
            );
        }
        if (std::uniform_real_distribution<double>(0, 1)(rng_) < opts_.failure_rate) {
            return core::Fail(
                core::ErrorCode::kUnavailable, "the simulated cloud refused to start the instance"
            );
        }
        it = sims_.emplace(want.id, Sim{want, now + opts_.latency, false, 0}).first;
        return View(want.id, it->second);
    }
    Sim& s = it->second;
    bool was_running = s.spec.running;
    bool restart = s.failed || s.spec.version != want.version ||
                   s.spec.memory_mb != want.memory_mb ||
                   s.spec.restart_nonce != want.restart_nonce || (!was_running && want.running);
    s.spec = want;
    if (restart && want.running) {
        s.failed = false;
        s.ready_at = now + opts_.latency;
        if (was_running) {
            s.restarts++;  // a resume is a start, not a restart
        }
    }
    return View(want.id, s);
}

core::Result<Observed> SimulatedProvisioner::Observe(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = sims_.find(id);
    if (it == sims_.end()) {
        return Observed{};
    }
    return View(id, it->second);
}

core::Result<Observed> SimulatedProvisioner::Destroy(const std::string& id) {
    std::lock_guard lock(mu_);
    sims_.erase(id);
    return Observed{};
}

core::Result<std::string>
SimulatedProvisioner::Backup(const Desired& want, const std::vector<std::string>& command) {
    if (!command.empty() && command.front() == "false") {
        return core::Fail(core::ErrorCode::kUnavailable, "the backup command exited with status 1");
    }
    std::lock_guard lock(mu_);
    return fmt::format("sim://backups/{}/{}", want.id, ++backups_);
}

size_t SimulatedProvisioner::size() {
    std::lock_guard lock(mu_);
    return sims_.size();
}

bool SimulatedProvisioner::Crash(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = sims_.find(id);
    if (it == sims_.end()) {
        return false;
    }
    it->second.failed = true;
    return true;
}

}  // namespace hangar::fleet
