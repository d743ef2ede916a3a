#pragma once
// The Prometheus text exposition format (0.0.4), parsed fully: # HELP and # TYPE lines (other
// comments ignored), label values with \\ \" \n escapes, a trailing comma in a label set,
// NaN and ±Inf values, optional millisecond timestamps; counters, gauges, histograms
// (_bucket with `le`, _sum, _count) and summaries (`quantile`, _sum, _count) checked against
// their TYPE. Errors name the line and what was expected there.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::metrics {

enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };
std::string_view MetricTypeName(MetricType t);

struct MetricFamily {
    std::string name, help;
    MetricType type = MetricType::kUntyped;
};

struct ParsedSample {
    Labels labels;  // sorted, __name__ included
    double value = 0;
    std::optional<int64_t> timestamp_ms;
};

struct Exposition {
    std::vector<MetricFamily> families;
    std::vector<ParsedSample> samples;
};

core::Result<Exposition> ParseExposition(std::string_view text);

// Go's strconv.ParseFloat as Prometheus uses it: decimal, exponent, hex floats, NaN, ±Inf.
std::optional<double> ParsePromFloat(std::string_view s);

}  // namespace hangar::metrics
