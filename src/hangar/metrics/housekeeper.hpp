#pragma once
// The metrics store's background chores: every `interval` it stores Hangar's own /metrics
// (labelled job="hangar") in the platform's space (tenant ""), and about once a minute it
// cuts the head into blocks and applies retention.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "hangar/core/clock.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::metrics {

class Housekeeper {
public:
    Housekeeper(Tsdb& db, core::MetricsRegistry& registry, const core::Clock& clock, std::chrono::milliseconds interval,
                std::string instance);
    ~Housekeeper();
    void Start();
    void Stop();
    // One self-scrape now (tests call it directly).
    void ScrapeSelf();

private:
    void Run();
    Tsdb& db_;
    core::MetricsRegistry& registry_;
    const core::Clock& clock_;
    std::chrono::milliseconds interval_;
    std::string instance_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace hangar::metrics
