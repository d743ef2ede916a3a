// On-call schedules: the spec JSON (core::ParseJsonObject) through
// hangar::oncall::ValidateScheduleSpec (civil times, HH:MM windows, rotations, RFC 3339
// overrides, time zones), then what Hangar does with a stored spec: ScheduleFromSpec, WhoAt,
// Shifts over a day and the iCalendar feed over six hours. The same document also goes through
// ValidateEscalationPolicySpec (steps, targets, waits).
//
// Time zone names are limited to a fixed list first (fuzz_time_zones.hpp says why).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/oncall/escalation.hpp"
#include "hangar/oncall/schedule.hpp"

#include "fuzz_support.hpp"
#include "fuzz_time_zones.hpp"

namespace {

namespace core = hangar::core;
namespace oncall = hangar::oncall;
namespace json = boost::json;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    auto parsed = core::ParseJsonObject(hangar::fuzz::AsText(data, size));
    if (!parsed) {
        return 0;
    }
    json::value root(std::move(*parsed));
    hangar::fuzz::SanitizeTimeZones(root);
    const json::object& spec = root.as_object();

    (void)oncall::ValidateEscalationPolicySpec(spec);

    auto normalised = oncall::ValidateScheduleSpec(spec);
    if (!normalised) {
        return 0;
    }
    // A stored spec is validated again on every update: the normalised form must validate.
    (void)oncall::ValidateScheduleSpec(*normalised);
    auto schedule = oncall::ScheduleFromSpec(*normalised);
    if (!schedule) {
        return 0;
    }
    // 2026-03-29T00:00:00Z: Europe's spring-forward night, so hand-offs cross a DST change.
    static const core::TimePoint kStart = *core::ParseRfc3339("2026-03-29T00:00:00Z");
    using std::chrono::hours;
    for (int k = 0; k < 8; ++k) {
        (void)oncall::WhoAt(*schedule, kStart + hours(7 * k));
    }
    (void)oncall::Shifts(*schedule, kStart, kStart + hours(24), 200);
    (void)oncall::ICalendar(*schedule, "fuzz", kStart, kStart + hours(6));
    return 0;
}
