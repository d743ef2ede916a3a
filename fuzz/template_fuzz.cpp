// Alert annotation templates: hangar::alerting::CheckTemplate (what validating an AlertRule
// runs) and ExpandTemplate with a fixed label set and values that reach every humanize branch
// (NaN, ±Inf, tiny, huge, negative).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "hangar/alerting/template.hpp"
#include "hangar/metrics/labels.hpp"

#include "fuzz_support.hpp"

namespace {

namespace alerting = hangar::alerting;
namespace metrics = hangar::metrics;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    static const metrics::Labels kLabels = {
        {"__name__", "node_memory_usage_ratio"},
        {"alertname", "InstanceMemoryHigh"},
        {"big", "1e300"},
        {"instance", "shop-1:9100"},
        {"job", "node"},
        {"queue", "mail"},
        {"ratio", "0.93"},
        {"severity", "critical"},
        {"word", "abc"},
    };
    static const double kValues[] = {
        0,
        0.925,
        1234567,
        3725,
        -0.005,
        1e-12,
        1e300,
        -1e300,
        std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(),
        9.3e18,
    };

    (void)alerting::CheckTemplate(text);
    for (double v : kValues) {
        (void)alerting::ExpandTemplate(text, kLabels, v);
    }
    return 0;
}
