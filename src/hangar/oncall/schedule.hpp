#pragma once
// Who is on call when. A schedule is layers of rotations plus overrides:
// - a layer hands off among its users every `rotation` (hours or days), starting at a civil
//   time in its time zone; hand-offs stay at that wall-clock time across DST changes (a daily
//   9:00 hand-off in Europe/Berlin is at 9:00 local on both sides of the change);
// - restrictions limit a layer to windows of the week (business hours); outside them the layer
//   has nobody and a lower layer shows through;
// - later layers take precedence over earlier ones; overrides (absolute UTC times) over all.
// Everything is minute-aligned, so "what changes next" is found by stepping minutes.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"

namespace hangar::oncall {

struct Restriction {
    std::vector<int> weekdays;  // 0 = Monday .. 6 = Sunday; empty: every day
    int start_minute = 0;       // minutes after local midnight
    int end_minute = 1440;      // exclusive; below start_minute: the window runs past midnight
};

struct Layer {
    std::string name;
    std::vector<std::string> users;
    cctz::civil_second start;          // the first hand-off, local
    int64_t rotation_seconds = 86400;  // civil seconds per shift
    cctz::time_zone tz;
    std::string tz_name;
    std::vector<Restriction> restrictions;
};

struct Override {
    std::string user;
    core::TimePoint start, end;
};

struct Schedule {
    std::vector<Layer> layers;
    std::vector<Override> overrides;
};

struct OnCall {
    std::string user;   // empty: nobody
    std::string layer;  // the layer's name, or "override"
    bool operator==(const OnCall&) const = default;
};

struct Shift {
    OnCall who;
    core::TimePoint start, end;
};

// Reads and checks a Schedule spec (field errors name the path); returns it normalised.
core::Result<boost::json::object> ValidateScheduleSpec(const boost::json::object& spec);
// A validated spec as a schedule (time zones loaded from the system's zoneinfo).
core::Result<Schedule> ScheduleFromSpec(const boost::json::object& spec);

OnCall WhoAt(const Schedule& s, core::TimePoint t);
// The shifts (maximal runs of one answer) that overlap [from, to), at most `limit` of them.
std::vector<Shift>
Shifts(const Schedule& s, core::TimePoint from, core::TimePoint to, size_t limit = 10000);
// The iCalendar (RFC 5545) feed of a schedule's shifts in [from, to).
std::string
ICalendar(const Schedule& s, std::string_view name, core::TimePoint from, core::TimePoint to);

}  // namespace hangar::oncall
