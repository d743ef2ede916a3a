#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "hangar/metrics/promql_ast.hpp"
#include "hangar/metrics/promql_engine.hpp"

namespace hangar::metrics::promql {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'699'999'980'000;  // a whole minute
constexpr int64_t kAt = kT0 + 600'000;      // where most queries look

// Every expected value below is worked out by hand in the comment beside it.
class PromqlTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/hangar-promql-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        TsdbOptions o;
        o.dir = dir_;
        db_ = std::move(*Tsdb::Open(o));
        auto put = [](std::vector<LabelView> l, std::vector<Sample> s) {
            WriteBatch b;
            b.Add(l, s);
            ASSERT_EQ(db_->Append("acme", b)->samples, s.size());
        };
        std::vector<Sample> a, b, c;
        for (int i = 0; i <= 40; ++i) {  // every 15 s for 10 minutes
            a.push_back({kT0 + i * 15'000, 10.0 * i});
            b.push_back({kT0 + i * 15'000, 5.0 * (i < 20 ? i : i - 20)});  // resets at i = 20
            c.push_back({kT0 + i * 15'000, 1.0 * i});
        }
        put({{"__name__", "http_requests_total"}, {"instance", "a"}, {"job", "api"}}, a);
        put({{"__name__", "http_requests_total"}, {"instance", "b"}, {"job", "api"}}, b);
        put({{"__name__", "http_requests_total"}, {"instance", "c"}, {"job", "web"}}, c);
        std::vector<Sample> temp;
        double tv[] = {3, 1, 4, 1, 5, 9, 2, 6};
        for (int i = 0; i < 8; ++i) {
            temp.push_back({kT0 + i * 60'000, tv[i]});
        }
        put({{"__name__", "temp"}, {"room", "x"}}, temp);
        put({{"__name__", "hist_bucket"}, {"job", "api"}, {"le", "0.1"}}, {{kAt, 10}});
        put({{"__name__", "hist_bucket"}, {"job", "api"}, {"le", "0.5"}}, {{kAt, 30}});
        put({{"__name__", "hist_bucket"}, {"job", "api"}, {"le", "1"}}, {{kAt, 45}});
        put({{"__name__", "hist_bucket"}, {"job", "api"}, {"le", "+Inf"}}, {{kAt, 50}});
        put({{"__name__", "machine_info"}, {"instance", "a"}, {"role", "db"}}, {{kAt, 1}});
        put({{"__name__", "machine_info"}, {"instance", "b"}, {"role", "web"}}, {{kAt, 1}});
        WriteBatch other;
        std::vector<LabelView> ol = {
            {"__name__", "http_requests_total"}, {"instance", "z"}, {"job", "api"}};
        std::vector<Sample> os = {{kAt, 1e6}};
        other.Add(ol, os);
        ASSERT_TRUE(db_->Append("globex", other));
    }
    static void TearDownTestSuite() {
        db_.reset();
        fs::remove_all(dir_);
    }

    // Instant query → {"{labels}": value}.
    std::map<std::string, double> Q(std::string_view q, int64_t t = kAt) {
        Engine eng(*db_);
        auto r = eng.Instant("acme", q, t);
        EXPECT_TRUE(r) << q << ": " << r.error().message;
        std::map<std::string, double> out;
        if (!r) {
            return out;
        }
        if (r->type == ValueType::kScalar) {
            out["scalar"] = r->scalar.v;
        }
        for (const auto& s : r->series) {
            out[FormatLabels(s.labels)] = s.samples.back().v;
        }
        return out;
    }
    double One(std::string_view q, int64_t t = kAt) {
        auto m = Q(q, t);
        EXPECT_EQ(m.size(), 1u) << q;
        return m.empty() ? NAN : m.begin()->second;
    }
    std::string Error(std::string_view q) {
        Engine eng(*db_);
        auto r = eng.Instant("acme", q, kAt);
        return r ? "no error" : r.error().message;
    }

    static inline std::string dir_;
    static inline std::unique_ptr<Tsdb> db_;
};

TEST_F(PromqlTest, SelectorsMatchWithAllFourOperatorsAndStayInTheTenant) {
    EXPECT_EQ(Q("http_requests_total").size(), 3u) << "globex's series is not acme's";
    EXPECT_EQ(
        Q("http_requests_total{instance=\"a\"}"
        )["http_requests_total{instance=\"a\", job=\"api\"}"],
        400
    );
    EXPECT_EQ(Q("http_requests_total{instance=~\"a|c\"}").size(), 2u);
    EXPECT_EQ(
        Q("http_requests_total{instance!~\"a|c\"}").begin()->first,
        "http_requests_total{instance=\"b\", job=\"api\"}"
    );
    EXPECT_EQ(Q("http_requests_total{job!=\"api\"}").begin()->second, 40);
    EXPECT_EQ(Q("{__name__=~\"http_.*\", job=\"web\"}").size(), 1u);
}

TEST_F(PromqlTest, LookbackIsFiveMinutesInclusiveAndOffsetShiftsTime) {
    EXPECT_EQ(Q("http_requests_total", kAt + 300'000).size(), 3u)
        << "the last sample is exactly 5 m old";
    EXPECT_TRUE(Q("http_requests_total", kAt + 300'001).empty());
    EXPECT_EQ(One("http_requests_total{instance=\"a\"} offset 1m"), 360);  // i = 36
    EXPECT_TRUE(Q("http_requests_total", kT0 - 1).empty());
}

TEST_F(PromqlTest, RateIncreaseAndDeltaExtrapolateAsPrometheusDoes) {
    // [1m] at kAt holds i = 36..40 (ends included): 360..400, exactly 60 s apart at the edges.
    EXPECT_DOUBLE_EQ(One("increase(http_requests_total{instance=\"a\"}[1m])"), 40);
    EXPECT_DOUBLE_EQ(One("rate(http_requests_total{instance=\"a\"}[1m])"), 40.0 / 60);
    // [50s] holds i = 37..40: 30 over 45 s; 5 s to the range start (< 1.1 × 15 s) is
    // extrapolated, so 30 × 50 / 45.
    EXPECT_DOUBLE_EQ(One("increase(http_requests_total{instance=\"a\"}[50s])"), 30.0 * 50 / 45);
    // b resets from 95 to 0 at i = 20: over [10m] the increase is 95 + 100.
    EXPECT_DOUBLE_EQ(One("increase(http_requests_total{instance=\"b\"}[10m])"), 195);
    EXPECT_DOUBLE_EQ(One("rate(http_requests_total{instance=\"b\"}[10m])"), 195.0 / 600);
    // irate: the last two samples, 390 → 400 in 15 s; after b's reset, the last value.
    EXPECT_DOUBLE_EQ(One("irate(http_requests_total{instance=\"a\"}[1m])"), 10.0 / 15);
    EXPECT_DOUBLE_EQ(
        One("irate(http_requests_total{instance=\"b\"}[1m])", kT0 + 20 * 15'000), 0.0 / 15
    );
    // temp at 2..7 m: 4 1 5 9 2 6; delta = 6 - 4 over exactly the range.
    EXPECT_DOUBLE_EQ(One("delta(temp[5m])", kT0 + 420'000), 2);
    EXPECT_TRUE(Q("rate(http_requests_total{instance=\"a\"}[10s])").empty())
        << "one sample: no rate";
    EXPECT_EQ(Q("rate(http_requests_total[1m])").begin()->first, "{instance=\"a\", job=\"api\"}")
        << "the name goes";
}

TEST_F(PromqlTest, OverTimeFunctions) {
    const int64_t t = kT0 + 420'000;  // 4 1 5 9 2 6
    EXPECT_DOUBLE_EQ(One("avg_over_time(temp[5m])", t), 27.0 / 6);
    EXPECT_DOUBLE_EQ(One("sum_over_time(temp[5m])", t), 27);
    EXPECT_DOUBLE_EQ(One("min_over_time(temp[5m])", t), 1);
    EXPECT_DOUBLE_EQ(One("max_over_time(temp[5m])", t), 9);
    EXPECT_DOUBLE_EQ(One("count_over_time(temp[5m])", t), 6);
    // sorted 1 2 4 5 6 9: φ = 0.5 → rank 2.5 → (4 + 5) / 2; φ = 0.9 → rank 4.5 → (6 + 9) / 2.
    EXPECT_DOUBLE_EQ(One("quantile_over_time(0.5, temp[5m])", t), 4.5);
    EXPECT_DOUBLE_EQ(One("quantile_over_time(0.9, temp[5m])", t), 7.5);
    EXPECT_TRUE(std::isinf(One("quantile_over_time(2, temp[5m])", t)));
}

TEST_F(PromqlTest, HistogramQuantileInterpolatesWithinTheBucket) {
    // 50 observations; rank 25 falls in (0.1, 0.5] holding 20, 15 into it: 0.1 + 0.4 × 15/20.
    auto r = Q("histogram_quantile(0.5, hist_bucket)");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r.begin()->first, "{job=\"api\"}");
    EXPECT_DOUBLE_EQ(r.begin()->second, 0.4);
    // rank 49.5 lands in +Inf: the answer is the highest finite bound.
    EXPECT_DOUBLE_EQ(One("histogram_quantile(0.99, hist_bucket)"), 1);
    // rank 5 in the first bucket, which starts at 0: 0.1 × 5 / 10.
    EXPECT_DOUBLE_EQ(One("histogram_quantile(0.1, hist_bucket)"), 0.05);
}

TEST_F(PromqlTest, Aggregations) {
    // At kAt: a = 400, b = 100, c = 40.
    auto by_job = Q("sum by (job) (http_requests_total)");
    EXPECT_EQ(by_job["{job=\"api\"}"], 500);
    EXPECT_EQ(by_job["{job=\"web\"}"], 40);
    EXPECT_EQ(Q("sum(http_requests_total) without (instance)")["{job=\"api\"}"], 500);
    EXPECT_DOUBLE_EQ(One("avg(http_requests_total)"), 180);
    EXPECT_EQ(One("min(http_requests_total)"), 40);
    EXPECT_EQ(One("max(http_requests_total)"), 400);
    EXPECT_EQ(One("count(http_requests_total)"), 3);
    auto top = Q("topk(2, http_requests_total)");
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top["http_requests_total{instance=\"a\", job=\"api\"}"], 400)
        << "topk keeps the series' labels";
    EXPECT_EQ(top["http_requests_total{instance=\"b\", job=\"api\"}"], 100);
    EXPECT_EQ(Q("topk by (job) (1, http_requests_total)").size(), 2u);
    EXPECT_TRUE(Q("topk(0, http_requests_total)").empty());
}

TEST_F(PromqlTest, ArithmeticComparisonAndVectorMatching) {
    EXPECT_EQ(Q("http_requests_total / 10")["{instance=\"a\", job=\"api\"}"], 40);
    EXPECT_EQ(Q("1000 - http_requests_total")["{instance=\"c\", job=\"web\"}"], 960);
    auto gt = Q("http_requests_total > 99");
    EXPECT_EQ(gt.size(), 2u);
    EXPECT_EQ(gt["http_requests_total{instance=\"b\", job=\"api\"}"], 100)
        << "a filter keeps the name and value";
    auto lt = Q("99 < http_requests_total");
    EXPECT_EQ(lt["http_requests_total{instance=\"a\", job=\"api\"}"], 400)
        << "the vector's value, even on the right";
    auto b = Q("http_requests_total > bool 99");
    EXPECT_EQ(b.size(), 3u);
    EXPECT_EQ(b["{instance=\"c\", job=\"web\"}"], 0);
    EXPECT_EQ(One("2 ^ 3 ^ 2"), 512) << "right-associative";
    EXPECT_EQ(One("-2 ^ 2"), -4);
    EXPECT_EQ(One("1 + 2 * 3"), 7);
    EXPECT_EQ(One("7 % 4 == bool 3"), 1);

    auto joined = Q("http_requests_total * on (instance) group_left (role) machine_info");
    ASSERT_EQ(joined.size(), 2u);
    EXPECT_EQ(joined["{instance=\"a\", job=\"api\", role=\"db\"}"], 400);
    EXPECT_EQ(joined["{instance=\"b\", job=\"api\", role=\"web\"}"], 100);
    auto same = Q("http_requests_total - ignoring (job) http_requests_total");
    EXPECT_EQ(same.size(), 3u);
    EXPECT_EQ(same["{instance=\"a\", job=\"api\"}"], 0);
    EXPECT_EQ(Q("http_requests_total + on (instance) machine_info")["{instance=\"a\"}"], 401)
        << "on() keeps only its labels";
    EXPECT_NE(
        Error("http_requests_total + on (job) http_requests_total")
            .find("many-to-many matching not allowed"),
        std::string::npos
    );
    EXPECT_EQ(Q("http_requests_total and on (instance) machine_info").size(), 2u);
    EXPECT_EQ(Q("http_requests_total unless on (instance) machine_info").size(), 1u);
    EXPECT_EQ(Q("machine_info or http_requests_total").size(), 5u);
}

TEST_F(PromqlTest, AbsentScalarTimeAndVector) {
    auto a = Q("absent(nope{job=\"x\", env=~\"p.*\"})");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a.begin()->first, "{job=\"x\"}");
    EXPECT_EQ(a.begin()->second, 1);
    EXPECT_TRUE(Q("absent(http_requests_total)").empty());
    EXPECT_EQ(Q("scalar(sum(http_requests_total))")["scalar"], 540);
    EXPECT_TRUE(std::isnan(Q("scalar(http_requests_total)")["scalar"]));
    EXPECT_EQ(Q("time()")["scalar"], kAt / 1000.0);
    EXPECT_EQ(Q("vector(3)")["{}"], 3);
}

TEST_F(PromqlTest, RangeQueriesEvaluateAtEveryStep) {
    Engine eng(*db_);
    auto r = eng.Range(
        "acme", "rate(http_requests_total{instance=\"a\"}[1m])", kT0 + 300'000, kAt, 60'000
    );
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->series.size(), 1u);
    ASSERT_EQ(r->series[0].samples.size(), 6u);
    for (const auto& s : r->series[0].samples) {
        EXPECT_DOUBLE_EQ(s.v, 40.0 / 60);
    }
    auto sum = eng.Range("acme", "sum by (job) (http_requests_total)", kT0, kAt, 150'000);
    ASSERT_TRUE(sum);
    ASSERT_EQ(sum->series.size(), 2u);
    EXPECT_EQ(sum->series[0].samples.size(), 5u);
    EXPECT_EQ(sum->series[0].samples.back().v, 500);
    auto scalar = eng.Range("acme", "time()", kT0, kT0 + 2000, 1000);
    ASSERT_TRUE(scalar);
    EXPECT_EQ(scalar->series.at(0).samples.size(), 3u);
    EXPECT_FALSE(eng.Range("acme", "temp[5m]", kT0, kAt, 1000));
    EXPECT_FALSE(eng.Range("acme", "temp", kT0, kAt, 0));
    EXPECT_FALSE(eng.Range("acme", "temp", kT0, kT0 + 11'001'000, 1000)) << "11,000 points at most";
}

TEST_F(PromqlTest, ParseErrorsSayWhereAndWhat) {
    EXPECT_EQ(Error("sum("), "1:5: parse error: unexpected end of input");
    EXPECT_EQ(
        Error("rate(temp)"),
        "1:1: parse error: expected type range vector in call to function \"rate\", got instant "
        "vector"
    );
    EXPECT_EQ(
        Error("{job=~\".*\"}"),
        "1:1: parse error: vector selector must contain at least one non-empty matcher"
    );
    EXPECT_EQ(
        Error("1 > 2"), "1:3: parse error: comparisons between scalars must use BOOL modifier"
    );
    EXPECT_EQ(Error("nosuch(temp)"), "1:1: parse error: unknown function with name \"nosuch\"");
    EXPECT_EQ(Error("temp[5m:1m]"), "1:8: parse error: subqueries are not supported");
    EXPECT_EQ(
        Error("temp{a=~\"(\"}"),
        "1:9: parse error: invalid regular expression \"(\" for label a: missing ): ("
    );
    EXPECT_EQ(Error("temp @ 100"), "1:6: parse error: the @ modifier is not supported");
    EXPECT_EQ(
        Error("sum(temp[5m])"),
        "1:1: parse error: expected type instant vector in aggregation expression, got range vector"
    );
    EXPECT_EQ(
        Error("temp offset 5m [1m]"),
        "1:16: parse error: the range goes before offset: foo[5m] offset 1h"
    );
    EXPECT_EQ(Error("\"unterminated"), "1:1: parse error: unterminated quoted string");
    EXPECT_EQ(Error(""), "query is empty");
    EXPECT_EQ(
        Error("stddev(temp)"),
        "1:1: parse error: aggregation \"stddev\" is not in Hangar's PromQL subset"
    );
}

// 5,000 levels once killed the server with a stack overflow; each shape is refused by name.
TEST_F(PromqlTest, DeepNestingIsRefusedNotAStackOverflow) {
    auto repeat = [](std::string_view s, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) {
            out += s;
        }
        return out;
    };
    std::string limit = fmt::format("the query nests deeper than {} levels", kMaxQueryDepth);
    for (const std::string& q : {
             repeat("(", 5000) + "1" + repeat(")", 5000),
             repeat("sum(", 5000) + "temp" + repeat(")", 5000),
             repeat("abs(", 5000) + "temp" + repeat(")", 5000),
             repeat("-", 5000) + "1",
             "1" + repeat(" + 1", 10000),
             "2" + repeat(" ^ 2", 10000),
             repeat("(", 5000),
         }) {
        auto r = Parse(q);
        ASSERT_FALSE(r) << q.substr(0, 40);
        EXPECT_NE(r.error().message.find(limit), std::string::npos) << r.error().message;
    }
    // Nesting within the limit still parses and evaluates.
    auto ok = Parse(repeat("(", 100) + "1" + repeat(")", 100));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(Parse("1" + repeat(" + 1", 100)));
}

TEST_F(PromqlTest, DurationsParseAndPrint) {
    EXPECT_EQ(ParseDuration("1h30m"), 5'400'000);
    EXPECT_EQ(ParseDuration("250ms"), 250);
    EXPECT_EQ(ParseDuration("1d"), 86'400'000);
    EXPECT_FALSE(ParseDuration("30m1h"));
    EXPECT_FALSE(ParseDuration("5"));
    EXPECT_FALSE(ParseDuration("5x"));
    EXPECT_EQ(FormatDuration(5'400'000), "1h30m");
}

}  // namespace
}  // namespace hangar::metrics::promql
