#pragma once
// Annotation templates, a small subset of Prometheus's Go templates:
//   {{ $labels.instance }}  {{ $value }}  {{ $value | humanizePercentage }}  {{ humanize $value }}
// Functions: humanize, humanize1024, humanizePercentage, humanizeDuration, toUpper, toLower.

#include <string>
#include <string_view>

#include "hangar/core/error.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::alerting {

core::Result<std::string>
ExpandTemplate(std::string_view text, const metrics::Labels& labels, double value);
// Checks a template without data (a missing label expands to "").
core::Result<void> CheckTemplate(std::string_view text);

}  // namespace hangar::alerting
