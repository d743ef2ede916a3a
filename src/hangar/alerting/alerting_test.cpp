#include <gtest/gtest.h>

#include "hangar/alerting/alert.hpp"
#include "hangar/alerting/template.hpp"

namespace hangar::alerting {
namespace {

metrics::Labels L(std::initializer_list<metrics::Label> l) {
    metrics::Labels out(l);
    EXPECT_TRUE(metrics::NormalizeLabelSet(out));
    return out;
}

TEST(TemplateTest, ExpandsLabelsValuesAndFunctions) {
    auto labels = L({{"instance", "shop"}, {"queue", "mail"}});
    EXPECT_EQ(
        *ExpandTemplate("{{ $labels.queue }} holds {{ $value }}", labels, 500), "mail holds 500"
    );
    EXPECT_EQ(*ExpandTemplate("{{$labels.missing}}|", labels, 0), "|");
    EXPECT_EQ(*ExpandTemplate("{{ $value | humanize }}", labels, 1234567), "1.235M");
    EXPECT_EQ(*ExpandTemplate("{{ humanize $value }}", labels, 0.005), "5m");
    EXPECT_EQ(*ExpandTemplate("{{ $value | humanize1024 }}", labels, 3 * 1024 * 1024), "3Mi");
    EXPECT_EQ(*ExpandTemplate("{{ $value | humanizePercentage }}", labels, 0.925), "92.5%");
    EXPECT_EQ(*ExpandTemplate("{{ $value | humanizeDuration }}", labels, 3725), "1h 2m 5s");
    EXPECT_EQ(*ExpandTemplate("{{ $labels.instance | toUpper }}", labels, 0), "SHOP");
    EXPECT_EQ(*ExpandTemplate("no actions", labels, 0), "no actions");
    EXPECT_FALSE(ExpandTemplate("{{ $value | shout }}", labels, 1));
    EXPECT_FALSE(ExpandTemplate("{{ $value ", labels, 1));
    EXPECT_FALSE(ExpandTemplate("{{ $labels.bad-name }}", labels, 1));
    EXPECT_FALSE(ExpandTemplate("{{ .Value }}", labels, 1));
    EXPECT_TRUE(CheckTemplate("{{ $labels.x | humanize }}"));
    EXPECT_FALSE(CheckTemplate("{{ $labels.x | nope }}"));
}

TEST(MatcherTest, ParsesAlertmanagerMatchersIncludingBareValues) {
    auto labels = L({{"alertname", "InstanceDown"}, {"severity", "critical"}});
    auto m = ParseMatchers({"severity=critical", "alertname=~\"Instance.*\"", "team!=\"db\""});
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_TRUE(Matches(labels, *m));
    auto anchored = ParseMatchers({"alertname=~\"Instance\""});
    ASSERT_TRUE(anchored);
    EXPECT_FALSE(Matches(labels, *anchored)) << "regexes are anchored";
    auto empty = ParseMatchers({"team=\"\""});
    ASSERT_TRUE(empty) << "a matcher that accepts the empty value is fine alone";
    EXPECT_TRUE(Matches(labels, *empty));
    EXPECT_FALSE(ParseMatchers({"severity"}));
    EXPECT_FALSE(ParseMatchers({"a=~\"(\""}));
    EXPECT_FALSE(ParseMatchers({"a=\"b\",c=\"d\""})) << "one matcher per string";
}

TEST(PriorityTest, SeverityMapsToPriorityAndAPriorityLabelWins) {
    EXPECT_EQ(PriorityOf(L({{"severity", "critical"}})), "P1");
    EXPECT_EQ(PriorityOf(L({{"severity", "error"}})), "P2");
    EXPECT_EQ(PriorityOf(L({{"severity", "high"}})), "P2");
    EXPECT_EQ(PriorityOf(L({{"severity", "warning"}})), "P3");
    EXPECT_EQ(PriorityOf(L({{"severity", "info"}})), "P4");
    EXPECT_EQ(PriorityOf(L({})), "P4");
    EXPECT_EQ(PriorityOf(L({{"severity", "warning"}, {"priority", "P1"}})), "P1");
    EXPECT_EQ(Fingerprint(L({{"a", "1"}})), Fingerprint(L({{"a", "1"}})));
    EXPECT_NE(Fingerprint(L({{"a", "1"}})), Fingerprint(L({{"a", "2"}})));
    EXPECT_EQ(Fingerprint(L({{"a", "1"}})).size(), 16u);
}

}  // namespace
}  // namespace hangar::alerting
