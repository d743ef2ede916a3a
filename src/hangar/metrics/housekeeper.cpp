#include "hangar/metrics/housekeeper.hpp"

#include "hangar/core/log.hpp"
#include "hangar/metrics/exposition.hpp"

namespace hangar::metrics {

namespace {

int64_t Millis(core::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Housekeeper::Housekeeper(
    Tsdb& db,
    core::MetricsRegistry& registry,
    const core::Clock& clock,
    std::chrono::milliseconds interval,
    std::string instance
)
    : db_(db),
      registry_(registry),
      clock_(clock),
      instance_(std::move(instance)),
      loop_(interval, [this] { Tick(); }) {}

void Housekeeper::ScrapeSelf() {
    auto parsed = ParseExposition(registry_.Render());
    if (!parsed) {
        core::LogError("Hangar's own metrics do not parse", {{"error", parsed.error().message}});
        return;
    }
    int64_t now = Millis(clock_.Now());
    WriteBatch batch;
    std::vector<LabelView> labels;
    std::vector<Sample> one(1);
    for (const auto& s : parsed->samples) {
        labels.clear();
        for (const auto& l : s.labels) {
            labels.push_back({l.name, l.value});
        }
        labels.push_back({"instance", instance_});
        labels.push_back({"job", "hangar"});
        one[0] = {s.timestamp_ms.value_or(now), s.value};
        batch.Add(labels, one);
    }
    if (auto r = db_.Append("", batch); !r) {
        core::LogWarn("storing Hangar's own metrics failed", {{"error", r.error().message}});
    }
}

void Housekeeper::Tick() {
    ScrapeSelf();
    if (std::chrono::steady_clock::now() >= next_maintain_) {
        if (auto r = db_.Maintain(Millis(clock_.Now())); !r) {
            core::LogError("metrics store maintenance failed", {{"error", r.error().message}});
        }
        next_maintain_ = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    }
}

}  // namespace hangar::metrics
