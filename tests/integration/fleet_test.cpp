// Fleet, first slice: products and plans (a platform catalogue), instances with quotas, the
// reconciler driving them through the simulated provisioner, actions and finalized deletion.

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "fixture.hpp"

namespace hangar::testing {
namespace {

// Polls GET until `pred` holds (bounded: 10 s); returns the last body.
json::value
WaitFor(Client& c, const std::string& path, const std::function<bool(const HttpResponse&)>& pred) {
    HttpResponse last;
    for (int i = 0; i < 200; ++i) {
        last = c.Do("GET", path);
        if (pred(last)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last.Json();
}

bool PhaseIs(const HttpResponse& r, const std::string& phase) {
    return r.status == 200 && Str(r.Json(), {"status", "phase"}) == phase;
}

class FleetTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer({"--provisioner", "simulated", "--sim-latency", "100ms"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto admin = s_->Admin();
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    R"({"metadata":{"name":"small"},"spec":{"memory_mb":256,"cpu_millis":500,"entitlements":{"max_instances":3,"max_total_memory_mb":1024},"sla":{"target_percent":99.5}}})"
                )
                .status,
            201
        );
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    R"({"metadata":{"name":"huge"},"spec":{"memory_mb":4096,"cpu_millis":4000,"entitlements":{"max_total_memory_mb":2048}}})"
                )
                .status,
            201
        );
        auto p = admin.Do(
            "POST",
            "/v1/products",
            R"({"metadata":{"name":"workspace"},"spec":{"display_name":"Workspace","versions":[{"version":"1.0.0","run":{"simulated":{}},"health":{"http":{"path":"/healthz"}}},{"version":"1.1.0","run":{"simulated":{}},"metrics_path":"/metrics"}],"default_version":"1.1.0"}})"
        );
        ASSERT_EQ(p.status, 201) << p.body;
        tenant_ = s_->Tenant("fleet-a");
        owner_ = s_->Token(tenant_, "operator");
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }
    static std::string Create(Client& c, const std::string& name, const std::string& extra = "") {
        auto r = c.Do(
            "POST",
            "/v1/instances",
            R"({"metadata":{"name":")" + name +
                R"("},"spec":{"product":"workspace","plan":"small")" + extra + "}}"
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return Str(r.Json(), {"metadata", "id"});
    }
    static LiveServer* s_;
    static std::string tenant_, owner_;
};
LiveServer* FleetTest::s_ = nullptr;
std::string FleetTest::tenant_;
std::string FleetTest::owner_;

TEST_F(FleetTest, TheCatalogueIsReadByEveryoneAndWrittenByAdmins) {
    auto op = s_->As(owner_);
    auto list = op.Do("GET", "/v1/products");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.Json().at("items").as_array().size(), 1U);
    EXPECT_EQ(op.Do("GET", "/v1/plans").Json().at("items").as_array().size(), 2U);
    EXPECT_EQ(
        op.Do("POST",
              "/v1/plans",
              R"({"metadata":{"name":"free"},"spec":{"memory_mb":1,"cpu_millis":1}})")
            .status,
        403
    );
    auto bad = s_->Admin().Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"broken"},"spec":{"versions":[{"version":"1","run":{"docker":{}}}]}})"
    );
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Str(bad.Json(), {"error", "details", "field"}), "spec.versions[0].run.docker");
    auto dupe = s_->Admin().Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"twice"},"spec":{"versions":[{"version":"1","run":{}},{"version":"1","run":{}}]}})"
    );
    EXPECT_EQ(dupe.status, 400);
    auto health = s_->Admin().Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"h"},"spec":{"versions":[{"version":"1","run":{},"health":{"http":{"path":"/"},"tcp":{}}}]}})"
    );
    EXPECT_EQ(health.status, 400) << "one kind of health check";
    auto ports = s_->Admin().Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"p"},"spec":{"versions":[{"version":"1","run":{"process":{"command":["x"],"extra_ports":["api","API"]}}}]}})"
    );
    EXPECT_EQ(ports.status, 400);
    EXPECT_EQ(
        Str(ports.Json(), {"error", "details", "field"}), "spec.versions[0].run.process.extra_ports"
    );
}

TEST_F(FleetTest, AnInstanceIsProvisionedAndRuns) {
    auto op = s_->As(owner_);
    std::string id = Create(op, "runs");
    auto got = WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) {
        return PhaseIs(r, "Running");
    });
    EXPECT_EQ(Str(got, {"status", "phase"}), "Running");
    EXPECT_EQ(Str(got, {"spec", "version"}), "1.1.0") << "the product's default version";
    EXPECT_EQ(Str(got, {"status", "observed_generation"}), Str(got, {"metadata", "generation"}));
    EXPECT_EQ(Str(got, {"status", "endpoint"}), "sim://" + id);
    const auto& conds = got.at("status").at("conditions").as_array();
    ASSERT_EQ(conds.size(), 1U);
    EXPECT_EQ(Str(conds[0], {"type"}), "Ready");
    EXPECT_EQ(Str(conds[0], {"status"}), "True");
    const auto& events = got.at("status").at("events").as_array();
    ASSERT_GE(events.size(), 2U);
    EXPECT_EQ(Str(events[0], {"reason"}), "Provisioning");
    EXPECT_EQ(Str(events.back(), {"reason"}), "Running");
    // Status writes by the controller are not audited; the create is.
    auto audit = s_->Admin().Do("GET", "/v1/audit?tenant=" + tenant_ + "&action=instance.create");
    EXPECT_EQ(audit.Json().at("items").as_array().size(), 1U);
}

TEST_F(FleetTest, SuspendResumeAndRestart) {
    auto op = s_->As(owner_);
    std::string id = Create(op, "actions");
    WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) { return PhaseIs(r, "Running"); });
    EXPECT_EQ(op.Do("POST", "/v1/instances/" + id + ":suspend").status, 200);
    auto s = WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) {
        return PhaseIs(r, "Suspended");
    });
    EXPECT_EQ(Str(s, {"status", "phase"}), "Suspended");
    EXPECT_EQ(op.Do("POST", "/v1/instances/" + id + ":resume").status, 200);
    auto back = WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) {
        return PhaseIs(r, "Running");
    });
    EXPECT_EQ(Str(back, {"status", "phase"}), "Running");
    auto restarted = op.Do("POST", "/v1/instances/" + id + ":restart");
    EXPECT_EQ(Str(restarted.Json(), {"spec", "restart_nonce"}), "1");
    auto after = WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) {
        return PhaseIs(r, "Running") && Str(r.Json(), {"status", "restarts"}) == "1";
    });
    EXPECT_EQ(Str(after, {"status", "restarts"}), "1") << "a restart counts; a resume does not";
    EXPECT_EQ(
        s_->As(s_->Token(tenant_, "viewer")).Do("POST", "/v1/instances/" + id + ":suspend").status,
        403
    );
    EXPECT_EQ(op.Do("POST", "/v1/instances/" + id + ":explode").status, 404);
}

TEST_F(FleetTest, QuotasAndReferencesAreCheckedAtCreate) {
    std::string t = s_->Tenant("fleet-quota");
    auto op = s_->As(s_->Token(t, "operator"));
    auto missing = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"x"},"spec":{"product":"nope","plan":"small"}})"
    );
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(Str(missing.Json(), {"error", "details", "field"}), "spec.product");
    auto version = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"x"},"spec":{"product":"workspace","version":"9.9","plan":"small"}})"
    );
    EXPECT_EQ(version.status, 400);
    EXPECT_EQ(Str(version.Json(), {"error", "details", "field"}), "spec.version");
    auto too_big = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"x"},"spec":{"product":"workspace","plan":"huge"}})"
    );
    EXPECT_EQ(too_big.status, 422);
    EXPECT_EQ(Str(too_big.Json(), {"error", "details", "quota"}), "max_total_memory_mb");
    for (int i = 0; i < 3; ++i) {
        Create(op, "q" + std::to_string(i));
    }
    auto fourth = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"q3"},"spec":{"product":"workspace","plan":"small"}})"
    );
    EXPECT_EQ(fourth.status, 422);
    EXPECT_EQ(fourth.ErrorCode(), "unprocessable");
    EXPECT_EQ(Str(fourth.Json(), {"error", "details", "quota"}), "max_instances");
    EXPECT_NE(
        Str(fourth.Json(), {"error", "message"}).find("allows 3 instances"), std::string::npos
    );
    auto unknown = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"u"},"spec":{"product":"workspace","plan":"small","colour":"red"}})"
    );
    EXPECT_EQ(Str(unknown.Json(), {"error", "details", "field"}), "spec.colour");
}

TEST_F(FleetTest, ConcurrentCreatesCannotShareTheLastQuotaSlot) {
    std::string t = s_->Tenant("fleet-race");
    std::string token = s_->Token(t, "operator");
    std::vector<int> statuses(12);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < statuses.size(); ++i) {
        threads.emplace_back([&, i] {
            auto c = s_->As(token);
            statuses[i] = c.Do("POST",
                               "/v1/instances",
                               R"({"metadata":{"name":"r)" + std::to_string(i) +
                                   R"("},"spec":{"product":"workspace","plan":"small"}})")
                              .status;
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 3)
        << "the plan allows 3 instances";
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 422), 9);
    EXPECT_EQ(s_->As(token).Do("GET", "/v1/instances").Json().at("items").as_array().size(), 3U);
}

TEST_F(FleetTest, MetricsCountInstancesByPhaseAndReconciles) {
    auto op = s_->As(owner_);
    std::string id = Create(op, "counted");
    WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) { return PhaseIs(r, "Running"); });
    auto m = s_->Admin().Do("GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("hangar_instances{phase=\"Running\"}"), std::string::npos) << m.body;
    EXPECT_NE(
        m.body.find("hangar_reconciles_total{controller=\"instance\",result=\"ok\"}"),
        std::string::npos
    );
}

TEST_F(FleetTest, DeletionWaitsForTeardownAndHonoursProtection) {
    auto op = s_->As(owner_);
    std::string id = Create(op, "doomed", R"(,"deletion_protection":true)");
    WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) { return PhaseIs(r, "Running"); });
    auto refused = op.Do("DELETE", "/v1/instances/" + id);
    EXPECT_EQ(refused.status, 409);
    EXPECT_NE(
        Str(refused.Json(), {"error", "message"}).find("deletion protection"), std::string::npos
    );
    auto off = op.Do(
        "PUT",
        "/v1/instances/" + id,
        R"({"spec":{"product":"workspace","plan":"small","deletion_protection":false}})"
    );
    ASSERT_EQ(off.status, 200) << off.body;
    auto accepted = op.Do("DELETE", "/v1/instances/" + id);
    EXPECT_EQ(accepted.status, 202);
    EXPECT_NE(Str(accepted.Json(), {"metadata", "deletion_requested_at"}), "");
    auto gone =
        WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& r) { return r.status == 404; });
    EXPECT_EQ(op.Do("GET", "/v1/instances/" + id).status, 404);
    auto fin = s_->Admin().Do("GET", "/v1/audit?action=instance.finalize");
    EXPECT_EQ(fin.Json().at("items").as_array().size(), 1U)
        << "the controller's removal is audited";
}

TEST_F(FleetTest, AFailingBackupHoldsTheTeardownUntilItSucceeds) {
    auto admin = s_->Admin();
    std::string product =
        R"({"metadata":{"name":"keep"},"spec":{"versions":[{"version":"1","run":{"simulated":{}},"backup_command":["BACKUP"]}]}})";
    auto failing = product;
    failing.replace(failing.find("BACKUP"), 6, "false");
    auto created = admin.Do("POST", "/v1/products", failing);
    ASSERT_EQ(created.status, 201) << created.body;
    std::string pid = Str(created.Json(), {"metadata", "id"});
    auto op = s_->As(owner_);
    auto r = op.Do(
        "POST",
        "/v1/instances",
        R"({"metadata":{"name":"kept"},"spec":{"product":"keep","plan":"small"}})"
    );
    ASSERT_EQ(r.status, 201) << r.body;
    std::string id = Str(r.Json(), {"metadata", "id"});
    WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& x) { return PhaseIs(x, "Running"); });
    ASSERT_EQ(op.Do("DELETE", "/v1/instances/" + id).status, 202);
    auto held = WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& x) {
        return x.status == 200 &&
               json::serialize(x.Json()).find("BackupFailed") != std::string::npos;
    });
    EXPECT_EQ(Str(held, {"status", "phase"}), "Deleting") << json::serialize(held);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(op.Do("GET", "/v1/instances/" + id).status, 200)
        << "not torn down without its backup";

    auto working = product;
    working.replace(working.find("BACKUP"), 6, "true");
    auto fixed = admin.Do("PUT", "/v1/products/" + pid, working);
    ASSERT_EQ(fixed.status, 200) << fixed.body;
    WaitFor(op, "/v1/instances/" + id, [](const HttpResponse& x) { return x.status == 404; });
    EXPECT_EQ(op.Do("GET", "/v1/instances/" + id).status, 404) << "backed up, then torn down";
}

TEST_F(FleetTest, AnotherTenantCannotSeeOrTouchInstances) {
    auto op = s_->As(owner_);
    std::string id = Create(op, "private");
    auto other = s_->As(s_->Token(s_->Tenant("fleet-b"), "owner"));
    EXPECT_EQ(other.Do("GET", "/v1/instances/" + id).status, 404);
    EXPECT_EQ(other.Do("POST", "/v1/instances/" + id + ":suspend").status, 404);
    EXPECT_EQ(other.Do("DELETE", "/v1/instances/" + id).status, 404);
    EXPECT_EQ(other.Do("GET", "/v1/instances").Json().at("items").as_array().size(), 0U);
}

TEST(FleetRestart, InstancesConvergeAgainAfterKillNine) {
    LiveServer s({"--provisioner", "simulated", "--sim-latency", "50ms"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto admin = s.Admin();
    admin.Do(
        "POST", "/v1/plans", R"({"metadata":{"name":"p"},"spec":{"memory_mb":64,"cpu_millis":100}})"
    );
    admin.Do(
        "POST",
        "/v1/products",
        R"({"metadata":{"name":"app"},"spec":{"versions":[{"version":"1","run":{"simulated":{}}}]}})"
    );
    std::string t = s.Tenant("restart");
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        auto r = admin.Do(
            "POST",
            "/v1/instances",
            json::serialize(json::object{
                {"metadata", {{"name", "i" + std::to_string(i)}, {"tenant", t}}},
                {"spec", {{"product", "app"}, {"plan", "p"}}}})
        );
        ASSERT_EQ(r.status, 201) << r.body;
        ids.push_back(Str(r.Json(), {"metadata", "id"}));
    }
    s.process().Kill();
    ASSERT_TRUE(s.Start()) << s.process().Log();
    auto again = s.Admin();
    for (const auto& id : ids) {
        auto got = WaitFor(again, "/v1/instances/" + id, [](const HttpResponse& r) {
            return PhaseIs(r, "Running");
        });
        EXPECT_EQ(Str(got, {"status", "phase"}), "Running") << id;
    }
    EXPECT_EQ(
        again.Do("GET", "/v1/instances?limit=1000").Json().at("items").as_array().size(), 10U
    );
}

}  // namespace
}  // namespace hangar::testing

namespace hangar::testing {
namespace {

TEST(PlanApply, TheFleetFollowsItsFiles) {
    LiveServer s({"--provisioner", "simulated", "--sim-latency", "20ms"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string token = s.process().AdminToken();
    std::string fleet = std::string(HANGAR_SOURCE_DIR) + "/examples/fleet.yaml";
    std::string out, err;
    auto cli = [&](std::vector<std::string> args) {
        std::vector<std::string> full = {"--server", s.Url(), "--token", token};
        full.insert(full.end(), args.begin(), args.end());
        return RunCli(full, out, err);
    };
    ASSERT_EQ(cli({"plan", "-f", fleet}), 0) << err;
    EXPECT_NE(out.find("+ create Instance acme/chat"), std::string::npos) << out;
    EXPECT_NE(out.find("+ create Workspace acme/acme-self-hosted"), std::string::npos) << out;
    EXPECT_NE(out.find("14 changes planned"), std::string::npos) << out;
    EXPECT_EQ(s.Admin().Do("GET", "/v1/tenants").Json().at("items").as_array().size(), 0U)
        << "plan changes nothing";
    ASSERT_EQ(cli({"apply", "-f", fleet}), 0) << err;
    EXPECT_EQ(s.Admin().Do("GET", "/v1/instances").Json().at("items").as_array().size(), 4U);
    ASSERT_EQ(cli({"plan", "-f", fleet}), 0) << err;
    EXPECT_NE(out.find("No changes"), std::string::npos) << out;

    // Edit the file: upgrade one instance, drop another.
    TempDir dir;
    std::string edited = dir.path() + "/fleet.yaml";
    {
        std::ifstream in(fleet);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        const std::string from = "version: \"1.0.0\", plan: medium";
        text.replace(text.find(from), from.size(), "version: \"1.1.0\", plan: medium");
        auto cache = text.find("kind: Instance\nmetadata: {name: cache");
        auto end = text.find("---", cache);
        text.erase(cache, end + 4 - cache);
        std::ofstream(edited) << text;
    }
    ASSERT_EQ(cli({"plan", "-f", edited, "--prune", "-l", "managed-by=fleet-repo"}), 0) << err;
    EXPECT_NE(
        out.find("~ update Instance acme/chat\n    ~ spec.version: 1.0.0 -> 1.1.0"),
        std::string::npos
    ) << out;
    EXPECT_NE(out.find("- delete Instance acme/cache"), std::string::npos) << out;
    EXPECT_NE(out.find("2 changes planned"), std::string::npos) << out;
    ASSERT_EQ(cli({"apply", "-f", edited, "--prune", "-l", "managed-by=fleet-repo"}), 0) << err;
    Client admin = s.Admin();
    auto gone = WaitFor(admin, "/v1/instances", [](const HttpResponse& r) {
        return r.status == 200 && r.Json().at("items").as_array().size() == 3;
    });
    EXPECT_EQ(gone.at("items").as_array().size(), 3U);
    ASSERT_EQ(cli({"plan", "-f", edited, "--prune", "-l", "managed-by=fleet-repo"}), 0) << err;
    EXPECT_NE(out.find("No changes"), std::string::npos) << out;
    // Deleted by hand, then applied again: the instance is created anew (not an earlier
    // apply's answer replayed for the same idempotency key).
    std::string globex_chat;
    json::value listed = admin.Do("GET", "/v1/instances").Json();
    for (const auto& i : listed.at("items").as_array()) {
        if (Str(i, {"metadata", "name"}) == "chat" && Str(i, {"spec", "plan"}) == "small") {
            globex_chat = Str(i, {"metadata", "id"});
        }
    }
    ASSERT_FALSE(globex_chat.empty());
    ASSERT_EQ(admin.Do("DELETE", "/v1/instances/" + globex_chat).status, 202);
    auto fewer = WaitFor(admin, "/v1/instances", [](const HttpResponse& r) {
        return r.status == 200 && r.Json().at("items").as_array().size() == 2;
    });
    ASSERT_EQ(fewer.at("items").as_array().size(), 2U);
    ASSERT_EQ(cli({"apply", "-f", edited, "--prune", "-l", "managed-by=fleet-repo"}), 0) << err;
    EXPECT_NE(out.find("+ create Instance globex/chat"), std::string::npos) << out;
    auto back = admin.Do("GET", "/v1/instances").Json();
    EXPECT_EQ(back.at("items").as_array().size(), 3U)
        << "globex/chat exists again: " << json::serialize(back);

    // Bad files are refused with where and what.
    std::ofstream(dir.path() + "/bad.yaml") << "kind: Spaceship\nmetadata: {name: x}\n";
    EXPECT_EQ(cli({"apply", "-f", dir.path() + "/bad.yaml"}), 3);
    EXPECT_NE(err.find("bad.yaml (document 1): kind \"Spaceship\""), std::string::npos) << err;
    std::ofstream(dir.path() + "/broken.yaml") << "kind: Plan\nmetadata: {name: [\n";
    EXPECT_EQ(cli({"plan", "-f", dir.path() + "/broken.yaml"}), 3);
    EXPECT_EQ(cli({"apply", "-f", fleet, "--prune"}), 3) << "--prune without a selector is refused";
}

}  // namespace
}  // namespace hangar::testing

namespace hangar::testing {
namespace {

class RolloutTest : public ::testing::Test {
protected:
    void SetUp() override {
        s_ = std::make_unique<LiveServer>(std::vector<std::string>{
            "--provisioner", "simulated", "--sim-latency", "20ms"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto admin = s_->Admin();
        admin.Do(
            "POST",
            "/v1/plans",
            R"({"metadata":{"name":"p"},"spec":{"memory_mb":64,"cpu_millis":100}})"
        );
        auto prod = admin.Do(
            "POST",
            "/v1/products",
            R"({"metadata":{"name":"app"},"spec":{"default_version":"1","versions":[{"version":"1","run":{"simulated":{}}},{"version":"2","run":{"simulated":{}}},{"version":"broken","run":{"simulated":{"fail":true}}}]}})"
        );
        ASSERT_EQ(prod.status, 201) << prod.body;
        std::string t = s_->Tenant("ro");
        for (int i = 0; i < 6; ++i) {
            auto r = admin.Do(
                "POST",
                "/v1/instances",
                json::serialize(json::object{
                    {"metadata", {{"name", "i" + std::to_string(i)}, {"tenant", t}}},
                    {"spec",
                     {{"product", "app"},
                      {"plan", "p"},
                      {"release_channel", i == 3 ? "canary" : "stable"}}}})
            );
            ASSERT_EQ(r.status, 201) << r.body;
            ids_.push_back(Str(r.Json(), {"metadata", "id"}));
        }
        canary_ = ids_[3];
        for (const auto& id : ids_) {
            WaitFor(admin, "/v1/instances/" + id, [](const HttpResponse& r) {
                return PhaseIs(r, "Running");
            });
        }
    }
    std::string StartRollout(const std::string& extra) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/rollouts",
            R"({"metadata":{"name":"r)" + std::to_string(n_++) + R"("},"spec":{"product":"app")" +
                extra + "}}"
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return Str(r.Json(), {"metadata", "id"});
    }
    json::value WaitPhase(const std::string& id, std::initializer_list<const char*> phases) {
        Client admin = s_->Admin();
        return WaitFor(admin, "/v1/rollouts/" + id, [&](const HttpResponse& r) {
            std::string p = Str(r.Json(), {"status", "phase"});
            return std::any_of(phases.begin(), phases.end(), [&](const char* want) {
                return p == want;
            });
        });
    }
    std::vector<std::string> Upgrades() {
        std::vector<std::string> order;
        json::value a =
            s_->Admin().Do("GET", "/v1/audit?action=instance.upgrade&limit=1000").Json();
        for (const auto& e : a.at("items").as_array()) {
            order.push_back(Str(e, {"object"}));
        }
        return order;
    }
    std::unique_ptr<LiveServer> s_;
    std::vector<std::string> ids_;
    std::string canary_;
    int n_ = 0;
};

TEST_F(RolloutTest, MovesEveryInstanceInWavesCanaryFirst) {
    std::string id =
        StartRollout(R"(,"target_version":"2","health_gate_seconds":0,"max_unavailable":2)");
    auto done = WaitPhase(id, {"Completed", "Halted"});
    ASSERT_EQ(Str(done, {"status", "phase"}), "Completed") << json::serialize(done);
    EXPECT_EQ(Str(done, {"status", "total"}), "6");
    EXPECT_EQ(Str(done, {"status", "upgraded"}), "6");
    for (const auto& i : ids_) {
        EXPECT_EQ(
            Str(s_->Admin().Do("GET", "/v1/instances/" + i).Json(), {"spec", "version"}), "2"
        );
    }
    auto order = Upgrades();
    ASSERT_EQ(order.size(), 6U) << "each instance upgraded exactly once";
    EXPECT_EQ(order.front(), canary_) << "the canary goes first";
    std::string out, err;
    EXPECT_EQ(
        RunCli(
            {"--server",
             s_->Url(),
             "--token",
             s_->process().AdminToken(),
             "rollout",
             "status",
             id,
             "--watch"},
            out,
            err
        ),
        0
    ) << err;
    EXPECT_NE(out.find("6/6 to 2"), std::string::npos) << out;
    EXPECT_NE(out.find("Completed"), std::string::npos) << out;
}

TEST_F(RolloutTest, AFailedHealthGateHaltsAtTheCanaryAndRollsItBack) {
    std::string id = StartRollout(
        R"(,"target_version":"broken","health_gate_seconds":0,"gate_timeout_seconds":30)"
    );
    auto halted = WaitPhase(id, {"Halted", "Completed"});
    ASSERT_EQ(Str(halted, {"status", "phase"}), "Halted") << json::serialize(halted);
    EXPECT_NE(Str(halted, {"status", "message"}).find("failed its health gate"), std::string::npos);
    EXPECT_NE(Str(halted, {"status", "message"}).find("rolled back to 1"), std::string::npos);
    auto order = Upgrades();
    ASSERT_EQ(order.size(), 1U) << "only the canary was touched";
    EXPECT_EQ(order[0], canary_);
    auto canary = WaitFor(
        *std::make_unique<Client>(s_->Admin()),
        "/v1/instances/" + canary_,
        [](const HttpResponse& r) { return PhaseIs(r, "Running"); }
    );
    EXPECT_EQ(Str(canary, {"spec", "version"}), "1");
    EXPECT_EQ(Str(canary, {"status", "phase"}), "Running") << "back on its old version and healthy";
    std::string out, err;
    EXPECT_EQ(
        RunCli(
            {"--server", s_->Url(), "--token", s_->process().AdminToken(), "rollout", "status", id},
            out,
            err
        ),
        12
    );
    EXPECT_NE(out.find("Halted"), std::string::npos) << out;
}

TEST_F(RolloutTest, PauseResumeAndAbort) {
    std::string id = StartRollout(R"(,"target_version":"2","health_gate_seconds":0,"paused":true)");
    auto paused = WaitPhase(id, {"Paused"});
    EXPECT_EQ(Str(paused, {"status", "phase"}), "Paused");
    EXPECT_EQ(Upgrades().size(), 0U) << "a paused rollout moves nothing";
    EXPECT_EQ(s_->Admin().Do("POST", "/v1/rollouts/" + id + ":resume").status, 200);
    EXPECT_EQ(Str(WaitPhase(id, {"Completed"}), {"status", "phase"}), "Completed");

    std::string other = StartRollout(R"(,"target_version":"1","paused":true)");
    WaitPhase(other, {"Paused"});
    EXPECT_EQ(s_->Admin().Do("POST", "/v1/rollouts/" + other + ":abort").status, 200);
    EXPECT_EQ(Str(WaitPhase(other, {"Aborted"}), {"status", "phase"}), "Aborted");
    auto bad = s_->Admin().Do(
        "POST",
        "/v1/rollouts",
        R"({"metadata":{"name":"nope"},"spec":{"product":"app","target_version":"9"}})"
    );
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Str(bad.Json(), {"error", "details", "field"}), "spec.target_version");
    auto waves = s_->Admin().Do(
        "POST",
        "/v1/rollouts",
        R"({"metadata":{"name":"w"},"spec":{"product":"app","target_version":"2","waves":[50,20]}})"
    );
    EXPECT_EQ(waves.status, 400);
}

TEST_F(RolloutTest, KillNineInTheMiddleFinishesAfterRestartWithoutRepeatingAnInstance) {
    std::string id = StartRollout(R"(,"target_version":"2","health_gate_seconds":1)");
    for (int i = 0; i < 100 && Upgrades().size() < 2; ++i) {  // bounded
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    s_->process().Kill();
    ASSERT_TRUE(s_->Start()) << s_->process().Log();
    auto done = WaitPhase(id, {"Completed", "Halted"});
    EXPECT_EQ(Str(done, {"status", "phase"}), "Completed") << json::serialize(done);
    auto order = Upgrades();
    std::set<std::string> unique(order.begin(), order.end());
    EXPECT_EQ(order.size(), 6U);
    EXPECT_EQ(unique.size(), 6U) << "no instance was upgraded twice";
}

}  // namespace
}  // namespace hangar::testing
