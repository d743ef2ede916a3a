#include "hangar/alerting/grouping.hpp"

#include <gtest/gtest.h>

#include "hangar/alerting/alert.hpp"

namespace hangar::alerting {
namespace {

using std::chrono::seconds;

metrics::Labels L(std::initializer_list<metrics::Label> l) {
    metrics::Labels out(l);
    EXPECT_TRUE(metrics::NormalizeLabelSet(out));
    return out;
}

Inhibit DownInhibitsTheRest() {
    return Inhibit{
        *ParseMatchers({"alertname=\"InstanceDown\""}),
        *ParseMatchers({"alertname!=\"InstanceDown\""}),
        {"instance"}};
}

TEST(Grouping, AFiringSourceInhibitsTargetsSharingItsEqualLabels) {
    Inhibit rule = DownInhibitsTheRest();
    Inhibition in;
    in.AddFiring({&rule}, L({{"alertname", "InstanceDown"}, {"instance", "a"}}));
    EXPECT_TRUE(in.Inhibits(rule, L({{"alertname", "HighLatency"}, {"instance", "a"}}), true));
    EXPECT_FALSE(in.Inhibits(rule, L({{"alertname", "HighLatency"}, {"instance", "b"}}), true))
        << "another instance";
    EXPECT_FALSE(in.Inhibits(rule, L({{"alertname", "InstanceDown"}, {"instance", "a"}}), true))
        << "not a target";
    Inhibition none;
    EXPECT_FALSE(none.Inhibits(rule, L({{"alertname", "HighLatency"}, {"instance", "a"}}), true));
}

// A rule whose source and target overlap: an alert does not inhibit itself, but two do each other.
TEST(Grouping, AnAlertIsNotInhibitedByItselfOnly) {
    Inhibit rule{
        *ParseMatchers({"severity=\"critical\""}),
        *ParseMatchers({"severity=~\".+\""}),
        {"instance"}};
    metrics::Labels one = L({{"alertname", "A"}, {"severity", "critical"}, {"instance", "x"}});
    Inhibition in;
    in.AddFiring({&rule}, one);
    EXPECT_FALSE(in.Inhibits(rule, one, true));
    in.AddFiring({&rule}, L({{"alertname", "B"}, {"severity", "critical"}, {"instance", "x"}}));
    EXPECT_TRUE(in.Inhibits(rule, one, true));
}

TEST(Grouping, MaintenanceThenSilencesThenInhibitionMute) {
    metrics::Labels a = L({{"alertname", "Down"}, {"instance", "x"}});
    std::vector<Maintenance> mw{{"upgrade", "monthly", *ParseMatchers({"instance=\"x\""}), {}, {}}};
    std::vector<Silence> sil{
        {"sil_1", "noisy", "known issue", *ParseMatchers({"alertname=\"Down\""}), {}, {}}};
    EXPECT_EQ(MuteReason(a, mw, sil, true), "maintenance window upgrade (monthly)");
    EXPECT_EQ(MuteReason(a, {}, sil, true), "silence noisy (known issue)");
    EXPECT_EQ(MuteReason(a, {}, {}, true), "inhibited");
    EXPECT_EQ(MuteReason(a, {}, {}, false), "");
}

TEST(Grouping, TheGroupKeyIsTenantRouteAndGroupByValues) {
    metrics::Labels a = L({{"alertname", "Down"}, {"instance", "x"}, {"job", "j"}});
    EXPECT_EQ(
        GroupKey("ten_a", "route.0", {"alertname"}, false, a), "ten_a|route.0|alertname=\"Down\","
    );
    EXPECT_EQ(
        GroupKey("ten_a", "route", {"alertname", "missing"}, false, a),
        "ten_a|route|alertname=\"Down\",missing=\"\","
    );
    EXPECT_EQ(
        GroupKey("ten_a", "route", {"..."}, true, a), "ten_a|route|" + metrics::FormatLabels(a)
    );
}

// Alertmanager's timings on one group: wait, then interval on change, then repeat.
TEST(Grouping, AGroupNotifiesAfterWaitOnChangeAfterIntervalAndRepeats) {
    core::TimePoint t0 = *core::ParseRfc3339("2026-12-03T10:00:00Z");
    GroupClock g{seconds(10), seconds(60), seconds(3600), t0, {}, {}, false, ""};
    EXPECT_FALSE(DecideFlush(g, "a,", t0 + seconds(9)).due) << "group_wait";
    EXPECT_FALSE(DecideFlush(g, "", t0 + seconds(30)).due) << "nothing fires";
    EXPECT_TRUE(DecideFlush(g, "a,", t0 + seconds(10)).due);

    g.flushed = true;
    g.last_flush = g.last_notify = t0 + seconds(10);
    g.last_firing = "a,";
    EXPECT_FALSE(DecideFlush(g, "a,", t0 + seconds(100)).due) << "no change, no repeat yet";
    EXPECT_FALSE(DecideFlush(g, "a,b,", t0 + seconds(69)).due) << "group_interval";
    FlushDecision changed = DecideFlush(g, "a,b,", t0 + seconds(70));
    EXPECT_TRUE(changed.due);
    EXPECT_FALSE(changed.repeat);
    FlushDecision again = DecideFlush(g, "a,", t0 + seconds(3610));
    EXPECT_TRUE(again.due);
    EXPECT_TRUE(again.repeat) << "repeat_interval";
    EXPECT_TRUE(DecideFlush(g, "", t0 + seconds(70)).due) << "all resolved: say so";
}

}  // namespace
}  // namespace hangar::alerting
