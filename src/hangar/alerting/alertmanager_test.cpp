#include "hangar/alerting/alertmanager.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace hangar::alerting {
namespace {

const core::TimePoint kNow = *core::ParseRfc3339("2026-12-03T12:00:00Z");

core::Result<std::vector<Alert>> Read(std::string_view body) {
    return ReadAlertmanagerWebhook(
        json::parse(body).as_object(),
        kNow,
        [](std::string_view label) -> core::Result<std::string> {
            if (label == "other") {
                return core::Fail(core::ErrorCode::kInvalidArgument, "there is no tenant other");
            }
            return std::string("ten_mine");
        }
    );
}

TEST(AlertmanagerWebhook, FiringAndResolvedAlertsBecomeHangarAlerts) {
    auto alerts = Read(R"({"version":"4","alerts":[
        {"status":"firing","labels":{"alertname":"Down","job":"x"},"annotations":{"summary":"s"},
         "startsAt":"2026-12-03T11:00:00Z","generatorURL":"http://prom/graph"},
        {"status":"resolved","labels":{"alertname":"Up"},"startsAt":"2026-12-03T10:00:00Z",
         "endsAt":"2026-12-03T11:30:00Z"},
        {"status":"resolved","labels":{"alertname":"NoEnd"},"startsAt":"2026-12-03T10:00:00Z"}]})");
    ASSERT_TRUE(alerts) << alerts.error().message;
    ASSERT_EQ(alerts->size(), 3U);
    const Alert& firing = (*alerts)[0];
    EXPECT_EQ(firing.tenant, "ten_mine");
    EXPECT_EQ(metrics::Get(firing.labels, "alertname"), "Down");
    EXPECT_EQ(firing.annotations.at("summary"), "s");
    EXPECT_EQ(core::FormatRfc3339(firing.starts_at), "2026-12-03T11:00:00.000Z");
    EXPECT_FALSE(firing.ends_at);
    EXPECT_EQ(core::FormatRfc3339(*(*alerts)[1].ends_at), "2026-12-03T11:30:00.000Z");
    EXPECT_EQ(*(*alerts)[2].ends_at, kNow) << "a resolved alert without endsAt ends now";
}

TEST(AlertmanagerWebhook, ABadPayloadNamesTheFieldAndTakesNothing) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"version":"3","alerts":[]})", "version"},
        {R"({"version":"4"})", "alerts"},
        {R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"}},7]})",
         "alerts[1]"},
        {R"({"version":"4","alerts":[{"status":"pending","labels":{"alertname":"A"}}]})",
         "alerts[0].status"},
        {R"({"version":"4","alerts":[{"status":"firing","labels":{"job":"x"}}]})",
         "alerts[0].labels.alertname"},
        {R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","n":1}}]})",
         "alerts[0].labels.n"},
        {R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":[]}]})",
         "alerts[0].annotations"},
    };
    for (const auto& [body, field] : cases) {
        auto r = Read(body);
        ASSERT_FALSE(r) << body;
        EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
    }
    auto refused = Read(
        R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","tenant":"other"}}]})"
    );
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "there is no tenant other");
}

}  // namespace
}  // namespace hangar::alerting
