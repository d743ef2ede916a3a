#pragma once
// A meter's usage over a range, in windows of a time zone (OpenMeter's meter query): the
// pre-aggregated buckets of the range, combined per window, subject and group.
// Windows are calendar ones in `time_zone`: a DAY is local midnight to midnight (23 or 25 hours
// across a DST change), a MONTH local month start to month start, an HOUR a local clock hour
// (the repeated hour of a change back is one window of two hours). Usage is kept per minute:
// `from` is taken down and `to` up to the minute.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cctz/time_zone.h>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"
#include "hangar/metering/meter.hpp"
#include "hangar/metering/usage_db.hpp"

namespace hangar::metering {

enum class WindowSize { kNone, kMinute, kHour, kDay, kMonth };
std::optional<WindowSize> ParseWindowSize(std::string_view s);
std::string_view WindowSizeName(WindowSize w);

struct MeterQuery {
    int64_t from_s = 0, to_s = 0;  // minute-aligned, from < to
    WindowSize window = WindowSize::kNone;
    std::string time_zone = "UTC";
    cctz::time_zone tz = cctz::utc_time_zone();
    std::vector<std::string> subjects;  // empty: every subject
    std::vector<std::string> group_by;  // "subject" or the meter's group names
    std::map<std::string, std::vector<std::string>> filter_group_by;  // name -> allowed values
};

struct QueryRow {
    double value = 0;
    int64_t window_start = 0, window_end = 0;  // unix seconds
    std::optional<std::string> subject;
    std::map<std::string, std::optional<std::string>> group;
};

// At most this many rows in one answer.
inline constexpr size_t kMaxRows = 100000;

// 900 (quarter-hour buckets) when the range and the windows allow it, else 60.
int BucketWidth(const MeterQuery& q);

// The window [start, end) that holds `t` (unix seconds).
std::pair<int64_t, int64_t> WindowOf(int64_t t, const MeterQuery& q);

// Combines buckets into rows, ordered by window, subject and group. An error when the answer
// would exceed kMaxRows.
core::Result<std::vector<QueryRow>> Aggregate(
    const MeterDef& m,
    const MeterQuery& q,
    const std::vector<RollupRow>& rollups,
    const std::vector<UniqueRow>& uniques
);

// OpenMeter's MeterQueryRow.
boost::json::object RowToJson(const QueryRow& r);

}  // namespace hangar::metering
