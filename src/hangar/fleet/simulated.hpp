#pragma once
// An in-memory cloud for scale and chaos tests: instances take `latency` to start, a start
// fails with probability `failure_rate`, and at most `capacity` instances exist at once. A
// product version whose simulated recipe is {"fail": true} never becomes healthy.

#include <chrono>
#include <mutex>
#include <random>
#include <unordered_map>

#include "hangar/fleet/provisioner.hpp"

namespace hangar::fleet {

struct SimulatedOptions {
    std::chrono::milliseconds latency{200};
    double failure_rate = 0;
    size_t capacity = 1000000;
};

class SimulatedProvisioner final : public Provisioner {
public:
    explicit SimulatedProvisioner(SimulatedOptions opts);
    std::string_view Name() const override { return "simulated"; }
    core::Result<Observed> Ensure(const Desired& want) override;
    core::Result<Observed> Observe(const std::string& id) override;
    core::Result<Observed> Destroy(const std::string& id) override;
    // A command starting with "false" fails, like the shell's; anything else succeeds.
    core::Result<std::string> Backup(const Desired& want, const std::vector<std::string>& command)
        override;
    size_t size();
    // Chaos: the instance dies as if its host failed.
    bool Crash(const std::string& id);

private:
    uint64_t backups_ = 0;
    struct Sim {
        Desired spec;
        std::chrono::steady_clock::time_point ready_at;
        bool failed = false;
        int64_t restarts = 0;
    };
    Observed View(const std::string& id, const Sim& s) const;

    SimulatedOptions opts_;
    std::mutex mu_;
    std::unordered_map<std::string, Sim> sims_;
    std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace hangar::fleet
