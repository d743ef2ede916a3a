// The Prometheus text exposition format: hangar::metrics::ParseExposition (what Hangar reads
// when it scrapes an instance's metrics endpoint, i.e. text a customer's process writes), with
// FormatLabels / HashLabels over every sample it returns; ParsePromFloat on each line.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/metrics/exposition.hpp"
#include "hangar/metrics/labels.hpp"

#include "fuzz_support.hpp"

namespace {

namespace metrics = hangar::metrics;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);

    for (std::string_view line : hangar::fuzz::Lines(text, 16)) {
        (void)metrics::ParsePromFloat(line);
    }

    auto r = metrics::ParseExposition(text);
    if (!r) {
        return 0;
    }
    for (const auto& f : r->families) {
        (void)metrics::MetricTypeName(f.type);
    }
    for (const auto& s : r->samples) {
        (void)metrics::FormatLabels(s.labels);
        (void)metrics::HashLabels(s.labels);
        (void)metrics::Get(s.labels, "le");
        metrics::Labels copy = s.labels;
        (void)metrics::NormalizeLabels(copy);  // already normalised: must stay accepted
    }
    return 0;
}
