// The metrics API end to end: remote-write in (from our encoder and from a real Prometheus),
// Prometheus-compatible queries out, per-tenant isolation, bad input, and kill -9 mid-ingest.

#include <atomic>
#include <cmath>
#include <thread>

#include <signal.h>

#include "hangar/metrics/remote_write.hpp"

#include "fixture.hpp"
#include "metrics_helpers.hpp"
#include "prometheus_process.hpp"

namespace hangar::testing {
namespace {

using metrics::SeriesData;

class MetricsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer({"--self-scrape", "1s"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        acme_ = s_->Tenant("metrics-acme");
        globex_ = s_->Tenant("metrics-globex");
        acme_writer_ = s_->Token(acme_, "operator");
        acme_viewer_ = s_->Token(acme_, "viewer");
        globex_viewer_ = s_->Token(globex_, "viewer");
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }
    static HttpResponse Write(
        const std::string& token,
        const std::vector<SeriesData>& series,
        std::vector<std::pair<std::string, std::string>> headers = {}
    ) {
        headers.emplace_back("Content-Type", "application/x-protobuf");
        headers.emplace_back("Content-Encoding", "snappy");
        headers.emplace_back("X-Prometheus-Remote-Write-Version", "0.1.0");
        return s_->As(token).Do(
            "POST", "/api/v1/write", metrics::EncodeWriteRequest(series), headers
        );
    }
    static inline LiveServer* s_ = nullptr;
    static inline std::string acme_, globex_, acme_writer_, acme_viewer_, globex_viewer_;
};

TEST_F(MetricsTest, RemoteWrittenSamplesAreQueryableByTheirTenantOnly) {
    const int64_t t0 = 1'700'000'000'000;
    std::vector<SeriesData> in = {
        {{{"__name__", "rw_requests_total"}, {"job", "shop"}, {"path", "/a"}},
         {{t0, 1}, {t0 + 15'000, 4}, {t0 + 30'000, 10}}},
        {{{"__name__", "rw_requests_total"}, {"job", "shop"}, {"path", "/b"}}, {{t0, 2}}},
    };
    auto w = Write(acme_writer_, in);
    ASSERT_EQ(w.status, 204) << w.body;

    auto r = s_->As(acme_viewer_)
                 .Do("GET",
                     "/api/v1/query?query=" + UrlEncode("rw_requests_total{path=\"/a\"}") +
                         "&time=1700000030");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(
        r.body,
        R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rw_requests_total","job":"shop","path":"/a"},"value":[1700000030,"10"]}]}})"
    );
    auto range = s_->As(acme_viewer_)
                     .Do("GET",
                         "/api/v1/query_range?query=" + UrlEncode("sum(rw_requests_total)") +
                             "&start=1700000000&end=1700000030&step=15s");
    ASSERT_EQ(range.status, 200) << range.body;
    EXPECT_EQ(
        range.body,
        R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"3"],[1700000015,"6"],[1700000030,"12"]]}]}})"
    );

    auto other =
        s_->As(globex_viewer_).Do("GET", "/api/v1/query?query=rw_requests_total&time=1700000030");
    ASSERT_EQ(other.status, 200);
    EXPECT_EQ(other.body, R"({"status":"success","data":{"resultType":"vector","result":[]}})")
        << "another tenant sees nothing";
    auto sneaky =
        s_->As(globex_viewer_)
            .Do("GET", "/api/v1/query?query=rw_requests_total", "", {{"X-Scope-OrgID", acme_}});
    EXPECT_EQ(sneaky.status, 403) << sneaky.body;
    auto admin = s_->Admin().Do(
        "GET",
        "/api/v1/query?query=rw_requests_total&time=1700000030",
        "",
        {{"X-Scope-OrgID", acme_}}
    );
    EXPECT_EQ(admin.Json().at("data").at("result").as_array().size(), 2u) << admin.body;

    auto series =
        s_->As(acme_viewer_).Do("GET", "/api/v1/series?match[]=" + UrlEncode("{job=\"shop\"}"));
    EXPECT_EQ(
        series.body,
        R"({"status":"success","data":[{"__name__":"rw_requests_total","job":"shop","path":"/a"},{"__name__":"rw_requests_total","job":"shop","path":"/b"}]})"
    );
    auto labels = s_->As(acme_viewer_).Do("GET", "/api/v1/labels");
    EXPECT_EQ(labels.body, R"({"status":"success","data":["__name__","job","path"]})");
    auto values = s_->As(acme_viewer_).Do("GET", "/api/v1/label/path/values");
    EXPECT_EQ(values.body, R"({"status":"success","data":["/a","/b"]})");
    // Grafana posts its queries as a form.
    auto post = s_->As(acme_viewer_)
                    .Do("POST",
                        "/api/v1/query",
                        "query=" + UrlEncode("count(rw_requests_total)") + "&time=1700000000",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(
        post.body,
        R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"2"]}]}})"
    );
}

TEST_F(MetricsTest, BadInputGetsAPreciseErrorAndLosesNothing) {
    auto c = s_->As(acme_writer_);
    auto notsnappy = c.Do(
        "POST",
        "/api/v1/write",
        "hello",
        {{"Content-Encoding", "snappy"}, {"Content-Type", "application/x-protobuf"}}
    );
    EXPECT_EQ(notsnappy.status, 400);
    EXPECT_NE(notsnappy.body.find("snappy"), std::string::npos) << notsnappy.body;
    EXPECT_EQ(
        c.Do("POST",
             "/api/v1/write",
             "x",
             {{"Content-Encoding", "gzip"}, {"Content-Type", "application/x-protobuf"}}
        ).status,
        415
    );
    EXPECT_EQ(
        c.Do("POST", "/api/v1/write", "x", {{"Content-Type", "application/json"}}).status, 415
    );
    EXPECT_EQ(Write(acme_viewer_, {{{{"__name__", "x"}}, {{1, 1}}}}).status, 403)
        << "viewers read, operators write";
    EXPECT_EQ(s_->Anonymous().Do("POST", "/api/v1/write", "x").status, 401);

    const int64_t t = 1'700'000'100'000;
    ASSERT_EQ(Write(acme_writer_, {{{{"__name__", "ooo"}}, {{t, 1}}}}).status, 204);
    auto late = Write(
        acme_writer_, {{{{"__name__", "ooo"}}, {{t - 1000, 2}}}, {{{"__name__", "ooo2"}}, {{t, 5}}}}
    );
    EXPECT_EQ(late.status, 400);
    EXPECT_NE(
        late.body.find("stored 1 samples, refused 1: out-of-order sample for ooo{}"),
        std::string::npos
    ) << late.body;
    auto kept = c.Do("GET", "/api/v1/query?query=ooo2&time=1700000100");
    EXPECT_NE(kept.body.find("\"5\""), std::string::npos)
        << "the rest of the batch landed: " << kept.body;
    auto badname = Write(acme_writer_, {{{{"__name__", "bad-name"}}, {{t, 1}}}});
    EXPECT_EQ(badname.status, 400);
    EXPECT_NE(badname.body.find("invalid metric name \\\"bad-name\\\""), std::string::npos)
        << badname.body;

    auto q = c.Do("GET", "/api/v1/query?query=" + UrlEncode("sum(rate(x[5m])"));
    EXPECT_EQ(q.status, 400);
    EXPECT_EQ(
        q.body,
        R"({"status":"error","errorType":"bad_data","error":"1:16: parse error: expected \")\", got end of input"})"
    );
    EXPECT_EQ(
        c.Do("GET", "/api/v1/query").body,
        R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": missing"})"
    );
    auto step = c.Do("GET", "/api/v1/query_range?query=up&start=1&end=2");
    EXPECT_EQ(
        step.body,
        R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": missing"})"
    );
    auto when = c.Do("GET", "/api/v1/query?query=up&time=yesterday");
    EXPECT_EQ(
        when.body,
        R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"})"
    );
    EXPECT_EQ(c.Do("GET", "/api/v1/series").status, 400);
    EXPECT_EQ(c.Do("GET", "/api/v1/label/bad-name/values").status, 400);
    ASSERT_EQ(
        Write(
            acme_writer_,
            {{{{"__name__", "mm_total"}, {"job", "j"}, {"k", "1"}}, {{t, 1}}},
             {{{"__name__", "mm_total"}, {"job", "j"}, {"k", "2"}}, {{t, 1}}}}
        ).status,
        204
    );
    auto many = c.Do(
        "GET",
        "/api/v1/query?query=" + UrlEncode("mm_total + on(job) mm_total") + "&time=1700000100"
    );
    EXPECT_EQ(many.status, 422) << many.body;
    EXPECT_NE(many.body.find("\"errorType\":\"execution\""), std::string::npos);
    EXPECT_EQ(c.Do("GET", "/healthz").status, 200) << "still serving";
}

TEST_F(MetricsTest, HangarStoresItsOwnMetricsForAdmins) {
    HttpResponse r;
    for (int i = 0; i < 100; ++i) {  // bounded: --self-scrape 1s, 10 s at most
        r = s_->Admin().Do(
            "GET",
            "/api/v1/query?query=" + UrlEncode("hangar_http_inflight_requests{job=\"hangar\"}")
        );
        if (r.body.find("\"job\":\"hangar\"") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(r.body.find("\"job\":\"hangar\""), std::string::npos) << r.body;
    auto tenant =
        s_->As(acme_viewer_)
            .Do("GET", "/api/v1/query?query=" + UrlEncode("hangar_http_inflight_requests"));
    EXPECT_EQ(tenant.body, R"({"status":"success","data":{"resultType":"vector","result":[]}})")
        << "the platform's series are not a tenant's";
}

TEST_F(MetricsTest, ARealPrometheusRemoteWritesIntoHangar) {
    ASSERT_TRUE(PrometheusProcess::Installed()) << "scripts/setup installs Debian's prometheus";
    TempDir dir;
    // Prometheus scrapes Hangar's /metrics every second and pushes what it gets to acme.
    std::string cfg =
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: hangar-scrape\n    static_configs:\n      - targets: "
        "['127.0.0.1:" +
        std::to_string(s_->port()) +
        "']\n"
        "remote_write:\n  - url: http://127.0.0.1:" +
        std::to_string(s_->port()) +
        "/api/v1/write\n"
        "    authorization:\n      credentials: " +
        acme_writer_ +
        "\n"
        "    queue_config:\n      batch_send_deadline: 1s\n";
    PrometheusProcess prom(dir.path(), cfg);
    ASSERT_TRUE(prom.Start()) << prom.Log();
    HttpResponse r;
    for (int i = 0; i < 300; ++i) {  // bounded: 30 s
        r = s_->As(acme_viewer_)
                .Do("GET", "/api/v1/query?query=" + UrlEncode("up{job=\"hangar-scrape\"}"));
        if (r.body.find("hangar-scrape") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(r.body.find("\"value\":["), std::string::npos) << r.body << prom.Log();
    EXPECT_NE(r.body.find(",\"1\"]"), std::string::npos) << "Prometheus saw Hangar up: " << r.body;
}

TEST(MetricsForwardTest, StoredSamplesAreForwardedToAnotherPrometheusByRemoteWrite) {
    ASSERT_TRUE(PrometheusProcess::Installed());
    TempDir dir;
    PrometheusProcess prom(dir.path());
    ASSERT_TRUE(prom.Start()) << prom.Log();
    LiveServer s(
        {"--remote-write-url", "http://127.0.0.1:" + std::to_string(prom.port()) + "/api/v1/write"}
    );
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()
    )
                   .count();
    std::vector<SeriesData> in = {
        {{{"__name__", "forwarded_total"}, {"job", "fw"}}, {{now - 2000, 5}, {now - 1000, 7}}}};
    auto w = s.Admin().Do(
        "POST",
        "/api/v1/write",
        metrics::EncodeWriteRequest(in),
        {{"Content-Type", "application/x-protobuf"},
         {"Content-Encoding", "snappy"},
         {"X-Scope-OrgID", "fw-tenant"}}
    );
    ASSERT_EQ(w.status, 204) << w.body;
    HttpResponse r;
    for (int i = 0; i < 100; ++i) {  // bounded: 10 s (the sender flushes every second)
        r = Client("127.0.0.1", prom.port()).Do("GET", "/api/v1/query?query=forwarded_total");
        if (r.body.find("\"7\"") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(r.body.find("\"job\":\"fw\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"7\""), std::string::npos)
        << "the newest value reached Prometheus: " << r.body;
    auto bad = LiveServer({"--remote-write-url", "ftp://nowhere"});
    EXPECT_FALSE(bad.Start()) << "a URL that is not http(s) is refused at start";
    EXPECT_NE(bad.process().Log().find("--remote-write-url"), std::string::npos);
}

TEST(MetricsCrashTest, KillNineDuringIngestLosesNoAcknowledgedSample) {
    LiveServer s;
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string token = s.Admin().token();
    const int64_t t0 = 1'700'000'000'000;
    std::atomic<int> acked{-1};
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        Client c("127.0.0.1", s.port());
        c.SetToken(token);
        for (int i = 0; i < 5000 && !stop; ++i) {  // bounded
            std::vector<SeriesData> batch;
            batch.push_back(
                {{{"__name__", "ingest_seq"}}, {{t0 + i * 1000, static_cast<double>(i)}}}
            );
            for (int k = 0; k < 50; ++k) {
                batch.push_back(
                    {{{"__name__", "ingest_filler"}, {"k", std::to_string(k)}},
                     {{t0 + i * 1000, i * 1.5 + k}}}
                );
            }
            auto r = c.Do(
                "POST",
                "/api/v1/write",
                metrics::EncodeWriteRequest(batch),
                {{"Content-Encoding", "snappy"},
                 {"Content-Type", "application/x-protobuf"},
                 {"X-Scope-OrgID", "crash"}}
            );
            if (r.status != 204) {
                break;  // the server is gone
            }
            acked = i;
        }
    });
    for (int i = 0; i < 600 && acked < 200; ++i) {  // bounded: 60 s
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    s.process().Kill();
    stop = true;
    writer.join();
    int last = acked;
    ASSERT_GE(last, 200);
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto r = s.Admin().Do(
        "GET",
        "/api/v1/query?query=" + UrlEncode("ingest_seq[2h]") + "&time=1700005000",
        "",
        {{"X-Scope-OrgID", "crash"}}
    );
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(Str(r.Json(), {"data", "resultType"}), "matrix") << r.body;
    ASSERT_EQ(r.Json().at("data").at("result").as_array().size(), 1u) << r.body;
    json::value doc = r.Json();
    const auto& values = doc.at("data").at("result").at(0).at("values").as_array();
    ASSERT_GE(values.size(), static_cast<size_t>(last + 1)) << "every acknowledged sample is back";
    for (int i = 0; i <= last; ++i) {
        ASSERT_EQ(values[i].as_array()[1].as_string(), std::to_string(i));
    }
    auto filler = s.Admin().Do(
        "GET",
        "/api/v1/query?query=" + UrlEncode("count(ingest_filler)") +
            "&time=" + std::to_string((t0 + last * 1000) / 1000),
        "",
        {{"X-Scope-OrgID", "crash"}}
    );
    EXPECT_NE(filler.body.find("\"50\""), std::string::npos) << filler.body;
}

}  // namespace
}  // namespace hangar::testing
