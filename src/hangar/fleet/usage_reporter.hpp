#pragma once
// Instances' usage, reported each minute: every Running instance's minute, with its plan,
// product and memory, as a "hangar.instance.usage" event billed to its tenant
// ({instance, plan, product, minutes: 1, hours: 1/60, memory_mb, memory_gib_hours, cpu_millis}).
// The event's id is the instance and the minute, so a minute reported twice (a restart within
// it) counts once.

#include <memory>

#include "hangar/core/clock.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/core/usage.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

class UsageReporter {
public:
    UsageReporter(store::Store& store, const core::Clock& clock, core::UsageSink& sink);
    ~UsageReporter();
    void Start();
    void Stop();
    // Reports the minute starting at `minute_start_s` (unix seconds) for every running
    // instance; returns how many it reported.
    int ReportMinute(int64_t minute_start_s);

private:
    store::Store& store_;
    const core::Clock& clock_;
    core::UsageSink& sink_;
    int64_t last_minute_ = 0;
    std::unique_ptr<core::Periodic> tick_;
};

}  // namespace hangar::fleet
