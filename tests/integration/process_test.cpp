// The process provisioner with real processes (the sample `hangar-workspace` product): run with
// health passing, upgrade, OOM kill, crash loop, adoption after kill -9, and a teardown that
// leaves no process, port or file behind.

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hangar/metrics/remote_write.hpp"

#include "fixture.hpp"

namespace hangar::testing {
namespace {

int StatePid(LiveServer& s, const std::string& id) {
    std::ifstream f(s.process().data_dir() + "/instances/" + id + "/state.json");
    std::stringstream ss;
    ss << f.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(ss.str(), ec);
    return ec ? 0 : static_cast<int>(v.at("pid").as_int64());
}

bool PortOpen(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return open;
}

class ProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        s_ = std::make_unique<LiveServer>(std::vector<std::string>{
            "--provisioner", "process", "--restart-backoff", "50ms", "--rule-interval", "1s"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto admin = s_->Admin();
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    R"({"metadata":{"name":"small"},"spec":{"memory_mb":64,"cpu_millis":100}})")
                .status,
            201
        );
        std::string run =
            R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},"health":{"http":{"path":"/healthz"}})";
        auto p = admin.Do(
            "POST",
            "/v1/products",
            R"({"metadata":{"name":"workspace"},"spec":{"versions":[{"version":"1.0",)" + run +
                R"(},{"version":"1.1",)" + run + R"(}],"default_version":"1.0"}})"
        );
        ASSERT_EQ(p.status, 201) << p.body;
        auto crash = admin.Do(
            "POST",
            "/v1/products",
            R"({"metadata":{"name":"crasher"},"spec":{"versions":[{"version":"1","run":{"process":{"command":["sh","-c","echo starting; exit 3"]}}}]}})"
        );
        ASSERT_EQ(crash.status, 201) << crash.body;
        tenant_ = s_->Tenant("proc");
    }
    void TearDown() override { DeleteEveryInstance(*s_); }
    std::string Create(const std::string& name, const std::string& product = "workspace") {
        return CreateInstance(*s_, tenant_, name, product, "small");
    }
    std::unique_ptr<LiveServer> s_;
    std::string tenant_;
};

TEST_F(ProcessTest, RunsUpgradesAndTearsDownWithoutLeftovers) {
    auto admin = s_->Admin();
    std::string id = Create("w1");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << json::serialize(running);
    int port = EndpointPort(running);
    ASSERT_GT(port, 0);
    Client app("127.0.0.1", port);
    EXPECT_EQ(app.Do("GET", "/healthz").status, 200) << "its health check really passes";
    int pid1 = StatePid(*s_, id);
    ASSERT_GT(pid1, 0);
    EXPECT_EQ(::kill(pid1, 0), 0);
    std::string dir = s_->process().data_dir() + "/instances/" + id;
    EXPECT_TRUE(std::filesystem::exists(dir + "/logs/stdout.log"));

    auto up = admin.Do(
        "PUT",
        "/v1/instances/" + id,
        R"({"spec":{"product":"workspace","plan":"small","version":"1.1"}})"
    );
    ASSERT_EQ(up.status, 200) << up.body;
    auto upgraded = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running" && Str(v, {"status", "version"}) == "1.1";
    });
    EXPECT_EQ(Str(upgraded, {"status", "version"}), "1.1");
    int pid2 = StatePid(*s_, id);
    EXPECT_NE(pid2, pid1) << "an upgrade runs the new version in a new process";
    EXPECT_NE(::kill(pid1, 0), 0) << "the old process is gone";

    port = EndpointPort(upgraded);
    EXPECT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    auto gone = WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404);
    EXPECT_NE(::kill(pid2, 0), 0) << "no process is left";
    EXPECT_FALSE(PortOpen(port)) << "no port is left";
    EXPECT_FALSE(std::filesystem::exists(dir)) << "no file is left";
}

TEST_F(ProcessTest, TeardownRunsTheBackupCommandFirstAndTheBackupOutlivesTheInstance) {
    auto admin = s_->Admin();
    auto p = admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"notes"},"spec":{"versions":[{"version":"1",)"
        R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},"health":{"http":{"path":"/healthz"}},)"
        R"("backup_command":["sh","-c","cp -a {data_dir}/. {backup_dir}/ && echo copied {instance_id}"]}]}})"
    );
    ASSERT_EQ(p.status, 201) << p.body;
    std::string id = Create("n1", "notes");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << json::serialize(running);
    std::string dir = s_->process().data_dir() + "/instances/" + id;
    std::ofstream(dir + "/data/note.txt") << "customer data\n";

    EXPECT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404);
    EXPECT_FALSE(std::filesystem::exists(dir)) << "the instance's own files are gone";
    std::string backups = s_->process().data_dir() + "/backups/" + id;
    ASSERT_TRUE(std::filesystem::is_directory(backups));
    int copies = 0;
    for (const auto& b : std::filesystem::directory_iterator(backups)) {
        std::ifstream f(b.path() / "note.txt");
        std::string line;
        std::getline(f, line);
        EXPECT_EQ(line, "customer data") << b.path();
        ++copies;
    }
    EXPECT_EQ(copies, 1) << "backed up once, before the teardown";
}

// A backup that fails is retried with back-off, not in a loop: the failure is recorded once (a
// status rewrite per attempt came back through the change feed and bypassed the back-off,
// thousands of attempts a minute), failed attempts leave no folder, and once the backup can
// succeed the teardown finishes with exactly one backup.
TEST_F(ProcessTest, AFailingBackupIsRetriedWithBackOffUntilItWorks) {
    auto admin = s_->Admin();
    auto p = admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"flaky"},"spec":{"versions":[{"version":"1",)"
        R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},"health":{"http":{"path":"/healthz"}},)"
        R"("backup_command":["sh","-c","echo attempt >> {data_dir}/../attempts; test -f {data_dir}/ok && cp -a {data_dir}/. {backup_dir}/"]}]}})"
    );
    ASSERT_EQ(p.status, 201) << p.body;
    std::string id = Create("f1", "flaky");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << json::serialize(running);
    std::string dir = s_->process().data_dir() + "/instances/" + id;

    EXPECT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    auto failed = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return json::serialize(v).find("BackupFailed") != std::string::npos;
    });
    ASSERT_NE(json::serialize(failed).find("BackupFailed"), std::string::npos)
        << json::serialize(failed);
    // Three seconds of back-off (100 ms, doubling) hold a handful of attempts; the loop held
    // hundreds.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    std::ifstream attempts_file(dir + "/attempts");
    std::string line;
    int attempts = 0;
    while (std::getline(attempts_file, line)) {
        ++attempts;
    }
    EXPECT_GE(attempts, 1);
    EXPECT_LE(attempts, 12) << "retried in a loop instead of backing off";
    auto now = admin.Do("GET", "/v1/instances/" + id).Json();
    size_t events = 0;
    for (size_t at = json::serialize(now).find("\"BackupFailed\""); at != std::string::npos;
         at = json::serialize(now).find("\"BackupFailed\"", at + 1)) {
        ++events;
    }
    EXPECT_LE(events, 2u) << "the failure is recorded once (an event and a condition)";

    std::ofstream(dir + "/data/ok") << "go\n";
    // The next attempt comes within the back-off (at most a minute); WaitFor allows 30 s, so
    // wait in two rounds.
    for (int round = 0; round < 3; ++round) {
        WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
    }
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404);
    std::string backups = s_->process().data_dir() + "/backups/" + id;
    int copies = 0;
    for (const auto& b : std::filesystem::directory_iterator(backups)) {
        EXPECT_TRUE(std::filesystem::exists(b.path() / "ok")) << b.path();
        ++copies;
    }
    EXPECT_EQ(copies, 1) << "failed attempts leave no folder";
}

TEST_F(ProcessTest, AnExecHealthCheckReallyRunsItsCommand) {
    auto admin = s_->Admin();
    auto p = admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"gated"},"spec":{"versions":[{"version":"1",)"
        R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},)"
        R"("health":{"exec":{"command":["test","-f","{data_dir}/ready"]}}}]}})"
    );
    ASSERT_EQ(p.status, 201) << p.body;
    std::string id = Create("g1", "gated");
    std::string ready = s_->process().data_dir() + "/instances/" + id + "/data/ready";
    auto starting = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Provisioning";
    });
    ASSERT_EQ(Phase(starting), "Provisioning");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_EQ(Phase(admin.Do("GET", "/v1/instances/" + id).Json()), "Provisioning")
        << "its check fails: no ready file";
    std::ofstream(ready) << "ok\n";
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    EXPECT_EQ(Phase(running), "Running") << json::serialize(running);
}

// The sample fleet of examples/fleet.yaml, as `make demo` loads it: the workspace app, Debian's
// redis-server and jupyterhub, as real processes that pass their health checks.
TEST(SampleFleet, EveryExampleProductRunsAndPassesItsHealthCheck) {
    LiveServer s({"--provisioner", "process"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    InstancesTornDown cleanup(s);
    std::string out, err;
    ASSERT_EQ(
        RunCli(
            {"--server",
             s.Url(),
             "--token",
             s.process().AdminToken(),
             "apply",
             "-f",
             std::string(HANGAR_SOURCE_DIR) + "/examples/fleet.yaml"},
            out,
            err
        ),
        0
    ) << err;
    auto admin = s.Admin();
    auto list = admin.Do("GET", "/v1/instances").Json().at("items").as_array();
    ASSERT_EQ(list.size(), 4U);
    std::map<std::string, std::string> health = {
        {"workspace", "/healthz"}, {"jupyterhub", "/hub/health"}};
    std::set<std::string> products;
    for (const auto& item : list) {
        std::string id = Str(item, {"metadata", "id"});
        std::string product = Str(item, {"spec", "product"});
        products.insert(product);
        auto v = WaitFor(
            admin,
            "/v1/instances/" + id,
            [](const json::value& x) { return Phase(x) == "Running"; },
            600
        );
        ASSERT_EQ(Phase(v), "Running") << product << ": " << json::serialize(v) << "\n"
                                       << s.process().Log();
        int port = EndpointPort(v);
        if (health.contains(product)) {
            EXPECT_EQ(Client("127.0.0.1", port).Do("GET", health[product]).status, 200) << product;
        } else {
            EXPECT_TRUE(PortOpen(port)) << product;
        }
    }
    EXPECT_EQ(products, (std::set<std::string>{"workspace", "redis", "jupyterhub"}));
    for (const auto& item : list) {
        std::string id = Str(item, {"metadata", "id"});
        EXPECT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    }
    for (const auto& item : list) {
        std::string id = Str(item, {"metadata", "id"});
        WaitFor(
            admin, "/v1/instances/" + id, [](const json::value&) { return false; }, 400
        );
        EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404);
        EXPECT_FALSE(std::filesystem::exists(s.process().data_dir() + "/instances/" + id))
            << "no file is left";
    }
}

TEST_F(ProcessTest, LogsAndDescribeShowWhatTheInstanceDid) {
    auto admin = s_->Admin();
    std::string id = Create("chatty");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running");
    auto logs = admin.Do("GET", "/v1/instances/" + id + "/logs?tail=5");
    ASSERT_EQ(logs.status, 200);
    EXPECT_NE(
        logs.body.find(
            "hangar-workspace listening on 127.0.0.1:" + std::to_string(EndpointPort(running))
        ),
        std::string::npos
    ) << logs.body;
    std::string offset = logs.headers["x-log-offset"];
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id + "/logs?offset=" + offset).body, "")
        << "nothing new since";
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id + "/logs?stream=both").status, 400);
    auto other = s_->As(s_->Token(s_->Tenant("proc-other"), "owner"));
    EXPECT_EQ(other.Do("GET", "/v1/instances/" + id + "/logs").status, 404);

    std::string out, err;
    std::string token = s_->process().AdminToken();
    ASSERT_EQ(RunCli({"--server", s_->Url(), "--token", token, "logs", id}, out, err), 0) << err;
    EXPECT_NE(out.find("hangar-workspace listening"), std::string::npos) << out;
    ASSERT_EQ(
        RunCli({"--server", s_->Url(), "--token", token, "describe", "instance", id}, out, err), 0
    ) << err;
    EXPECT_NE(out.find("phase:"), std::string::npos) << out;
    EXPECT_NE(out.find("Running"), std::string::npos) << out;
    EXPECT_NE(out.find("Conditions:"), std::string::npos) << out;
    EXPECT_NE(out.find("Events:"), std::string::npos) << out;
}

TEST_F(ProcessTest, AnInstanceLeakingToItsLimitIsOomKilledReportedAndRestarted) {
    auto admin = s_->Admin();
    std::string id = Create("leaky");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running");
    Client app("127.0.0.1", EndpointPort(running));
    app.Do("POST", "/leak?mb=200");  // 200 MiB against a 64 MiB limit
    auto after = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Str(v, {"status", "restarts"}) != "0" && Phase(v) == "Running";
    });
    EXPECT_EQ(Phase(after), "Running") << "it is restarted after the kill";
    EXPECT_NE(Str(after, {"status", "restarts"}), "0");
    std::string mode = Str(after, {"status", "memory_limit"});
    if (mode == "cgroup1" || mode == "cgroup2") {
        EXPECT_EQ(Str(after, {"status", "oom_kills"}), "1") << json::serialize(after);
        bool event = false;
        for (const auto& e : after.at("status").at("events").as_array()) {
            event = event || Str(e, {"reason"}) == "OOMKilled";
        }
        EXPECT_TRUE(event) << json::serialize(after);
        auto metrics = s_->Anonymous().Do("GET", "/metrics");
        EXPECT_NE(
            metrics.body.find(
                "hangar_instance_oom_kills_total{tenant=\"" + tenant_ + "\",instance=\"" + id +
                "\",product=\"workspace\"} 1"
            ),
            std::string::npos
        );
    } else {
        GTEST_LOG_(INFO) << "no writable cgroup here (" << mode
                         << "): the kill is an allocation failure, not counted as OOM";
    }
}

TEST_F(ProcessTest, AnExecRunbookRunsItsCommandForTheAlertsInstance) {
    auto admin = s_->Admin();
    std::string id = Create("flushy");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running");
    auto post = [&](const std::string& plural, const std::string& name, const json::object& spec) {
        auto r = admin.Do(
            "POST",
            "/v1/" + plural,
            json::serialize(json::object{
                {"metadata", {{"name", name}, {"tenant", tenant_}}}, {"spec", spec}})
        );
        ASSERT_EQ(r.status, 201) << r.body;
    };
    post(
        "runbooks",
        "flush",
        {{"matchers", {"alertname=\"NeedsFlush\""}},
         {"action", "exec"},
         {"command", {"sh", "-c", "echo flushed on port $PORT > flushed.txt; echo done"}}}
    );
    post("alertrules", "needs-flush", {{"alert", "NeedsFlush"}, {"expr", "needs_flush > 0"}});
    std::vector<metrics::SeriesData> batch(1);
    batch[0].labels = {{"__name__", "needs_flush"}, {"instance", id}};
    batch[0].samples.push_back(
        {std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()
         )
             .count(),
         1}
    );
    auto w = admin.Do(
        "POST",
        "/api/v1/write",
        metrics::EncodeWriteRequest(batch),
        {{"Content-Type", "application/x-protobuf"},
         {"Content-Encoding", "snappy"},
         {"X-Scope-OrgID", tenant_}}
    );
    ASSERT_EQ(w.status, 204) << w.body;
    auto alert =
        WaitFor(admin, "/v1/alerts?selector=alertname%3DNeedsFlush", [](const json::value& v) {
            return !v.at("items").as_array().empty() &&
                   v.at("items").as_array()[0].at("status").as_object().contains("remediations");
        });
    ASSERT_FALSE(alert.at("items").as_array().empty()) << alert;
    const auto& rem = alert.at("items").as_array()[0].at("status").at("remediations").as_array()[0];
    EXPECT_EQ(Str(rem, {"result"}), "done") << rem;
    EXPECT_NE(Str(rem, {"detail"}), "") << rem;
    EXPECT_NE(Str(rem, {"detail"}).find("done"), std::string::npos)
        << "what the command printed: " << rem;
    std::ifstream in(s_->process().data_dir() + "/instances/" + id + "/data/flushed.txt");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "flushed on port " + std::to_string(EndpointPort(running)))
        << "run in the instance's folder with its environment";
}

TEST_F(ProcessTest, ACrashingInstanceGetsItsCrashLoopCondition) {
    auto admin = s_->Admin();
    std::string id = Create("crashy", "crasher");
    auto looping = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        if (!v.is_object() || !v.as_object().contains("status") ||
            !v.at("status").as_object().contains("conditions")) {
            return false;
        }
        for (const auto& c : v.at("status").at("conditions").as_array()) {
            if (Str(c, {"type"}) == "CrashLoop" && Str(c, {"status"}) == "True") {
                return true;
            }
        }
        return false;
    });
    EXPECT_EQ(Phase(looping), "Failed") << json::serialize(looping);
    EXPECT_NE(Str(looping, {"status", "last_exit"}).find("exited with status 3"), std::string::npos)
        << json::serialize(looping);
    std::ifstream log(s_->process().data_dir() + "/instances/" + id + "/logs/stdout.log");
    std::string first;
    std::getline(log, first);
    EXPECT_EQ(first, "starting") << "its output is in its log";
}

TEST_F(ProcessTest, AfterKillNineHangarAdoptsRunningInstancesInsteadOfStartingThemTwice) {
    auto admin = s_->Admin();
    std::string id = Create("adopted");
    ASSERT_EQ(
        Phase(WaitFor(
            admin, "/v1/instances/" + id, [](const json::value& v) { return Phase(v) == "Running"; }
        )),
        "Running"
    );
    int pid = StatePid(*s_, id);
    s_->process().Kill();
    EXPECT_EQ(::kill(pid, 0), 0) << "instances outlive a Hangar crash";
    ASSERT_TRUE(s_->Start()) << s_->process().Log();
    auto again = s_->Admin();
    auto running = WaitFor(again, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    EXPECT_EQ(Phase(running), "Running");
    // The stored phase says Running from before the crash; wait for the controller to have
    // looked at the instance (bounded: 600 × 50 ms), which may be slow on a loaded machine.
    bool adopted = false;
    for (int i = 0; i < 600 && !adopted; ++i) {
        adopted = s_->process().Log().find("adopted a running instance") != std::string::npos;
        if (!adopted) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    EXPECT_TRUE(adopted) << s_->process().Log();
    EXPECT_EQ(StatePid(*s_, id), pid) << "the same process, adopted";
}

TEST_F(ProcessTest, ProbesDriveTheHealthConditionAndUpAndScrapeTheInstancesMetrics) {
    auto admin = s_->Admin();
    // Healthy while {data_dir}/down does not exist; probed every second, down after two failures.
    std::string version =
        R"({"version":"1","run":{"process":{"command":["hangar-workspace","--port","{port}"]}},)"
        R"("health":{"exec":{"command":["sh","-c","test ! -e {data_dir}/down"]},"interval_seconds":1,)"
        R"("failure_threshold":2,"success_threshold":1},"metrics_path":"/metrics"})";
    auto p = admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"probed"},"spec":{"versions":[)" + version + "]}}"
    );
    ASSERT_EQ(p.status, 201) << p.body;
    std::string id = Create("probed-1", "probed");
    auto health = [&](const json::value& v) {
        if (!v.at("status").as_object().contains("conditions")) {
            return std::string();
        }
        for (const auto& c : v.at("status").at("conditions").as_array()) {
            if (Str(c, {"type"}) == "Health") {
                return Str(c, {"status"});
            }
        }
        return std::string();
    };
    auto up = [&] {
        auto r = admin.Do(
            "GET",
            "/api/v1/query?query=up%7Binstance%3D%22" + id + "%22%7D",
            "",
            {{"X-Scope-OrgID", tenant_}}
        );
        auto doc = r.Json();
        const auto& result = doc.at("data").at("result").as_array();
        return result.empty() ? std::string("none")
                              : std::string(result[0].at("value").as_array()[1].as_string());
    };
    auto healthy = WaitFor(admin, "/v1/instances/" + id, [&](const json::value& v) {
        return health(v) == "True";
    });
    ASSERT_EQ(health(healthy), "True") << json::serialize(healthy);
    EXPECT_EQ(up(), "1");
    auto scraped =
        admin.Do("GET", "/api/v1/query?query=workspace_users", "", {{"X-Scope-OrgID", tenant_}});
    EXPECT_NE(scraped.body.find("\"instance\":\"" + id + "\""), std::string::npos) << scraped.body;
    EXPECT_NE(scraped.body.find("\"product\":\"probed\""), std::string::npos) << scraped.body;
    EXPECT_NE(scraped.body.find("\"42\""), std::string::npos)
        << "the instance's own metric: " << scraped.body;
    auto rss = admin.Do(
        "GET",
        "/api/v1/query?query=instance_memory_rss_bytes%20%3E%200",
        "",
        {{"X-Scope-OrgID", tenant_}}
    );
    EXPECT_NE(rss.body.find(id), std::string::npos) << "process samples: " << rss.body;
    // The plan's memory, which the built-in "near the memory limit" rule divides by.
    auto limit = admin.Do(
        "GET", "/api/v1/query?query=instance_memory_limit_bytes", "", {{"X-Scope-OrgID", tenant_}}
    );
    EXPECT_NE(limit.body.find(id), std::string::npos) << limit.body;
    EXPECT_NE(limit.body.find("\"67108864\""), std::string::npos) << "64 MiB: " << limit.body;

    std::string down = s_->process().data_dir() + "/instances/" + id + "/data/down";
    { std::ofstream(down) << "x"; }
    auto sick = WaitFor(admin, "/v1/instances/" + id, [&](const json::value& v) {
        return health(v) == "False";
    });
    ASSERT_EQ(health(sick), "False") << json::serialize(sick);
    EXPECT_NE(json::serialize(sick).find("\"Unhealthy\""), std::string::npos)
        << "an event marks the change";
    EXPECT_EQ(Phase(sick), "Running") << "unhealthy is not stopped";
    EXPECT_EQ(up(), "0");

    std::filesystem::remove(down);
    auto back = WaitFor(admin, "/v1/instances/" + id, [&](const json::value& v) {
        return health(v) == "True";
    });
    ASSERT_EQ(health(back), "True") << json::serialize(back);
    EXPECT_NE(json::serialize(back).find("\"Healthy\""), std::string::npos);
    EXPECT_EQ(up(), "1");
    // The series holds the whole story: down at some point, up now.
    auto low = admin.Do(
        "GET",
        "/api/v1/query?query=min_over_time(up%7Binstance%3D%22" + id + "%22%7D%5B10m%5D)",
        "",
        {{"X-Scope-OrgID", tenant_}}
    );
    EXPECT_NE(low.body.find("\"0\"]"), std::string::npos) << low.body;
    auto other = s_->Anonymous().Do("GET", "/api/v1/query?query=up");
    EXPECT_EQ(other.status, 401);
}

TEST_F(ProcessTest, AHealthCheckSlowerThanItsTimeoutFails) {
    auto admin = s_->Admin();
    // The check would pass after 2 s, but may take 1 s: the instance never becomes Running.
    auto p = admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"slowcheck"},"spec":{"versions":[{"version":"1",)"
        R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},)"
        R"("health":{"exec":{"command":["sleep","2"]},"timeout_seconds":1}}]}})"
    );
    ASSERT_EQ(p.status, 201) << p.body;
    std::string id = Create("slow-1", "slowcheck");
    auto v = WaitFor(
        admin,
        "/v1/instances/" + id,
        [](const json::value& x) { return Phase(x) == "Running"; },
        120
    );  // 6 s
    EXPECT_EQ(Phase(v), "Provisioning") << json::serialize(v);
}

}  // namespace
}  // namespace hangar::testing
