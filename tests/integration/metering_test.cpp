// Usage metering through OpenMeter's API (POST /api/v1/events, /api/v1/meters, the meter query):
// every aggregation and window size against values worked out by hand, calendar days across DST
// changes in Europe/Berlin and America/New_York, deduplication, tenants kept to their own usage,
// bad input refused whole, and a kill -9 in the middle of a burst: every acknowledged event is
// counted exactly once after the restart, and resent batches are not counted twice.

#include <atomic>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <sys/wait.h>

#include "hangar/core/clock.hpp"

#include "fixture.hpp"

namespace hangar::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
const Headers kBatch = {{"Content-Type", "application/cloudevents-batch+json"}};

json::object Event(
    const std::string& id,
    const std::string& type,
    const std::string& subject,
    const std::string& time,
    json::object data
) {
    return json::object{
        {"specversion", "1.0"},
        {"id", id},
        {"source", "test"},
        {"type", type},
        {"subject", subject},
        {"time", time},
        {"data", std::move(data)}};
}

class MeteringTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer({"--provisioner", "simulated"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }
    static void Meter(const std::string& body) {
        auto r = s_->Admin().Do("POST", "/api/v1/meters", body);
        ASSERT_EQ(r.status, 200) << r.body;
    }
    static HttpResponse Post(const json::array& events, const std::string& token = "") {
        Client c = token.empty() ? s_->Admin() : s_->As(token);
        return c.Do("POST", "/api/v1/events", json::serialize(events), kBatch);
    }
    // The query's rows, waiting until a meter just defined has taken the events.
    static json::array Query(const std::string& meter, const std::string& query) {
        auto r = s_->Admin().Do("GET", "/api/v1/meters/" + meter + "/query?" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.status == 200 ? r.Json().at("data").as_array() : json::array();
    }
    static double Value(const json::value& row) { return row.at("value").to_number<double>(); }
    static LiveServer* s_;
};
LiveServer* MeteringTest::s_ = nullptr;

TEST_F(MeteringTest, EveryAggregationAndWindowAgreesWithTheHandWorkedValues) {
    // Tokens per model: at 10:00:10 gpt 5, 10:00:50 gpt 7, 10:01:30 claude 3, 11:30 gpt 10,
    // and the next day at 09:00 claude 4. Users: u1, u2, u1, u3, u1.
    struct E {
        const char* time;
        const char* model;
        int tokens;
        const char* user;
    };
    const E events[] = {
        {"2026-05-04T10:00:10Z", "gpt", 5, "u1"},
        {"2026-05-04T10:00:50Z", "gpt", 7, "u2"},
        {"2026-05-04T10:01:30Z", "claude", 3, "u1"},
        {"2026-05-04T11:30:00Z", "gpt", 10, "u3"},
        {"2026-05-05T09:00:00Z", "claude", 4, "u1"},
    };
    for (const char* agg : {"SUM", "COUNT", "UNIQUE_COUNT", "AVG", "MIN", "MAX", "LATEST"}) {
        std::string slug = fmt::format("tokens_{}", agg);
        for (char& c : slug) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        std::string value = std::string(agg) == "COUNT"          ? ""
                            : std::string(agg) == "UNIQUE_COUNT" ? R"(,"valueProperty":"$.user")"
                                                                 : R"(,"valueProperty":"$.tokens")";
        Meter(fmt::format(
            R"({{"slug":"{}","eventType":"llm","aggregation":"{}"{},"groupBy":{{"model":"$.model"}}}})",
            slug,
            agg,
            value
        ));
    }
    json::array batch;
    int n = 0;
    for (const E& e : events) {
        batch.push_back(Event(
            fmt::format("agg-{}", n++),
            "llm",
            "ten_a",
            e.time,
            json::object{{"model", e.model}, {"tokens", e.tokens}, {"user", e.user}}
        ));
    }
    ASSERT_EQ(Post(batch).status, 204);
    ASSERT_EQ(Post(batch).status, 204) << "a resent batch is taken";
    std::string range = "from=2026-05-04T00:00:00Z&to=2026-05-06T00:00:00Z";
    // The whole range, one row (no window): value per aggregation.
    std::map<std::string, double> whole = {
        {"tokens_sum", 29},
        {"tokens_count", 5},
        {"tokens_unique_count", 3},
        {"tokens_avg", 5.8},
        {"tokens_min", 3},
        {"tokens_max", 10},
        {"tokens_latest", 4}};
    for (const auto& [slug, want] : whole) {
        auto rows = Query(slug, range);
        ASSERT_EQ(rows.size(), 1U) << slug;
        EXPECT_DOUBLE_EQ(Value(rows[0]), want) << slug << " counts each event once";
        EXPECT_EQ(Str(rows[0], {"windowStart"}).substr(0, 19), "2026-05-04T00:00:00");
        EXPECT_TRUE(rows[0].at("subject").is_null());
    }
    // MINUTE: 10:00 holds 5+7, 10:01 holds 3, 11:30 10, next day 4.
    auto minutes = Query("tokens_sum", range + "&windowSize=MINUTE");
    ASSERT_EQ(minutes.size(), 4U);
    EXPECT_EQ(Str(minutes[0], {"windowStart"}).substr(0, 19), "2026-05-04T10:00:00");
    EXPECT_EQ(Str(minutes[0], {"windowEnd"}).substr(0, 19), "2026-05-04T10:01:00");
    EXPECT_DOUBLE_EQ(Value(minutes[0]), 12);
    EXPECT_DOUBLE_EQ(Value(minutes[1]), 3);
    // HOUR: 10:00 15 (5+7+3), 11:00 10, 09:00 next day 4; AVG in the 10:00 hour is 5.
    auto hours = Query("tokens_sum", range + "&windowSize=HOUR");
    ASSERT_EQ(hours.size(), 3U);
    EXPECT_DOUBLE_EQ(Value(hours[0]), 15);
    EXPECT_DOUBLE_EQ(Value(hours[1]), 10);
    EXPECT_DOUBLE_EQ(Value(Query("tokens_avg", range + "&windowSize=HOUR")[0]), 5);
    EXPECT_DOUBLE_EQ(Value(Query("tokens_unique_count", range + "&windowSize=HOUR")[0]), 2);
    EXPECT_DOUBLE_EQ(Value(Query("tokens_latest", range + "&windowSize=HOUR")[0]), 3);
    // DAY: 25 and 4; MONTH: 29.
    auto days = Query("tokens_sum", range + "&windowSize=DAY");
    ASSERT_EQ(days.size(), 2U);
    EXPECT_DOUBLE_EQ(Value(days[0]), 25);
    EXPECT_DOUBLE_EQ(Value(days[1]), 4);
    auto months = Query("tokens_sum", range + "&windowSize=MONTH");
    ASSERT_EQ(months.size(), 1U);
    EXPECT_EQ(Str(months[0], {"windowStart"}).substr(0, 19), "2026-05-01T00:00:00");
    EXPECT_DOUBLE_EQ(Value(months[0]), 29);
    // Grouped by model, filtered, per subject.
    auto by_model = Query("tokens_sum", range + "&groupBy=model");
    ASSERT_EQ(by_model.size(), 2U);
    EXPECT_EQ(Str(by_model[0], {"groupBy", "model"}), "claude");
    EXPECT_DOUBLE_EQ(Value(by_model[0]), 7);
    EXPECT_DOUBLE_EQ(Value(by_model[1]), 22);
    EXPECT_DOUBLE_EQ(Value(Query("tokens_max", range + "&filterGroupBy%5Bmodel%5D=claude")[0]), 4);
    auto mine = Query("tokens_count", range + "&subject=ten_a");
    ASSERT_EQ(mine.size(), 1U);
    EXPECT_EQ(Str(mine[0], {"subject"}), "ten_a");
    EXPECT_TRUE(Query("tokens_count", range + "&subject=ten_b").empty());
    // A range that ends inside the data: only what is before `to` (exclusive).
    EXPECT_DOUBLE_EQ(
        Value(Query("tokens_sum", "from=2026-05-04T10:00:00Z&to=2026-05-04T10:01:00Z")[0]), 12
    );
    // A meter defined after the events counts them too (recomputed from the kept events).
    Meter(
        R"({"slug":"late_tokens","eventType":"llm","aggregation":"SUM","valueProperty":"$.tokens"})"
    );
    auto late = Query("late_tokens", range);
    ASSERT_EQ(late.size(), 1U);
    EXPECT_DOUBLE_EQ(Value(late[0]), 29);
    auto subjects = s_->Admin().Do("GET", "/api/v1/meters/tokens_sum/subjects");
    EXPECT_EQ(subjects.body, R"(["ten_a"])");
}

TEST_F(MeteringTest, CalendarDaysFollowTheTimeZoneAcrossDaylightSavingChanges) {
    Meter(R"({"slug":"ticks","eventType":"tick","aggregation":"COUNT"})");
    // One event every hour on the hour, 2026-03-27 00:00Z to 2026-04-01 00:00Z (Berlin springs
    // forward on 29 March) and 2026-10-30 to 2026-11-04 (Berlin falls back on 25 October...
    // New York on 1 November).
    auto burst = [&](const std::string& subject, int64_t from, int hours) {
        json::array batch;
        for (int h = 0; h < hours; ++h) {
            int64_t t = from + h * 3600;
            batch.push_back(Event(
                fmt::format("{}-{}", subject, t),
                "tick",
                subject,
                core::FormatRfc3339(core::TimePoint(std::chrono::seconds(t))),
                json::object{}
            ));
        }
        ASSERT_EQ(Post(batch).status, 204);
    };
    burst("berlin", 1774569600, 5 * 24);   // 2026-03-27T00:00:00Z
    burst("newyork", 1793232000, 6 * 24);  // 2026-10-29T00:00:00Z
    // Berlin: local days from 28 March to 31 March. 29 March has 23 hours.
    auto berlin = Query(
        "ticks",
        "from=2026-03-27T23:00:00Z&to=2026-03-31T22:00:00Z&windowSize=DAY&windowTimeZone=Europe/"
        "Berlin&subject=berlin"
    );
    ASSERT_EQ(berlin.size(), 4U);
    EXPECT_EQ(Str(berlin[0], {"windowStart"}).substr(0, 19), "2026-03-27T23:00:00");  // 28th, +1
    EXPECT_EQ(Str(berlin[1], {"windowStart"}).substr(0, 19), "2026-03-28T23:00:00");  // 29th
    EXPECT_EQ(Str(berlin[1], {"windowEnd"}).substr(0, 19), "2026-03-29T22:00:00");    // +2
    EXPECT_DOUBLE_EQ(Value(berlin[0]), 24);
    EXPECT_DOUBLE_EQ(Value(berlin[1]), 23) << "the day of the change has 23 hours";
    EXPECT_DOUBLE_EQ(Value(berlin[2]), 24);
    // New York falls back on 1 November: that local day has 25 hours.
    auto ny = Query(
        "ticks",
        "from=2026-10-30T04:00:00Z&to=2026-11-03T05:00:00Z&windowSize=DAY&windowTimeZone=America/"
        "New_York&subject=newyork"
    );
    ASSERT_EQ(ny.size(), 4U);
    EXPECT_EQ(Str(ny[2], {"windowStart"}).substr(0, 19), "2026-11-01T04:00:00");  // EDT midnight
    EXPECT_EQ(Str(ny[2], {"windowEnd"}).substr(0, 19), "2026-11-02T05:00:00");    // EST midnight
    EXPECT_DOUBLE_EQ(Value(ny[2]), 25) << "the day of the change has 25 hours";
    EXPECT_DOUBLE_EQ(Value(ny[1]), 24);
    // The same events in UTC days: 24 each.
    auto utc = Query(
        "ticks", "from=2026-10-30T00:00:00Z&to=2026-11-02T00:00:00Z&windowSize=DAY&subject=newyork"
    );
    ASSERT_EQ(utc.size(), 3U);
    for (const auto& r : utc) {
        EXPECT_DOUBLE_EQ(Value(r), 24);
    }
    // A month in Berlin starts at local midnight.
    auto month = Query(
        "ticks",
        "from=2026-02-28T23:00:00Z&to=2026-04-30T22:00:00Z&windowSize=MONTH&windowTimeZone=Europe/"
        "Berlin&subject=berlin"
    );
    ASSERT_EQ(month.size(), 2U);
    EXPECT_EQ(Str(month[0], {"windowStart"}).substr(0, 19), "2026-02-28T23:00:00");  // CET
    EXPECT_EQ(Str(month[1], {"windowStart"}).substr(0, 19), "2026-03-31T22:00:00");  // CEST
    EXPECT_DOUBLE_EQ(Value(month[0]), 118);
    EXPECT_DOUBLE_EQ(Value(month[1]), 2) << "22:00Z and 23:00Z on 31 March are April in Berlin";
}

TEST_F(MeteringTest, BadInputIsRefusedWholeWithTheEventAndFieldNamed) {
    Meter(R"({"slug":"calls","eventType":"call","aggregation":"COUNT"})");
    json::array batch;
    for (int i = 0; i < 3; ++i) {
        batch.push_back(
            Event(fmt::format("bad-{}", i), "call", "ten_x", "2026-06-01T00:00:00Z", json::object{})
        );
    }
    batch[2].as_object()["time"] = "yesterday";
    auto r = Post(batch);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.headers["content-type"], "application/problem+json");
    EXPECT_NE(r.body.find("events[2].time"), std::string::npos) << r.body;
    EXPECT_TRUE(Query("calls", "from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z").empty())
        << "nothing of a refused batch is taken";
    struct Case {
        std::string content_type, body, why;
    };
    std::vector<Case> cases = {
        {"application/json; charset=utf-8", "{}", "invalid content type"},
        {"application/cloudevents-batch+json", "{}", "must be a JSON array"},
        {"application/cloudevents-batch+json", "[]", "holds no event"},
        {"application/cloudevents+json", "[1", "JSON"},
        {"application/cloudevents+json",
         R"({"specversion":"1.0","id":"x","source":"s","type":"t"})",
         "event.subject"},
        {"application/cloudevents+json",
         R"({"specversion":"0.3","id":"x","source":"s","type":"t","subject":"a"})",
         "specversion"},
        {"application/cloudevents+json",
         R"({"specversion":"1.0","id":"x","source":"s","type":"t","subject":"a","data":[1]})",
         "event.data"},
        {"application/cloudevents+json",
         R"({"specversion":"1.0","id":"","source":"s","type":"t","subject":"a"})",
         "event.id"},
    };
    for (const auto& c : cases) {
        auto bad =
            s_->Admin().Do("POST", "/api/v1/events", c.body, {{"Content-Type", c.content_type}});
        EXPECT_EQ(bad.status, 400) << c.body;
        EXPECT_NE(bad.body.find(c.why), std::string::npos) << c.body << " -> " << bad.body;
    }
    EXPECT_EQ(s_->Anonymous().Do("POST", "/api/v1/events", "[]", kBatch).status, 401);
    // Meters: OpenMeter's rules.
    for (const auto& [body, why] : std::vector<std::pair<std::string, std::string>>{
             {R"({"slug":"c2","eventType":"x","aggregation":"COUNT","valueProperty":"$.v"})",
              "value_property"},
             {R"({"slug":"s2","eventType":"x","aggregation":"SUM"})", "value_property"},
             {R"({"slug":"s3","eventType":"x","aggregation":"SUM","valueProperty":"tokens"})",
              "JSON path"},
             {R"({"slug":"Bad-Slug","eventType":"x","aggregation":"COUNT"})", "slug"},
             {R"({"slug":"m4","eventType":"x","aggregation":"MEDIAN"})", "aggregation"},
             {R"({"slug":"calls","eventType":"x","aggregation":"COUNT"})", "exists"},
         }) {
        auto bad = s_->Admin().Do("POST", "/api/v1/meters", body);
        EXPECT_GE(bad.status, 400) << body;
        EXPECT_LT(bad.status, 500) << body;
        EXPECT_NE(bad.body.find(why), std::string::npos) << body << " -> " << bad.body;
    }
    // Queries.
    for (const auto& [query, why] : std::vector<std::pair<std::string, std::string>>{
             {"windowSize=WEEK", "windowSize"},
             {"windowTimeZone=Mars/Olympus", "time zone"},
             {"windowTimeZone=../../etc/passwd", "time zone"},
             {"from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z", "before"},
             {"from=soon", "RFC 3339"},
             {"groupBy=model", "invalid group by"},
             {"filterGroupBy%5Bmodel%5D=x", "invalid filter group by"},
         }) {
        auto bad = s_->Admin().Do("GET", "/api/v1/meters/calls/query?" + query);
        EXPECT_EQ(bad.status, 400) << query << " -> " << bad.body;
        EXPECT_NE(bad.body.find(why), std::string::npos) << query << " -> " << bad.body;
    }
    EXPECT_EQ(s_->Admin().Do("GET", "/api/v1/meters/nope/query").status, 404);
}

TEST_F(MeteringTest, ATenantReportsAndReadsOnlyItsOwnUsage) {
    Meter(R"({"slug":"jobs","eventType":"job","aggregation":"COUNT"})");
    std::string acme = s_->Tenant("meter-acme");
    std::string globex = s_->Tenant("meter-globex");
    std::string acme_op = s_->Token(acme, "operator");
    std::string globex_op = s_->Token(globex, "operator");
    auto own = Post(json::array{Event("j1", "job", acme, "2026-06-01T00:00:00Z", {})}, acme_op);
    EXPECT_EQ(own.status, 204) << own.body;
    auto other = Post(json::array{Event("j2", "job", acme, "2026-06-01T00:00:00Z", {})}, globex_op);
    EXPECT_EQ(other.status, 403) << "another tenant's subject";
    EXPECT_NE(other.body.find("events[0].subject"), std::string::npos);
    auto reserved = Post(
        json::array{Event("j3", "hangar.push.sent", acme, "2026-06-01T00:00:00Z", {})}, acme_op
    );
    EXPECT_EQ(reserved.status, 403);
    std::string range = "from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z";
    auto mine = s_->As(acme_op).Do("GET", "/api/v1/meters/jobs/query?" + range);
    ASSERT_EQ(mine.status, 200);
    EXPECT_DOUBLE_EQ(Value(mine.Json().at("data").as_array().at(0)), 1);
    auto theirs = s_->As(globex_op).Do("GET", "/api/v1/meters/jobs/query?" + range);
    EXPECT_TRUE(theirs.Json().at("data").as_array().empty()) << theirs.body;
    EXPECT_EQ(
        s_->As(globex_op)
            .Do("GET", "/api/v1/meters/jobs/query?subject=" + acme + "&" + range)
            .status,
        403
    );
    EXPECT_EQ(
        s_->As(acme_op)
            .Do("POST", "/api/v1/meters", R"({"slug":"x","eventType":"x","aggregation":"COUNT"})")
            .status,
        403
    );
    auto events = s_->As(globex_op).Do("GET", "/api/v1/events?from=2026-05-31T00:00:00Z");
    EXPECT_EQ(events.body, "[]") << "another tenant's events are not listed";
}

TEST_F(MeteringTest, EntitlementsBurnUsageThroughGrantsAndAnswerTheirValue) {
    Meter(R"({"slug":"ai_tokens","eventType":"ai","aggregation":"SUM","valueProperty":"$.tokens"})"
    );
    auto feature = s_->Admin().Do(
        "POST",
        "/v1/features",
        R"({"metadata":{"name":"ai-tokens"},"spec":{"key":"ai_tokens","meter_slug":"ai_tokens"}})"
    );
    ASSERT_EQ(feature.status, 201) << feature.body;
    std::string t = s_->Tenant("ent-acme");
    // 100 tokens a month (issued at each reset), and a grant of 50 from 1 March for 3 months.
    auto ent = s_->Admin().Do(
        "POST",
        "/api/v1/subjects/" + t + "/entitlements",
        R"({"type":"metered","featureKey":"ai_tokens","usagePeriod":{"interval":"MONTH","anchor":"2026-01-01T00:00:00Z"},"issueAfterReset":{"amount":100}})"
    );
    ASSERT_EQ(ent.status, 201) << ent.body;
    auto grant = s_->Admin().Do(
        "POST",
        "/api/v1/subjects/" + t + "/entitlements/ai_tokens/grants",
        R"({"amount":50,"priority":2,"effectiveAt":"2026-03-01T00:00:00Z","expiration":{"duration":"MONTH","count":3}})"
    );
    ASSERT_EQ(grant.status, 201) << grant.body;
    auto post = [&](const std::string& id, const std::string& time, int tokens) {
        ASSERT_EQ(
            Post(json::array{Event(id, "ai", t, time, json::object{{"tokens", tokens}})}).status,
            204
        );
    };
    post("e1", "2026-03-05T10:00:00Z", 120);
    post("e2", "2026-03-20T10:00:00Z", 20);
    auto value = [&](const std::string& at) {
        auto r = s_->Admin().Do(
            "GET", "/api/v1/subjects/" + t + "/entitlements/ai_tokens/value?time=" + at
        );
        EXPECT_EQ(r.status, 200) << r.body;
        return r.Json();
    };
    // March: the issued 100 burns first (priority 1), then 40 of the grant's 50.
    auto march = value("2026-03-25T00:00:00Z");
    EXPECT_TRUE(march.at("hasAccess").as_bool());
    EXPECT_DOUBLE_EQ(march.at("balance").to_number<double>(), 10);
    EXPECT_DOUBLE_EQ(march.at("usage").to_number<double>(), 140);
    EXPECT_DOUBLE_EQ(march.at("overage").to_number<double>(), 0);
    // Before the grant took effect: 100 issued; none used yet in the period.
    auto feb = value("2026-02-15T00:00:00Z");
    EXPECT_DOUBLE_EQ(feb.at("balance").to_number<double>(), 100);
    // 1 April resets: 100 issued again; the grant keeps min(max rollover 0, ...) = 0.
    auto april = value("2026-04-02T00:00:00Z");
    EXPECT_DOUBLE_EQ(april.at("balance").to_number<double>(), 100);
    EXPECT_DOUBLE_EQ(april.at("usage").to_number<double>(), 0);
    post("e3", "2026-04-12T10:00:00Z", 130);
    auto spent = value("2026-04-15T00:00:00Z");
    EXPECT_FALSE(spent.at("hasAccess").as_bool());
    EXPECT_DOUBLE_EQ(spent.at("balance").to_number<double>(), 0);
    EXPECT_DOUBLE_EQ(spent.at("overage").to_number<double>(), 30);
    // A product's own check with a tenant token: its own subject only.
    std::string op = s_->Token(t, "operator");
    auto check =
        s_->As(op).Do("GET", "/v1/entitlements/check?feature=ai_tokens&time=2026-04-15T00:00:00Z");
    ASSERT_EQ(check.status, 200) << check.body;
    EXPECT_FALSE(check.Json().at("hasAccess").as_bool());
    EXPECT_EQ(Str(check.Json(), {"subject"}), t);
    EXPECT_EQ(
        s_->As(op).Do("GET", "/v1/entitlements/check?feature=ai_tokens&subject=ten_other").status,
        403
    );
    // A boolean entitlement through a plan, and a static one with its config.
    ASSERT_EQ(
        s_->Admin()
            .Do("POST",
                "/v1/plans",
                R"({"metadata":{"name":"gold"},"spec":{"memory_mb":512,"cpu_millis":500}})")
            .status,
        201
    );
    ASSERT_EQ(
        s_->Admin()
            .Do("POST",
                "/v1/entitlements",
                R"({"metadata":{"name":"gold-sso"},"spec":{"feature":"sso","plan":"gold","type":"boolean"}})"
            )
            .status,
        201
    );
    std::string gold = s_->Tenant("ent-gold");
    ASSERT_EQ(
        s_->Admin()
            .Do("PUT", "/v1/tenants/" + gold, R"({"spec":{"display_name":"g","plan":"gold"}})")
            .status,
        200
    );
    auto sso = s_->Admin().Do("GET", "/v1/entitlements/check?feature=sso&subject=" + gold);
    EXPECT_TRUE(sso.Json().at("hasAccess").as_bool()) << sso.body;
    auto none = s_->Admin().Do("GET", "/v1/entitlements/check?feature=sso&subject=" + t);
    EXPECT_FALSE(none.Json().at("hasAccess").as_bool()) << "no plan, no entitlement: " << none.body;
    auto stat = s_->Admin().Do(
        "POST",
        "/api/v1/subjects/" + t + "/entitlements",
        R"({"type":"static","featureKey":"branding","config":"{\"logo\":true}"})"
    );
    ASSERT_EQ(stat.status, 201) << stat.body;
    auto cfg = s_->Admin().Do("GET", "/api/v1/subjects/" + t + "/entitlements/branding/value");
    EXPECT_EQ(Str(cfg.Json(), {"config"}), R"({"logo":true})");
    // Bad input.
    for (const auto& [body, why] : std::vector<std::pair<std::string, std::string>>{
             {R"({"type":"metered","featureKey":"x"})", "usage_period"},
             {R"({"type":"fancy","featureKey":"x"})", "spec.type"},
             {R"({"type":"static","featureKey":"y"})", "spec.config"},
             {R"({"type":"static","featureKey":"y","config":"{not json"})", "JSON"},
             {R"({"type":"boolean","featureKey":"ai_tokens"})", "already"},
         }) {
        auto bad = s_->Admin().Do("POST", "/api/v1/subjects/" + t + "/entitlements", body);
        EXPECT_GE(bad.status, 400) << body;
        EXPECT_LT(bad.status, 500) << body;
        EXPECT_NE(bad.body.find(why), std::string::npos) << body << " -> " << bad.body;
    }
    auto bad_grant = s_->Admin().Do(
        "POST",
        "/api/v1/subjects/" + t + "/entitlements/ai_tokens/grants",
        R"({"amount":-5,"effectiveAt":"2026-03-01T00:00:00Z"})"
    );
    EXPECT_EQ(bad_grant.status, 400);
    EXPECT_NE(bad_grant.body.find("amount"), std::string::npos) << bad_grant.body;
    EXPECT_EQ(
        s_->As(op)
            .Do("POST",
                "/api/v1/subjects/" + t + "/entitlements/ai_tokens/grants",
                R"({"amount":5,"effectiveAt":"2026-03-01T00:00:00Z"})")
            .status,
        403
    ) << "a tenant does not grant itself usage";
}

TEST_F(MeteringTest, OpenMetersOwnJavaScriptClientWorksAgainstHangar) {
    // @openmeter/sdk from npm (web/package.json): meter, ingest, resend, query, list, an error,
    // an entitlement and its value, each checked by tests/metering/openmeter_sdk.mjs.
    TempDir dir;
    pid_t pid = SpawnLogged(
        {"/usr/bin/node",
         std::string(HANGAR_SOURCE_DIR) + "/tests/metering/openmeter_sdk.mjs",
         s_->Url(),
         s_->process().AdminToken()},
        dir.path() + "/log"
    );
    ASSERT_GT(pid, 0);
    int status = 0;
    waitpid(pid, &status, 0);
    std::ifstream log(dir.path() + "/log");
    std::string said((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said;
    EXPECT_NE(said.find("ok"), std::string::npos) << said;
}

TEST(MeteringCrashTest, EveryAcknowledgedEventIsCountedExactlyOnceAfterAKill) {
    LiveServer s({"--provisioner", "simulated"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    ASSERT_EQ(
        s.Admin()
            .Do("POST",
                "/api/v1/meters",
                R"({"slug":"hits","eventType":"hit","aggregation":"COUNT"})")
            .status,
        200
    );
    constexpr int kBatches = 400, kPerBatch = 100;
    auto batch_body = [](int b) {
        json::array batch;
        for (int i = 0; i < kPerBatch; ++i) {
            batch.push_back(Event(
                fmt::format("hit-{}-{}", b, i),
                "hit",
                "ten_crash",
                "2026-07-01T12:00:00Z",
                json::object{{"n", i}}
            ));
        }
        return json::serialize(batch);
    };
    std::vector<std::string> bodies;
    for (int b = 0; b < kBatches; ++b) {
        bodies.push_back(batch_body(b));
    }
    // Four senders; the server is killed while they send.
    std::atomic<int> next{0}, acked{0};
    std::vector<std::thread> senders;
    std::string token = s.process().AdminToken();
    int port = s.port();
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&, port] {
            Client c("127.0.0.1", port);
            c.SetToken(token);
            for (int b = next++; b < kBatches; b = next++) {
                if (c.Do("POST", "/api/v1/events", bodies[b], kBatch).status == 204) {
                    ++acked;
                }
            }
        });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (acked.load() < kBatches / 4 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    s.process().Kill();
    for (auto& t : senders) {
        t.join();
    }
    int acknowledged = acked.load();
    ASSERT_GT(acknowledged, 0);
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string range = "from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z";
    auto count = [&] {
        auto r = s.Admin().Do("GET", "/api/v1/meters/hits/query?" + range);
        EXPECT_EQ(r.status, 200) << r.body;
        auto data = r.Json().at("data").as_array();
        return data.empty() ? 0.0 : data[0].at("value").to_number<double>();
    };
    double after_crash = count();
    EXPECT_GE(after_crash, acknowledged * kPerBatch) << "an acknowledged event was lost";
    EXPECT_LE(after_crash, kBatches * kPerBatch);
    EXPECT_EQ(static_cast<int64_t>(after_crash) % kPerBatch, 0) << "a batch was half taken";
    // Every batch sent again, acknowledged or not: each event counted once.
    Client c = s.Admin();
    for (const auto& body : bodies) {
        ASSERT_EQ(c.Do("POST", "/api/v1/events", body, kBatch).status, 204);
    }
    EXPECT_DOUBLE_EQ(count(), kBatches * kPerBatch);
}

}  // namespace
}  // namespace hangar::testing
