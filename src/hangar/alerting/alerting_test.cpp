#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "hangar/alerting/alert.hpp"
#include "hangar/alerting/events.hpp"
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

// PagerDuty Events v2 bodies and the reason each bad one is refused with.
TEST(Events, ReadEventChecksWhatPagerDutyChecks) {
    struct Case {
        std::string body, error;
    };
    for (const auto& [body, error] : std::initializer_list<Case>{
             {R"({"event_action":"trigger","dedup_key":"k","payload":{"summary":"disk full","source":"db1","severity":"error"}})",
              ""},
             {R"({"event_action":"page"})",
              "'event_action' must be one of trigger, acknowledge, resolve"},
             {R"({"event_action":"resolve"})", "'dedup_key' is required to acknowledge or resolve"},
             {R"({"event_action":"acknowledge","dedup_key":"k"})", ""},
             {R"({"event_action":"trigger"})", "'payload' is missing or blank"},
             {R"({"event_action":"trigger","payload":{"source":"x","severity":"info"}})",
              "'payload.summary' is missing or blank (at most 1024 characters)"},
             {R"({"event_action":"trigger","payload":{"summary":"s","severity":"info"}})",
              "'payload.source' is missing or blank"},
             {R"({"event_action":"trigger","payload":{"summary":"s","source":"x","severity":"P1"}})",
              "'payload.severity' must be one of critical, error, warning, info"},
         }) {
        auto e = ReadEvent(boost::json::parse(body).as_object());
        EXPECT_EQ(e ? "" : e.error().message, error) << body;
    }
    auto e = ReadEvent(
        boost::json::parse(
            R"({"event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info","custom_details":{"a":1}}})"
        )
            .as_object()
    );
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->dedup_key.empty()) << "a trigger without a dedup key gets one";
    EXPECT_EQ(e->details, R"({"a":1})");
}

}  // namespace
}  // namespace hangar::alerting
