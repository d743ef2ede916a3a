#include "hangar/fleet/usage_reporter.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/fleet/specs.hpp"

namespace hangar::fleet {

UsageReporter::UsageReporter(store::Store& store, const core::Clock& clock, core::UsageSink& sink)
    : store_(store), clock_(clock), sink_(sink) {}

UsageReporter::~UsageReporter() {
    Stop();
}

void UsageReporter::Start() {
    last_minute_ = core::UnixSeconds(clock_.Now()) / 60 * 60;
    tick_ = std::make_unique<core::Periodic>(std::chrono::seconds(5), [this] {
        // Each minute that has ended since the last report (at most an hour of them after a
        // stall), reported once.
        int64_t now_minute = core::UnixSeconds(clock_.Now()) / 60 * 60;
        int64_t from = std::max(last_minute_, now_minute - 3600);
        for (int64_t m = from; m < now_minute; m += 60) {
            ReportMinute(m);
        }
        last_minute_ = std::max(last_minute_, now_minute);
    });
    tick_->Start();
}

void UsageReporter::Stop() {
    if (tick_) {
        tick_->Stop();
    }
}

int UsageReporter::ReportMinute(int64_t minute_start_s) {
    auto instances = store_.ListAll("Instance", std::nullopt, [](const store::Object& o) {
        return core::StrAt(o.status, "phase") == "Running";
    });
    if (!instances) {
        return 0;
    }
    std::map<std::string, PlanSpec> plans;
    int n = 0;
    for (const auto& o : *instances) {
        InstanceSpec spec = InstanceSpec::FromStored(o.spec);
        auto it = plans.find(spec.plan);
        if (it == plans.end()) {
            auto p = store_.FindByName("Plan", "", spec.plan);
            it = plans.emplace(spec.plan, p ? PlanSpec::FromStored(p->spec) : PlanSpec{}).first;
        }
        const PlanSpec& plan = it->second;
        auto mem = static_cast<double>(plan.memory_mb);
        sink_.Record(
            "hangar.instance.usage",
            o.tenant,
            json::object{
                {"instance", o.id},
                {"plan", spec.plan},
                {"product", spec.product},
                {"minutes", 1},
                {"hours", 1.0 / 60},
                {"memory_mb", plan.memory_mb},
                {"memory_gib_hours", mem / 1024 / 60},
                {"cpu_millis", plan.cpu_millis},
                {"cpu_hours", static_cast<double>(plan.cpu_millis) / 1000 / 60},
                {"minute",
                 core::FormatRfc3339(core::TimePoint(std::chrono::seconds(minute_start_s)))}},
            fmt::format("instance:{}:{}", o.id, minute_start_s)
        );
        ++n;
    }
    return n;
}

}  // namespace hangar::fleet
