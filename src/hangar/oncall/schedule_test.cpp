#include "hangar/oncall/schedule.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace hangar::oncall {
namespace {

namespace json = boost::json;

core::TimePoint T(std::string_view rfc3339) {
    return *core::ParseRfc3339(rfc3339);
}

Schedule Make(std::string_view spec_json) {
    auto spec = ValidateScheduleSpec(json::parse(spec_json).as_object());
    EXPECT_TRUE(spec) << (spec ? "" : spec.error().message);
    auto s = ScheduleFromSpec(*spec);
    EXPECT_TRUE(s);
    return *s;
}

std::string Field(std::string_view spec_json) {
    auto spec = ValidateScheduleSpec(json::parse(spec_json).as_object());
    if (spec) {
        return "(accepted)";
    }
    for (const auto& [k, v] : spec.error().details) {
        if (k == "field") {
            return v;
        }
    }
    return spec.error().message;
}

// Daily hand-off at 09:00 Berlin time between alice and bob, from Friday 2026-03-27.
constexpr std::string_view kBerlin = R"({"time_zone":"Europe/Berlin","layers":[
    {"name":"primary","users":["alice","bob"],"start":"2026-03-27T09:00","rotation":"1d"}]})";

TEST(ScheduleTest, DailyHandOffStaysAtNineLocalAcrossTheSpringChange) {
    Schedule s = Make(kBerlin);
    // Before the first hand-off there is nobody.
    EXPECT_EQ(WhoAt(s, T("2026-03-27T07:59:00Z")).user, "");
    EXPECT_EQ(WhoAt(s, T("2026-03-27T08:00:00Z")).user, "alice");  // 09:00 CET
    EXPECT_EQ(WhoAt(s, T("2026-03-28T07:59:00Z")).user, "alice");
    EXPECT_EQ(WhoAt(s, T("2026-03-28T08:00:00Z")).user, "bob");
    // Clocks go forward on Sunday 29 March at 02:00; 09:00 CEST is 07:00 UTC, so bob's shift
    // is 23 hours long.
    EXPECT_EQ(WhoAt(s, T("2026-03-29T06:59:00Z")).user, "bob");
    EXPECT_EQ(WhoAt(s, T("2026-03-29T07:00:00Z")).user, "alice");
    EXPECT_EQ(WhoAt(s, T("2026-03-30T06:59:00Z")).user, "alice");
    EXPECT_EQ(WhoAt(s, T("2026-03-30T07:00:00Z")).user, "bob");
    EXPECT_EQ(WhoAt(s, T("2026-03-29T07:00:00Z")).layer, "primary");
}

TEST(ScheduleTest, DailyHandOffStaysAtNineLocalAcrossTheAutumnChange) {
    Schedule s = Make(kBerlin);
    // 2026-10-24 is day 211 since the start: odd, so bob; clocks go back on Sunday 25 October
    // at 03:00, so the next hand-off (09:00 CET) is at 08:00 UTC and bob's shift is 25 hours.
    EXPECT_EQ(WhoAt(s, T("2026-10-24T07:00:00Z")).user, "bob");
    EXPECT_EQ(WhoAt(s, T("2026-10-25T07:59:00Z")).user, "bob");
    EXPECT_EQ(WhoAt(s, T("2026-10-25T08:00:00Z")).user, "alice");
    auto shifts = Shifts(s, T("2026-10-24T00:00:00Z"), T("2026-10-26T12:00:00Z"));
    ASSERT_EQ(shifts.size(), 4u);
    EXPECT_EQ(shifts[1].who.user, "bob");
    EXPECT_EQ(shifts[1].start, T("2026-10-24T07:00:00Z"));
    EXPECT_EQ(shifts[1].end, T("2026-10-25T08:00:00Z"));
    EXPECT_EQ(shifts[2].end - shifts[2].start, std::chrono::hours(24));
}

TEST(ScheduleTest, EveryMinuteAcrossTheSpringChangeMatchesTheWallClock) {
    // A 12-hour rotation handing off at 08:00 and 20:00 New York time, across 2026-03-08.
    Schedule s = Make(
        R"({"layers":[{"users":["ann","ben","cat"],"start":"2026-03-01T08:00","rotation":"12h","time_zone":"America/New_York"}]})"
    );
    cctz::time_zone ny;
    ASSERT_TRUE(cctz::load_time_zone("America/New_York", &ny));
    const std::string users[] = {"ann", "ben", "cat"};
    for (auto t = T("2026-03-07T00:00:00Z"); t < T("2026-03-10T00:00:00Z");
         t += std::chrono::minutes(1)) {
        cctz::civil_second local =
            cctz::convert(std::chrono::time_point_cast<cctz::seconds>(t), ny);
        // Whole half-days of wall clock since 2026-03-01 08:00 local.
        int64_t half_days = ((cctz::civil_day(local) - cctz::civil_day(2026, 3, 1)) * 1440 +
                             local.hour() * 60 + local.minute() - 480) /
                            720;
        ASSERT_EQ(WhoAt(s, t).user, users[half_days % 3]) << core::FormatRfc3339(t);
    }
}

TEST(ScheduleTest, RestrictedLayerShowsThroughOnlyInItsWindowAndOverridesWin) {
    Schedule s = Make(R"({"time_zone":"Europe/Berlin","layers":[
        {"name":"follow-the-sun","users":["alice","bob"],"start":"2026-03-27T09:00","rotation":"1d"},
        {"name":"business-hours","users":["carol"],"start":"2026-03-23T00:00","rotation":"7d",
         "restrictions":[{"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00"}]},
        {"name":"nights","users":["nina"],"start":"2026-03-23T00:00","rotation":"7d",
         "restrictions":[{"days":["sat"],"start":"22:00","end":"06:00"}]}],
      "overrides":[{"user":"dave","start":"2026-03-30T10:00:00Z","end":"2026-03-30T12:00:00Z"}]})");
    EXPECT_EQ(
        WhoAt(s, T("2026-03-27T08:30:00Z")), (OnCall{"carol", "business-hours"})
    );  // Fri 09:30 CET
    EXPECT_EQ(
        WhoAt(s, T("2026-03-27T16:00:00Z")), (OnCall{"alice", "follow-the-sun"})
    );                                                             // Fri 17:00 CET
    EXPECT_EQ(WhoAt(s, T("2026-03-28T10:00:00Z")).user, "bob");    // Saturday
    EXPECT_EQ(WhoAt(s, T("2026-03-28T21:00:00Z")).user, "nina");   // Sat 22:00 CET
    EXPECT_EQ(WhoAt(s, T("2026-03-29T03:59:00Z")).user, "nina");   // Sun 05:59 CEST
    EXPECT_EQ(WhoAt(s, T("2026-03-29T04:00:00Z")).user, "bob");    // Sun 06:00 CEST
    EXPECT_EQ(WhoAt(s, T("2026-03-30T07:00:00Z")).user, "carol");  // Mon 09:00 CEST
    EXPECT_EQ(WhoAt(s, T("2026-03-30T10:00:00Z")), (OnCall{"dave", "override"}));
    EXPECT_EQ(WhoAt(s, T("2026-03-30T11:59:00Z")).user, "dave");
    EXPECT_EQ(WhoAt(s, T("2026-03-30T12:00:00Z")).user, "carol");
}

TEST(ScheduleTest, ICalendarListsEachShiftInUtc) {
    Schedule s = Make(kBerlin);
    std::string ics =
        ICalendar(s, "primary, SRE", T("2026-03-28T00:00:00Z"), T("2026-03-30T00:00:00Z"));
    EXPECT_TRUE(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    EXPECT_NE(ics.find("X-WR-CALNAME:On call: primary\\, SRE\r\n"), std::string::npos);
    EXPECT_NE(
        ics.find("DTSTART:20260328T080000Z\r\nDTEND:20260329T070000Z\r\nSUMMARY:On call: bob "
                 "(primary)\r\n"),
        std::string::npos
    ) << ics;
    EXPECT_TRUE(ics.ends_with("END:VCALENDAR\r\n"));
}

TEST(ScheduleTest, BadSpecsNameTheField) {
    EXPECT_EQ(
        Field(
            R"({"time_zone":"Mars/Olympus","layers":[{"users":["a"],"start":"2026-03-01T08:00"}]})"
        ),
        "spec.time_zone"
    );
    EXPECT_EQ(
        Field(R"({"layers":[{"users":["a"],"start":"2026-02-30T08:00"}]})"), "spec.layers[0].start"
    );
    EXPECT_EQ(
        Field(R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00","rotation":"90m"}]})"),
        "spec.layers[0].rotation"
    );
    EXPECT_EQ(
        Field(R"({"layers":[{"users":[],"start":"2026-03-01T08:00"}]})"), "spec.layers[0].users"
    );
    EXPECT_EQ(
        Field(R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00","color":"red"}]})"),
        "spec.layers[0].color"
    );
    EXPECT_EQ(
        Field(
            R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00","restrictions":[{"days":["someday"],"start":"09:00","end":"17:00"}]}]})"
        ),
        "spec.layers[0].restrictions[0].days"
    );
    EXPECT_EQ(
        Field(
            R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00","restrictions":[{"start":"25:00","end":"17:00"}]}]})"
        ),
        "spec.layers[0].restrictions[0].start"
    );
    EXPECT_EQ(
        Field(
            R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00"}],"overrides":[{"user":"b","start":"2026-03-02T00:00:00Z","end":"2026-03-01T00:00:00Z"}]})"
        ),
        "spec.overrides[0].end"
    );
    EXPECT_EQ(Field(R"({"layers":[]})"), "spec.layers");
    EXPECT_EQ(Field(R"({"layers":[{"users":["a"],"start":"2026-03-01T08:00"}]})"), "(accepted)");
}

}  // namespace
}  // namespace hangar::oncall
