#include "hangar/core/clock.hpp"

#include <gtest/gtest.h>

namespace hangar::core {

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
    auto t = ParseRfc3339("2026-11-23T08:00:00.123Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(FormatRfc3339(*t), "2026-11-23T08:00:00.123Z");
}

TEST(Rfc3339, AcceptsOffsetsAndNoFraction) {
    auto a = ParseRfc3339("2026-11-23T09:30:00+01:30");
    auto b = ParseRfc3339("2026-11-23T08:00:00Z");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(
        FormatRfc3339(*ParseRfc3339("2024-02-29T23:59:59.5-00:00")), "2024-02-29T23:59:59.500Z"
    );
}

TEST(Rfc3339, RejectsMalformedTimes) {
    for (const char* bad :
         {"",
          "2026-11-23",
          "2026-13-01T00:00:00Z",
          "2026-02-30T00:00:00Z",
          "2026-11-23T25:00:00Z",
          "2026-11-23T08:00:00",
          "2026-11-23T08:00:00.Z",
          "2026-11-23T08:00:00Zjunk",
          "yesterday"}) {
        EXPECT_FALSE(ParseRfc3339(bad)) << bad;
    }
}

// Found by fuzzing: years past 2262 overflowed the nanosecond clock (undefined behaviour).
TEST(Rfc3339, RefusesYearsTheClockCannotHold) {
    EXPECT_FALSE(ParseRfc3339("5999-03-29T01:29:00+05:45"));
    EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z"));
    EXPECT_TRUE(ParseRfc3339("2199-12-31T23:59:59Z"));
    EXPECT_FALSE(ParseDuration("99999999d"));
    EXPECT_TRUE(ParseDuration("36500d"));
}

TEST(Duration, ParsesUnits) {
    EXPECT_EQ(ParseDuration("30s")->count(), 30);
    EXPECT_EQ(ParseDuration("15m")->count(), 900);
    EXPECT_EQ(ParseDuration("2h")->count(), 7200);
    EXPECT_EQ(ParseDuration("30d")->count(), 30 * 86400);
    for (const char* bad : {"", "s", "10", "-5m", "5w", "1.5h", "99999999999d"}) {
        EXPECT_FALSE(ParseDuration(bad)) << bad;
    }
}

TEST(FakeClock, AdvancesOnlyWhenTold) {
    FakeClock c(*ParseRfc3339("2026-01-01T00:00:00Z"));
    auto t0 = c.Now();
    EXPECT_EQ(c.Now(), t0);
    c.Advance(std::chrono::minutes(5));
    EXPECT_EQ(FormatRfc3339(c.Now()), "2026-01-01T00:05:00.000Z");
}

}  // namespace hangar::core
