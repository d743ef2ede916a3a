#pragma once
// Hangar's own metrics in Prometheus text exposition: counters and histograms with labels.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::core {

class MetricFamily {
public:
    virtual ~MetricFamily() = default;
    virtual void Render(std::string& out) const = 0;
};

// A counter or a gauge: one value per label set.
class ValueFamily final : public MetricFamily {
public:
    ValueFamily(
        std::string name,
        std::string help,
        std::string type,
        std::vector<std::string> labels
    );
    void Inc(const std::vector<std::string>& label_values, double v = 1) { Add(label_values, v); }
    void Add(const std::vector<std::string>& label_values, double v);
    void Set(const std::vector<std::string>& label_values, double v);
    double Value(const std::vector<std::string>& label_values) const;
    void Render(std::string& out) const override;

private:
    std::string name_, help_, type_;
    std::vector<std::string> labels_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, double> values_;
};
using CounterFamily = ValueFamily;
using GaugeFamily = ValueFamily;

class HistogramFamily final : public MetricFamily {
public:
    HistogramFamily(
        std::string name,
        std::string help,
        std::vector<std::string> labels,
        std::vector<double> buckets
    );
    void Observe(const std::vector<std::string>& label_values, double v);
    void Render(std::string& out) const override;

private:
    struct Series {
        std::vector<uint64_t> counts;  // per bucket, not cumulative
        uint64_t count = 0;
        double sum = 0;
    };
    std::string name_, help_;
    std::vector<std::string> labels_;
    std::vector<double> buckets_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, Series> series_;
};

class MetricsRegistry {
public:
    CounterFamily&
    Counter(const std::string& name, std::string help, std::vector<std::string> labels);
    GaugeFamily& Gauge(const std::string& name, std::string help, std::vector<std::string> labels);
    HistogramFamily& Histogram(
        const std::string& name,
        std::string help,
        std::vector<std::string> labels,
        std::vector<double> buckets
    );
    std::string Render() const;

private:
    // A name asked for twice (a second listener's server) is the same family: the exposition
    // may hold each name once.
    template <typename Family, typename... Args>
    Family& Add(const std::string& name, Args&&... args) {
        std::lock_guard lock(mu_);
        if (auto it = by_name_.find(name); it != by_name_.end()) {
            if (auto* same = dynamic_cast<Family*>(it->second)) {
                return *same;
            }
        }
        auto f = std::make_unique<Family>(name, std::forward<Args>(args)...);
        auto& ref = *f;
        by_name_[name] = f.get();
        families_.push_back(std::move(f));
        return ref;
    }
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<MetricFamily>> families_;
    std::map<std::string, MetricFamily*, std::less<>> by_name_;
};

// Default latency buckets in seconds: 100µs .. 10s.
std::vector<double> LatencyBuckets();
// A label value escaped for the exposition format.
std::string EscapeLabelValue(std::string_view v);

}  // namespace hangar::core
