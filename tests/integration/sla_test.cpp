// The monthly SLA report: a month with a known outage, a maintenance window and a monitoring
// gap, written as probe series by remote-write, gives the right minutes and the plan's credit.

#include "hangar/metrics/remote_write.hpp"

#include "fixture.hpp"
#include "metrics_helpers.hpp"

namespace hangar::testing {
namespace {

constexpr int64_t kOct = 1'790'812'800'000;  // 2026-10-01T00:00:00Z
constexpr int64_t kMin = 60'000;

int64_t At(int day, int hour, int minute) {
    return kOct + ((day - 1) * 1440 + hour * 60 + minute) * kMin;
}

class SlaTest : public ::testing::Test {
protected:
    void SetUp() override {
        s_ = std::make_unique<LiveServer>(std::vector<std::string>{
            "--provisioner", "simulated", "--metrics-retention", "400d"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto admin = s_->Admin();
        auto plan = admin.Do(
            "POST",
            "/v1/plans",
            R"({"metadata":{"name":"gold"},"spec":{"memory_mb":64,"cpu_millis":100,)"
            R"("sla":{"target_percent":99.9,"credits":[{"below_percent":99.9,"credit_percent":10},{"below_percent":99,"credit_percent":25}]}}})"
        );
        ASSERT_EQ(plan.status, 201) << plan.body;
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/products",
                    R"({"metadata":{"name":"app"},"spec":{"versions":[{"version":"1","run":{"simulated":{}}}]}})"
                )
                .status,
            201
        );
        tenant_ = s_->Tenant("sla-acme");
        for (auto* id : {&a_, &b_}) {
            auto r = admin.Do(
                "POST",
                "/v1/instances",
                json::serialize(json::object{
                    {"metadata", {{"name", id == &a_ ? "shop" : "blog"}, {"tenant", tenant_}}},
                    {"spec", {{"product", "app"}, {"plan", "gold"}}}})
            );
            ASSERT_EQ(r.status, 201) << r.body;
            *id = Str(r.Json(), {"metadata", "id"});
        }
    }
    // October's probes every 2 minutes; `value(t)` says up (1) or down (0), nullopt for no probe.
    void WriteProbes(
        const std::string& id,
        const std::string& name,
        const std::function<std::optional<double>(int64_t)>& value
    ) {
        std::vector<metrics::SeriesData> batch(1);
        batch[0].labels = {
            {"__name__", "up"},
            {"instance", id},
            {"instance_name", name},
            {"job", "hangar-probe"},
            {"product", "app"},
            {"tenant", tenant_}};
        for (int64_t t = kOct; t < At(32, 0, 0); t += 2 * kMin) {
            if (auto v = value(t)) {
                batch[0].samples.push_back({t, *v});
            }
            if (batch[0].samples.size() == 2000 || t + 2 * kMin >= At(32, 0, 0)) {
                auto r = s_->Admin().Do(
                    "POST",
                    "/api/v1/write",
                    metrics::EncodeWriteRequest(batch),
                    {{"Content-Type", "application/x-protobuf"},
                     {"Content-Encoding", "snappy"},
                     {"X-Scope-OrgID", tenant_}}
                );
                ASSERT_EQ(r.status, 204) << r.body;
                batch[0].samples.clear();
            }
        }
    }
    std::unique_ptr<LiveServer> s_;
    std::string tenant_, a_, b_;
};

json::object Row(const json::value& report, const std::string& id) {
    for (const auto& r : report.at("instances").as_array()) {
        if (r.at("instance").as_string() == id) {
            return r.as_object();
        }
    }
    return {};
}

TEST_F(SlaTest, AMonthWithAnOutageAndAMaintenanceWindowGivesTheRightMinutesAndCredit) {
    // shop: down 2026-10-10 12:00-13:30 (90 minutes) and during its maintenance on the 20th,
    // 02:00-03:00, which does not count. blog: up, but unprobed on the 5th 00:00-01:00.
    WriteProbes(a_, "shop", [](int64_t t) -> std::optional<double> {
        bool outage = t >= At(10, 12, 0) && t < At(10, 13, 30);
        bool maint = t >= At(20, 2, 0) && t < At(20, 3, 0);
        return outage || maint ? 0 : 1;
    });
    WriteProbes(b_, "blog", [](int64_t t) -> std::optional<double> {
        if (t >= At(5, 0, 0) && t < At(5, 1, 0)) {
            return std::nullopt;
        }
        return 1;
    });
    auto admin = s_->Admin();
    auto mw = admin.Do(
        "POST",
        "/v1/maintenancewindows",
        json::serialize(json::object{
            {"metadata", {{"name", "db-upgrade"}, {"tenant", tenant_}}},
            {"spec",
             {{"starts_at", "2026-10-20T02:00:00Z"},
              {"ends_at", "2026-10-20T03:00:00Z"},
              {"reason", "database upgrade"},
              {"selector", "{instance_name=\"shop\"}"}}}})
    );
    ASSERT_EQ(mw.status, 201) << mw.body;

    auto r = admin.Do("GET", "/v1/tenants/" + tenant_ + "/sla?month=2026-10");
    ASSERT_EQ(r.status, 200) << r.body;
    auto report = r.Json();
    EXPECT_EQ(Str(report, {"from"}), "2026-10-01T00:00:00.000Z");
    EXPECT_EQ(Str(report, {"to"}), "2026-11-01T00:00:00.000Z");
    json::object shop = Row(report, a_);
    ASSERT_FALSE(shop.empty()) << r.body;
    EXPECT_EQ(shop.at("minutes").as_int64(), 31 * 1440);
    EXPECT_EQ(shop.at("down_minutes").as_int64(), 90);
    EXPECT_EQ(shop.at("maintenance_minutes").as_int64(), 60);
    EXPECT_EQ(shop.at("unmonitored_minutes").as_int64(), 0);
    // (44640 - 60 - 90) / (44640 - 60) = 99.798 %: under 99.9 (10 % credit), not under 99.
    EXPECT_DOUBLE_EQ(shop.at("uptime_percent").as_double(), 99.798);
    EXPECT_EQ(shop.at("plan").as_string(), "gold");
    EXPECT_EQ(shop.at("met").as_bool(), false);
    EXPECT_EQ(shop.at("credit_percent").to_number<double>(), 10);

    json::object blog = Row(report, b_);
    EXPECT_EQ(blog.at("down_minutes").as_int64(), 0);
    // The last probe before the gap (23:58 on the 4th) speaks for 5 minutes, to 00:03; from
    // 00:04 until the probe at 01:00 the instance was unmonitored.
    EXPECT_EQ(blog.at("unmonitored_minutes").as_int64(), 56);
    EXPECT_DOUBLE_EQ(blog.at("uptime_percent").as_double(), 100);
    EXPECT_EQ(blog.at("met").as_bool(), true);
    EXPECT_EQ(blog.at("credit_percent").to_number<double>(), 0);

    std::string out, err;
    ASSERT_EQ(
        RunCli(
            {"--server",
             s_->Url(),
             "--token",
             s_->process().AdminToken(),
             "sla",
             "report",
             "--tenant",
             tenant_,
             "--month",
             "2026-10"},
            out,
            err
        ),
        0
    ) << err;
    EXPECT_NE(out.find("99.798"), std::string::npos) << out;
    EXPECT_NE(out.find("shop"), std::string::npos) << out;

    // Bad input, and another tenant.
    EXPECT_EQ(admin.Do("GET", "/v1/tenants/" + tenant_ + "/sla?month=2026-13").status, 400);
    EXPECT_EQ(admin.Do("GET", "/v1/tenants/" + tenant_ + "/sla").status, 400);
    auto future = admin.Do("GET", "/v1/tenants/" + tenant_ + "/sla?month=2999-01");
    EXPECT_EQ(future.status, 400);
    EXPECT_NE(future.body.find("has not begun"), std::string::npos);
    std::string other = s_->Tenant("sla-other");
    std::string viewer = s_->Token(other, "viewer");
    EXPECT_EQ(
        s_->As(viewer).Do("GET", "/v1/tenants/" + tenant_ + "/sla?month=2026-10").status, 404
    );
    auto bad_window = admin.Do(
        "POST",
        "/v1/maintenancewindows",
        json::serialize(json::object{
            {"metadata", {{"name", "backwards"}, {"tenant", tenant_}}},
            {"spec",
             {{"starts_at", "2026-10-20T03:00:00Z"},
              {"ends_at", "2026-10-20T02:00:00Z"},
              {"reason", "x"}}}})
    );
    EXPECT_EQ(bad_window.status, 400);
    EXPECT_NE(bad_window.body.find("must be after starts_at"), std::string::npos)
        << bad_window.body;
}

}  // namespace
}  // namespace hangar::testing

namespace hangar::testing {
namespace {

TEST(SloTest, BurnRatesAndTheErrorBudgetFollowTheProbes) {
    LiveServer s({"--provisioner", "simulated", "--slo-interval", "1s"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto admin = s.Admin();
    std::string tenant = s.Tenant("slo-acme");
    // Six hours of probes a minute apart ending now; the last ten failed.
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()
    )
                   .count();
    now -= now % 60'000;
    std::vector<metrics::SeriesData> batch(1);
    batch[0].labels = {
        {"__name__", "up"},
        {"instance", "ins_x"},
        {"instance_name", "shop"},
        {"job", "hangar-probe"},
        {"product", "app"},
        {"tenant", tenant}};
    for (int i = 360; i >= 0; --i) {
        batch[0].samples.push_back({now - i * 60'000, i < 10 ? 0.0 : 1.0});
    }
    auto w = admin.Do(
        "POST",
        "/api/v1/write",
        metrics::EncodeWriteRequest(batch),
        {{"Content-Type", "application/x-protobuf"},
         {"Content-Encoding", "snappy"},
         {"X-Scope-OrgID", tenant}}
    );
    ASSERT_EQ(w.status, 204) << w.body;
    auto bad = admin.Do(
        "POST",
        "/v1/slos",
        json::serialize(json::object{
            {"metadata", {{"name", "impossible"}, {"tenant", tenant}}},
            {"spec", {{"target_percent", 100}}}})
    );
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("spec.target_percent"), std::string::npos) << bad.body;
    auto c = admin.Do(
        "POST",
        "/v1/slos",
        json::serialize(json::object{
            {"metadata", {{"name", "shop-availability"}, {"tenant", tenant}}},
            {"spec", {{"target_percent", 99.9}, {"instance", "ins_x"}}}})
    );
    ASSERT_EQ(c.status, 201) << c.body;
    std::string id = Str(c.Json(), {"metadata", "id"});
    json::value slo;
    for (int i = 0; i < 100; ++i) {  // bounded: evaluated every second, 10 s at most
        slo = admin.Do("GET", "/v1/slos/" + id).Json();
        if (!Str(slo, {"status", "state"}).empty()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // 30 d window: 351 of 361 probes passed; 10/361 failed is 27.7× the 0.1 % budget.
    EXPECT_EQ(Str(slo, {"status", "state"}), "BudgetExhausted") << json::serialize(slo);
    EXPECT_EQ(Str(slo, {"status", "fast_burn"}), "true") << "1 h and 5 m both burn above 14.4×";
    EXPECT_EQ(Str(slo, {"status", "slow_burn"}), "true") << "6 h and 30 m both above 6×";
    EXPECT_EQ(Str(slo, {"status", "burn_rates", "5m"}), "1E3")
        << "every probe in the last 5 m failed: 1 / 0.001";
    double budget = slo.at("status").at("error_budget_remaining").to_number<double>();
    EXPECT_NEAR(budget, 1 - (10.0 / 361) / 0.001, 1e-3);
    auto series = admin.Do(
        "GET",
        "/api/v1/query?query=" +
            UrlEncode("slo_burn_rate{slo=\"shop-availability\",window=\"1h\"} > 14.4"),
        "",
        {{"X-Scope-OrgID", tenant}}
    );
    EXPECT_NE(series.body.find("\"window\":\"1h\""), std::string::npos)
        << "alert rules can use the series: " << series.body;
}

}  // namespace
}  // namespace hangar::testing
