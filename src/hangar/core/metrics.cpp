#include "hangar/core/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hangar::core {

namespace {

std::string LabelSet(
    const std::vector<std::string>& names,
    const std::vector<std::string>& values,
    std::string_view extra_name = {},
    std::string_view extra_value = {}
) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
        out += fmt::format(
            "{}{}=\"{}\"", out.empty() ? "" : ",", names[i], EscapeLabelValue(values[i])
        );
    }
    if (!extra_name.empty()) {
        out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", extra_name, extra_value);
    }
    return out.empty() ? out : "{" + out + "}";
}

std::string Num(double v) {
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(v)) {
        return "NaN";
    }
    return fmt::format("{}", v);
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::vector<double> LatencyBuckets() {
    return {
        0.0001,
        0.00025,
        0.0005,
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10};
}

ValueFamily::ValueFamily(
    std::string name,
    std::string help,
    std::string type,
    std::vector<std::string> labels
)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      labels_(std::move(labels)) {}

void ValueFamily::Add(const std::vector<std::string>& lv, double v) {
    std::lock_guard lock(mu_);
    values_[lv] += v;
}

void ValueFamily::Set(const std::vector<std::string>& lv, double v) {
    std::lock_guard lock(mu_);
    values_[lv] = v;
}

double ValueFamily::Value(const std::vector<std::string>& lv) const {
    std::lock_guard lock(mu_);
    auto it = values_.find(lv);
    return it == values_.end() ? 0 : it->second;
}

void ValueFamily::Render(std::string& out) const {
    std::lock_guard lock(mu_);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type_);
    for (const auto& [lv, v] : values_) {
        out += fmt::format("{}{} {}\n", name_, LabelSet(labels_, lv), Num(v));
    }
}

HistogramFamily::HistogramFamily(
    std::string name,
    std::string help,
    std::vector<std::string> labels,
    std::vector<double> buckets
)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      buckets_(std::move(buckets)) {}

void HistogramFamily::Observe(const std::vector<std::string>& lv, double v) {
    size_t idx = std::lower_bound(buckets_.begin(), buckets_.end(), v) - buckets_.begin();
    std::lock_guard lock(mu_);
    Series& s = series_[lv];
    if (s.counts.empty()) {
        s.counts.assign(buckets_.size() + 1, 0);
    }
    s.counts[idx]++;
    s.count++;
    s.sum += v;
}

void HistogramFamily::Render(std::string& out) const {
    std::lock_guard lock(mu_);
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name_, help_, name_);
    for (const auto& [lv, s] : series_) {
        uint64_t cum = 0;
        for (size_t i = 0; i < buckets_.size(); ++i) {
            cum += s.counts[i];
            out += fmt::format(
                "{}_bucket{} {}\n", name_, LabelSet(labels_, lv, "le", Num(buckets_[i])), cum
            );
        }
        out += fmt::format("{}_bucket{} {}\n", name_, LabelSet(labels_, lv, "le", "+Inf"), s.count);
        out += fmt::format("{}_sum{} {}\n", name_, LabelSet(labels_, lv), Num(s.sum));
        out += fmt::format("{}_count{} {}\n", name_, LabelSet(labels_, lv), s.count);
    }
}

CounterFamily& MetricsRegistry::Counter(
    const std::string& name,
    std::string help,
    std::vector<std::string> labels
) {
    return Add<ValueFamily>(name, std::move(help), "counter", std::move(labels));
}

GaugeFamily&
MetricsRegistry::Gauge(const std::string& name, std::string help, std::vector<std::string> labels) {
    return Add<ValueFamily>(name, std::move(help), "gauge", std::move(labels));
}

HistogramFamily& MetricsRegistry::Histogram(
    const std::string& name,
    std::string help,
    std::vector<std::string> labels,
    std::vector<double> buckets
) {
    return Add<HistogramFamily>(name, std::move(help), std::move(labels), std::move(buckets));
}

std::string MetricsRegistry::Render() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& f : families_) {
        f->Render(out);
    }
    return out;
}

}  // namespace hangar::core
