#include "hangar/metrics/exposition.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace hangar::metrics {
namespace {

// Real-world text: node_exporter, client_golang and a hand-written exporter's quirks.
constexpr std::string_view kText = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.5",} 4773
rpc_duration_seconds{quantile="0.99"} NaN
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP go_gc_help Help with a \\ backslash and a \n newline.
# TYPE go_gc_help gauge
go_gc_help -Inf
)";

TEST(ExpositionTest, ParsesTheReferenceExampleWithEscapesHistogramsSummariesAndSpecialValues) {
    auto r = ParseExposition(kText);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->samples.size(), 16u);
    const auto& first = r->samples[0];
    EXPECT_EQ(
        first.labels,
        (Labels{{"__name__", "http_requests_total"}, {"code", "200"}, {"method", "post"}})
    );
    EXPECT_EQ(first.value, 1027);
    EXPECT_EQ(first.timestamp_ms, 1395066363000);
    EXPECT_EQ(r->samples[1].value, 3);
    EXPECT_EQ(Get(r->samples[2].labels, "path"), "C:\\DIR\\FILE.TXT");
    EXPECT_EQ(Get(r->samples[2].labels, "error"), "Cannot find file:\n\"FILE.TXT\"");
    EXPECT_FALSE(r->samples[3].timestamp_ms.has_value());
    EXPECT_TRUE(std::isinf(r->samples[4].value));
    EXPECT_EQ(r->samples[4].timestamp_ms, -3982045);
    EXPECT_EQ(Get(r->samples[7].labels, "le"), "+Inf");
    EXPECT_TRUE(std::isnan(r->samples[12].value));
    EXPECT_EQ(r->samples[13].value, 1.7560473e+07);
    EXPECT_TRUE(std::isinf(r->samples[15].value) && r->samples[15].value < 0);

    ASSERT_GE(r->families.size(), 6u);
    EXPECT_EQ(r->families[0].name, "http_requests_total");
    EXPECT_EQ(r->families[0].type, MetricType::kCounter);
    EXPECT_EQ(r->families[0].help, "The total number of HTTP requests.");
    bool hist = false;
    for (const auto& f : r->families) {
        if (f.name == "http_request_duration_seconds") {
            hist = f.type == MetricType::kHistogram;
        }
        if (f.name == "go_gc_help") {
            EXPECT_EQ(f.help, "Help with a \\ backslash and a \n newline.");
        }
        EXPECT_NE(f.name, "http_request_duration_seconds_bucket")
            << "suffixes belong to their family";
    }
    EXPECT_TRUE(hist);
}

TEST(ExpositionTest, ErrorsNameTheLineAndWhatWasExpected) {
    struct Case {
        std::string_view text, error;
    };
    const Case cases[] = {
        {"ok 1\nbad{a=\"1\" 2\n", "line 2: expected ',' or '}' after a label"},
        {"m{a=1} 2", "line 1: expected '\"' to start a label value"},
        {"m{a\"1\"} 2", "line 1: expected '=' after label name \"a\""},
        {"m{a=\"1} 2", "line 1: label value is not closed with '\"'"},
        {"m{a=\"\\t\"} 2", "line 1: invalid escape \\t in a label value"},
        {"m 1.2.3", "line 1: invalid value \"1.2.3\""},
        {"m", "line 1: expected a value"},
        {"m 1 12x", "line 1: invalid timestamp \"12x\""},
        {"m 1 12 extra", "line 1: unexpected text after the timestamp"},
        {"# TYPE m kind\n", "line 1: unknown metric type \"kind\""},
        {"# TYPE m counter\n# TYPE m gauge\n", "line 2: second # TYPE line for m"},
        {"m{a=\"1\",a=\"2\"} 1", "line 1: label \"a\" appears twice"},
        {"{a=\"1\"} 1", "line 1: expected a metric name"},
        {"# TYPE h histogram\nh_bucket 1\n",
         "line 2: histogram bucket h_bucket needs a numeric le label"},
        {"# TYPE s summary\ns 1\n", "line 2: summary s needs a numeric quantile label"},
        {"m-x 1", "line 1: unexpected '-' after the metric name and labels"},
    };
    for (const auto& c : cases) {
        auto r = ParseExposition(c.text);
        ASSERT_FALSE(r) << c.text;
        EXPECT_EQ(r.error().message, c.error) << c.text;
    }
}

TEST(ExpositionTest, FloatsFollowGo) {
    EXPECT_EQ(*ParsePromFloat("1e3"), 1000);
    EXPECT_EQ(*ParsePromFloat("-0.5"), -0.5);
    EXPECT_EQ(*ParsePromFloat("+2"), 2);
    EXPECT_EQ(*ParsePromFloat("0x1p-2"), 0.25);
    EXPECT_TRUE(std::isinf(*ParsePromFloat("Inf")));
    EXPECT_TRUE(std::isnan(*ParsePromFloat("nan")));
    EXPECT_FALSE(ParsePromFloat(""));
    EXPECT_FALSE(ParsePromFloat("--1"));
    EXPECT_FALSE(ParsePromFloat("1e999"));
}

TEST(ExpositionTest, CrlfLinesAndBlankLinesAreFine) {
    auto r = ParseExposition("a 1\r\n\r\n  \nb{x=\"y\"} 2\r\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->samples.size(), 2u);
}

}  // namespace
}  // namespace hangar::metrics
