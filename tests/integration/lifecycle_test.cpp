// The server's life: configuration, bootstrap, graceful shutdown, crashes, PostgreSQL replicas.

#include <csignal>
#include <fstream>
#include <thread>

#include <sys/stat.h>

#include "fixture.hpp"
#include "pg_cluster.hpp"

namespace hangar::testing {
namespace {

TEST(Lifecycle, FirstStartWritesAnAdminTokenReadableOnlyByItsOwner) {
    LiveServer s;
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string path = s.process().data_dir() + "/admin-token";
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_EQ(s.Admin().Do("GET", "/v1/whoami").status, 200);
    std::string first = s.process().AdminToken();
    EXPECT_EQ(s.process().Stop(), 0);
    ASSERT_TRUE(s.Start());
    EXPECT_EQ(s.process().AdminToken(), first) << "a restart keeps the first admin token";
    EXPECT_EQ(s.Admin().Do("GET", "/v1/whoami").status, 200);
}

TEST(Lifecycle, BootstrapTokenFromTheEnvironment) {
    LiveServer s({}, {{"HANGAR_BOOTSTRAP_TOKEN", "hgr_bootstrap-secret-for-tests"}});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto who = s.As("hgr_bootstrap-secret-for-tests").Do("GET", "/v1/whoami");
    EXPECT_EQ(who.status, 200);
    EXPECT_EQ(Str(who.Json(), {"role"}), "admin");
}

TEST(Lifecycle, YamlConfigIsReadAndFlagsOverrideIt) {
    TempDir dir;
    std::string cfg = dir.path() + "/hangar.yaml";
    std::ofstream(cfg) << "log_level: warn\nbody_limit: 2048\nlisten: 127.0.0.1:1\n";
    // --listen on the command line (from ServerProcess) wins over the file's.
    LiveServer s({"--config", cfg});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto big = s.Admin().Do(
        "POST",
        "/v1/tenants",
        R"({"metadata":{"name":"x"},"spec":{"display_name":")" + std::string(3000, 'x') + "\"}}"
    );
    EXPECT_EQ(big.status, 413) << "body_limit from the file applies";
    EXPECT_EQ(s.process().Log().find("\"msg\":\"request\""), std::string::npos)
        << "log_level warn from the file applies";

    std::ofstream(cfg) << "listen: 127.0.0.1:0\nnot_a_setting: 1\n";
    std::string out, err;
    int code = RunCli({"serve", "--config", cfg, "--data-dir", dir.path() + "/d"}, out, err);
    EXPECT_NE(code, 0);
    EXPECT_NE(err.find("unknown setting \"not_a_setting\""), std::string::npos) << err;
    code =
        RunCli({"serve", "--listen", "127.0.0.1:99999", "--data-dir", dir.path() + "/d"}, out, err);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("bad port"), std::string::npos) << err;
    code = RunCli({"serve", "--store", "mysql://x", "--data-dir", dir.path() + "/d"}, out, err);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("sqlite:PATH or postgres://"), std::string::npos) << err;
    code = RunCli(
        {"serve", "--listen", "127.0.0.1:0", "--resync", "10ms", "--data-dir", dir.path() + "/d"},
        out,
        err
    );
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("--resync \"10ms\": use a duration of at least 1s"), std::string::npos)
        << err;
}

// The settings table's precedence: default < the --config file < HANGAR_* variables < flags.
TEST(Lifecycle, VariablesOverrideTheFileAndFlagsOverrideVariables) {
    TempDir dir;
    std::string cfg = dir.path() + "/hangar.yaml";
    std::ofstream(cfg) << "body_limit: 100000\n";
    std::string big =
        R"({"metadata":{"name":"x"},"spec":{"display_name":")" + std::string(3000, 'x') + "\"}}";
    {
        LiveServer s({"--config", cfg}, {{"HANGAR_BODY_LIMIT", "2048"}});
        ASSERT_TRUE(s.Start()) << s.process().Log();
        EXPECT_EQ(s.Admin().Do("POST", "/v1/tenants", big).status, 413)
            << "the variable wins over the file";
    }
    {
        LiveServer s({"--config", cfg, "--body-limit", "100000"}, {{"HANGAR_BODY_LIMIT", "2048"}});
        ASSERT_TRUE(s.Start()) << s.process().Log();
        auto r = s.Admin().Do("POST", "/v1/tenants", big);
        EXPECT_EQ(r.status, 400) << "the flag wins over the variable: the body is read, and "
                                    "display_name is too long: "
                                 << r.body;
    }
    // A bad value from a variable is named by its flag, like a bad flag.
    std::string out, err;
    int code = RunCli(
        {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/d"},
        out,
        err,
        {{"HANGAR_WORKERS", "0"}}
    );
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("--workers \"0\": use a whole number from 1 to 1024"), std::string::npos)
        << err;
}

TEST(Lifecycle, EachTenantHasItsOwnRateLimit) {
    LiveServer s({"--tenant-rate", "5"});  // bursts of 10, then 5 a second
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto busy = s.As(s.Token(s.Tenant("busy"), "viewer"));
    auto quiet = s.As(s.Token(s.Tenant("quiet"), "viewer"));
    int ok = 0;
    HttpResponse limited;
    for (int i = 0; i < 30; ++i) {
        auto r = busy.Do("GET", "/v1/tenants");
        if (r.status == 200) {
            ++ok;
        } else {
            limited = r;
        }
    }
    EXPECT_GE(ok, 10);
    EXPECT_LT(ok, 30);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.ErrorCode(), "too_many_requests");
    EXPECT_FALSE(limited.headers["retry-after"].empty());
    EXPECT_EQ(quiet.Do("GET", "/v1/tenants").status, 200) << "another tenant is not slowed down";
    for (int i = 0; i < 30; ++i) {
        ASSERT_EQ(s.Admin().Do("GET", "/v1/tenants").status, 200)
            << "platform admins are not limited";
    }
}

TEST(Lifecycle, SigtermFinishesInFlightRequestsAndExitsZero) {
    LiveServer s;
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string token = s.process().AdminToken();
    std::string body = R"({"metadata":{"name":"during-shutdown"}})";
    Connection c("127.0.0.1", s.port());
    // Half a request is in flight when SIGTERM arrives...
    c.SendRaw(
        "POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body.substr(0, 10)
    );
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(s.process().pid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // ...no new connection is served...
    EXPECT_EQ(s.Anonymous().Do("GET", "/healthz").status, 0);
    // ...and the one in flight completes.
    c.SendRaw(body.substr(10));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_EQ(s.process().Stop(), 0) << s.process().Log();
    ASSERT_TRUE(s.Start());
    auto list = s.Admin().Do("GET", "/v1/tenants?selector=");
    EXPECT_NE(list.body.find("during-shutdown"), std::string::npos);
}

TEST(Lifecycle, KillNineDuringABurstLosesNoAcknowledgedCreate) {
    LiveServer s;
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string token = s.process().AdminToken();
    int port = s.port();
    std::mutex mu;
    std::vector<std::string> acked;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
        writers.emplace_back([&, t] {
            Client c("127.0.0.1", port);
            c.SetToken(token);
            for (int i = 0; i < 2000 && !stop; ++i) {  // bounded
                auto r = c.Do(
                    "POST",
                    "/v1/tenants",
                    R"({"metadata":{"name":"burst-)" + std::to_string(t) + "-" + std::to_string(i) +
                        R"("}})"
                );
                if (r.status == 201) {
                    std::lock_guard lock(mu);
                    acked.push_back(Str(r.Json(), {"metadata", "id"}));
                } else if (r.status == 0) {
                    return;  // the server is gone
                }
            }
        });
    }
    for (int i = 0; i < 400; ++i) {  // bounded: until ~200 creates are acknowledged
        {
            std::lock_guard lock(mu);
            if (acked.size() >= 200) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    s.process().Kill();
    stop = true;
    for (auto& w : writers) {
        w.join();
    }
    ASSERT_GE(acked.size(), 100U);
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto admin = s.Admin();
    for (const auto& id : acked) {
        auto r = admin.Do("GET", "/v1/tenants/" + id);
        ASSERT_EQ(r.status, 200) << "acknowledged create " << id << " was lost";
    }
    // Nothing half-written: every stored object reads back whole.
    std::string cursor;
    size_t total = 0;
    for (int page = 0; page < 100; ++page) {
        auto r =
            admin.Do("GET", "/v1/tenants?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_EQ(r.status, 200);
        json::value body = r.Json();
        for (const auto& item : body.at("items").as_array()) {
            EXPECT_FALSE(Str(item, {"metadata", "id"}).empty());
            EXPECT_FALSE(Str(item, {"metadata", "name"}).empty());
            ++total;
        }
        auto next = body.at("next_cursor");
        if (!next.is_string()) {
            break;
        }
        cursor = std::string(next.as_string());
    }
    EXPECT_GE(total, acked.size());
    std::string out, err;
    int code = RunCli({"--server", s.Url(), "--token", token, "audit", "verify"}, out, err);
    EXPECT_EQ(code, 0) << out << err;
    EXPECT_NE(out.find("audit chain OK"), std::string::npos) << out;
}

TEST(Lifecycle, TamperingWithTheAuditLogIsFound) {
    LiveServer s;
    ASSERT_TRUE(s.Start()) << s.process().Log();
    for (int i = 0; i < 5; ++i) {
        s.Tenant("tamper-" + std::to_string(i));
    }
    std::string token = s.process().AdminToken();
    std::string out, err;
    ASSERT_EQ(RunCli({"--server", s.Url(), "--token", token, "audit", "verify"}, out, err), 0)
        << out << err;
    std::string db = s.process().data_dir() + "/hangar.db";
    auto sql = [&](const std::string& stmt) {
        return std::system(("sqlite3 " + db + " \"" + stmt + "\"").c_str()
        );  // NOLINT(concurrency-mt-unsafe)
    };
    // Edited.
    ASSERT_EQ(sql("UPDATE audit SET outcome = 'forbidden' WHERE seq = 3"), 0);
    int code =
        RunCli({"--server", s.Url(), "--token", token, "-o", "json", "audit", "verify"}, out, err);
    EXPECT_EQ(code, 11);
    EXPECT_NE(out.find("\"first_bad_seq\": 3"), std::string::npos) << out;
    EXPECT_NE(out.find("edited"), std::string::npos) << out;
    ASSERT_EQ(sql("UPDATE audit SET outcome = 'success' WHERE seq = 3"), 0);
    ASSERT_EQ(RunCli({"--server", s.Url(), "--token", token, "audit", "verify"}, out, err), 0)
        << out;
    // Removed.
    ASSERT_EQ(sql("DELETE FROM audit WHERE seq = 4"), 0);
    code = RunCli({"--server", s.Url(), "--token", token, "audit", "verify"}, out, err);
    EXPECT_EQ(code, 11);
    EXPECT_NE(out.find("BROKEN at event 4"), std::string::npos) << out;
}

TEST(Lifecycle, PostgresReplicasShareStateAndWatches) {
    PgCluster pg;
    ASSERT_TRUE(pg.ok()) << pg.error();
    std::string url = pg.NewDatabase("replicas");
    LiveServer a({"--store", url}, {{"HANGAR_BOOTSTRAP_TOKEN", "hgr_shared-admin"}});
    LiveServer b({"--store", url}, {{"HANGAR_BOOTSTRAP_TOKEN", "hgr_shared-admin"}});
    ASSERT_TRUE(a.Start()) << a.process().Log();
    ASSERT_TRUE(b.Start()) << b.process().Log();
    auto on_a = a.As("hgr_shared-admin");
    auto on_b = b.As("hgr_shared-admin");
    auto list = on_b.Do("GET", "/v1/tenants");
    ASSERT_EQ(list.status, 200) << list.body;
    std::string rev = Str(list.Json(), {"revision"});

    Connection sse("127.0.0.1", b.port());
    sse.SendRaw(
        "GET /v1/tenants?watch=1&since=" + rev +
        " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer hgr_shared-admin\r\n\r\n"
    );
    auto created = on_a.Do("POST", "/v1/tenants", R"({"metadata":{"name":"from-a"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = Str(created.Json(), {"metadata", "id"});
    EXPECT_EQ(on_b.Do("GET", "/v1/tenants/" + id).status, 200) << "replica b reads what a wrote";
    std::string got;
    for (int i = 0; i < 50 && got.find(id) == std::string::npos; ++i) {
        got += sse.ReadSome(std::chrono::milliseconds(100));
    }
    EXPECT_NE(got.find("event: ADDED"), std::string::npos) << got;
    EXPECT_NE(got.find(id), std::string::npos) << "b's watcher saw a's write";
    auto dup = on_b.Do("POST", "/v1/tenants", R"({"metadata":{"name":"from-a"}})");
    EXPECT_EQ(dup.status, 409);
    std::string out, err;
    EXPECT_EQ(
        RunCli({"--server", b.Url(), "--token", "hgr_shared-admin", "audit", "verify"}, out, err), 0
    ) << out
      << err;
    EXPECT_EQ(a.process().Stop(), 0);
    EXPECT_EQ(b.process().Stop(), 0);
}

}  // namespace
}  // namespace hangar::testing
