#pragma once
// Metering as a service: the usage database, the meters (Meter objects in the store, read again
// after any change), the built-in meters of Hangar's own usage, and the sink other modules
// report usage to.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/clock.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/core/usage.hpp"
#include "hangar/metering/usage_db.hpp"
#include "hangar/store/store.hpp"

namespace hangar::metering {

class Metering final : public core::UsageSink {
public:
    // `retention`: how long events are kept as received (swept hourly); their usage stays.
    Metering(
        store::Store& store,
        const core::Clock& clock,
        const std::string& db_path,
        std::chrono::seconds retention = std::chrono::hours(24 * 400)
    );
    ~Metering() override;

    UsageDb& db() { return *db_; }
    const core::Clock& clock() const { return clock_; }
    store::Store& store() { return store_; }

    // Creates the built-in meters that are missing, reads every meter and starts the watcher
    // that reads them again after a change.
    void Start();
    void Stop();
    // Reads the meters again now (after a meter was written).
    void Reload();
    // Forgets events received longer ago than the retention; how many.
    int64_t Sweep();
    // Any store commit may have changed a meter: read again within two seconds.
    void Invalidate() { epoch_.fetch_add(1, std::memory_order_relaxed); }

    std::vector<MeterDef> Meters();
    // A SUM meter's sum or a COUNT meter's count for `subject` over [from_s, to_s) (whole
    // minutes).
    double Total(const MeterDef& m, const std::string& subject, int64_t from_s, int64_t to_s);
    // By id or slug.
    std::optional<MeterDef> Find(std::string_view id_or_slug);

    // core::UsageSink: one event, stored without waiting.
    void Record(
        std::string_view type,
        std::string_view subject,
        boost::json::object data,
        std::string_view id
    ) override;

private:
    void EnsureBuiltins();
    store::Store& store_;
    const core::Clock& clock_;
    std::unique_ptr<UsageDb> db_;
    std::mutex mu_;
    std::vector<MeterDef> meters_;
    std::atomic<uint64_t> epoch_{0};
    uint64_t seen_epoch_ = 0;
    std::chrono::seconds retention_;
    std::unique_ptr<core::Periodic> watcher_, sweeper_;
};

}  // namespace hangar::metering
