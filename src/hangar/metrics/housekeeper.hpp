#pragma once
// The metrics store's background chores: every `interval` it stores Hangar's own /metrics
// (labelled job="hangar") in the platform's space (tenant ""), and about once a minute it
// cuts the head into blocks and applies retention.

#include <chrono>
#include <string>

#include "hangar/core/clock.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::metrics {

class Housekeeper {
public:
    Housekeeper(
        Tsdb& db,
        core::MetricsRegistry& registry,
        const core::Clock& clock,
        std::chrono::milliseconds interval,
        std::string instance
    );
    void Start() { loop_.Start(); }
    void Stop() { loop_.Stop(); }
    // One self-scrape now (tests call it directly).
    void ScrapeSelf();

private:
    void Tick();
    Tsdb& db_;
    core::MetricsRegistry& registry_;
    const core::Clock& clock_;
    std::string instance_;
    std::chrono::steady_clock::time_point next_maintain_ =
        std::chrono::steady_clock::now() + std::chrono::minutes(1);
    core::Periodic loop_;  // last: stopped before the members it uses go
};

}  // namespace hangar::metrics
