// The same data, remote-written to Hangar and to a real Prometheus 2.42; the same queries,
// instant and range, against both; the answers must agree (values to 1e-9 relative).

#include "hangar/metrics/remote_write.hpp"

#include "fixture.hpp"
#include "metrics_data.hpp"
#include "metrics_helpers.hpp"
#include "prom_answer.hpp"
#include "prometheus_process.hpp"

namespace hangar::testing {
namespace {

class PromqlCompareTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ASSERT_TRUE(PrometheusProcess::Installed()) << "scripts/setup installs Debian's prometheus";
        dir_ = new TempDir();
        prom_ = new PrometheusProcess(dir_->path() + "/prom");
        ASSERT_TRUE(prom_->Start()) << prom_->Log();
        s_ = new LiveServer();
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        // An hour ending a minute ago (Prometheus refuses samples far behind its head).
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()
        )
                       .count();
        SyntheticOptions o;
        o.start_ms = (now / 60'000) * 60'000 - 61 * 60'000;
        start_ = o.start_ms;
        end_ = o.start_ms + 60 * 60'000;
        Client hangar = s_->Admin();
        Client prom("127.0.0.1", prom_->port());
        for (const auto& batch : SyntheticBatches(o)) {
            std::string body = metrics::EncodeWriteRequest(batch);
            std::vector<std::pair<std::string, std::string>> h = {
                {"Content-Type", "application/x-protobuf"},
                {"Content-Encoding", "snappy"},
                {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                {"X-Scope-OrgID", "compare"}};
            auto a = hangar.Do("POST", "/api/v1/write", body, h);
            ASSERT_EQ(a.status, 204) << a.body;
            auto b = prom.Do("POST", "/api/v1/write", body, h);
            ASSERT_EQ(b.status, 204) << b.body;
        }
    }
    static void TearDownTestSuite() {
        delete s_;
        delete prom_;
        delete dir_;
    }

    static std::string Check(const std::string& query, const std::string& params) {
        std::string path = "?query=" + UrlEncode(query) + params;
        bool range = params.find("step=") != std::string::npos;
        std::string ep = range ? "/api/v1/query_range" : "/api/v1/query";
        auto h = s_->Admin().Do("GET", ep + path, "", {{"X-Scope-OrgID", "compare"}});
        auto p = Client("127.0.0.1", prom_->port()).Do("GET", ep + path);
        if (p.status != 200) {
            return "Prometheus: " + p.body;
        }
        if (h.status != 200) {
            return "Hangar: " + h.body;
        }
        if (!h.Json().is_object() || !h.Json().at("data").is_object()) {
            return "Hangar's answer is not an API envelope: " + h.body.substr(0, 300);
        }
        if (!p.Json().is_object() || !p.Json().at("data").is_object()) {
            return "Prometheus's answer is not an API envelope: " + p.body.substr(0, 300);
        }
        Answer pa = Normalize(p.Json());
        ++checked_;
        answered_ += pa.empty() ? 0 : 1;
        return Diff(Normalize(h.Json()), pa);
    }
    // Agreement on empty answers proves nothing; most answers must hold data.
    static void ExpectMostAnswersHoldData() {
        EXPECT_GE(answered_ * 10, checked_ * 9)
            << answered_ << " of " << checked_ << " answers held data";
        answered_ = checked_ = 0;
    }
    static inline int answered_ = 0, checked_ = 0;

    static inline TempDir* dir_ = nullptr;
    static inline PrometheusProcess* prom_ = nullptr;
    static inline LiveServer* s_ = nullptr;
    static inline int64_t start_ = 0, end_ = 0;
};

const char* const kQueries[] = {
    "demo_requests_total",
    "demo_requests_total{code=\"500\"}",
    "demo_requests_total{instance=~\"i[0-2]\", code!=\"200\"}",
    "demo_requests_total{instance!~\"i1|i2\"}",
    "rate(demo_requests_total[5m])",
    "irate(demo_requests_total[1m])",
    "increase(demo_requests_total[10m])",
    "delta(demo_temperature[15m])",
    "idelta(demo_temperature[5m])",
    "avg_over_time(demo_temperature[10m])",
    "min_over_time(demo_temperature[10m])",
    "max_over_time(demo_temperature[10m])",
    "sum_over_time(demo_temperature[10m])",
    "count_over_time(demo_temperature[10m])",
    "quantile_over_time(0.9, demo_temperature[30m])",
    "histogram_quantile(0.9, rate(demo_latency_seconds_bucket[5m]))",
    "histogram_quantile(0.5, sum by (le) (rate(demo_latency_seconds_bucket[5m])))",
    "sum by (code) (rate(demo_requests_total[5m]))",
    "sum without (instance) (demo_requests_total)",
    "avg(demo_temperature)",
    "max by (room) (demo_temperature)",
    "min(demo_temperature)",
    "count(demo_requests_total)",
    "topk(3, demo_requests_total)",
    "demo_requests_total offset 10m",
    "rate(demo_requests_total[5m] offset 5m)",
    "demo_requests_total / 100",
    "demo_requests_total > 500",
    "demo_requests_total > bool 500",
    "demo_requests_total{code=\"500\"} / ignoring(code) demo_requests_total{code=\"200\"}",
    "demo_requests_total / on(instance) group_left sum by (instance) (demo_requests_total)",
    "absent(nonexistent_metric{job=\"x\"})",
    "absent(demo_temperature)",
    "scalar(sum(demo_temperature))",
    "time()",
    "time() - 100",
    "demo_temperature * 2 + 1",
    "-demo_temperature",
    "demo_requests_total and on(instance) demo_requests_total{code=\"500\"} > 300",
    "demo_temperature unless on(room) demo_temperature{room=\"r1\"}",
    "2 ^ 3 ^ 2 - 1",
};

// Many equal values: which tie makes topk's cut is decided by Prometheus's heap over the series
// in its order; Hangar runs the same heap. (In range queries Prometheus 2.42 picks differently
// at some steps; docs/metrics.md lists it.)
const char* const kTieQueries[] = {
    "topk(4, demo_latency_seconds_bucket)",
    "bottomk by (instance) (2, demo_latency_seconds_bucket)",
};

TEST_F(PromqlCompareTest, InstantQueriesAgreeWithPrometheus) {
    // On and off the sample grid, early (little lookback data) and late.
    for (int64_t t :
         {end_,
          end_ - 7 * 60'000,
          end_ - 23 * 60'000 + 17'321,
          start_ + 10 * 60'000,
          start_ + 30'000}) {
        std::string params = fmt::format("&time={}.{:03d}", t / 1000, t % 1000);
        for (const char* q : kQueries) {
            EXPECT_EQ(Check(q, params), "") << q << " at " << t;
        }
        for (const char* q : kTieQueries) {
            EXPECT_EQ(Check(q, params), "") << q << " at " << t;
        }
    }
    ExpectMostAnswersHoldData();
}

TEST_F(PromqlCompareTest, RangeQueriesAgreeWithPrometheus) {
    for (auto [from, step] : {std::pair{start_ + 5 * 60'000, 60'000}, std::pair{start_, 37'000}}) {
        std::string params =
            fmt::format("&start={}&end={}&step={}s", from / 1000, end_ / 1000, step / 1000);
        for (const char* q : kQueries) {
            EXPECT_EQ(Check(q, params), "") << q << params;
        }
    }
    ExpectMostAnswersHoldData();
}

TEST_F(PromqlCompareTest, SeriesAndLabelsAgreeWithPrometheus) {
    for (const std::string& path : std::vector<std::string>{
             "/api/v1/labels",
             "/api/v1/label/instance/values",
             "/api/v1/label/__name__/values",
             "/api/v1/series?match[]=" + UrlEncode("demo_requests_total{code=\"500\"}")}) {
        auto h = s_->Admin().Do("GET", path, "", {{"X-Scope-OrgID", "compare"}});
        auto p = Client("127.0.0.1", prom_->port()).Do("GET", path);
        EXPECT_EQ(h.body, p.body) << path;
    }
}

}  // namespace
}  // namespace hangar::testing
