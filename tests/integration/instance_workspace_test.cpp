// A managed instance's own Workspace: a product with a "workspace" block gives each instance a
// Workspace, and the instance (the real sample `hangar-workspace` process) registers with it
// from the environment it is started with, syncs and reports; the workspace follows the
// instance's plan and goes with the instance.

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <signal.h>

#include "fixture.hpp"

namespace hangar::testing {
namespace {

constexpr std::string_view kRun =
    R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},"health":{"http":{"path":"/healthz"}})";

class InstanceWorkspaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        s_ = std::make_unique<LiveServer>(std::vector<std::string>{
            "--provisioner", "process", "--restart-backoff", "50ms"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto admin = s_->Admin();
        for (auto plan : {"small", "medium"}) {
            auto p = admin.Do(
                "POST",
                "/v1/plans",
                fmt::format(
                    R"({{"metadata":{{"name":"{}"}},"spec":{{"memory_mb":64,"cpu_millis":100}}}})",
                    plan
                )
            );
            ASSERT_EQ(p.status, 201) << p.body;
        }
        auto p = admin.Do(
            "POST",
            "/v1/products",
            fmt::format(
                R"({{"metadata":{{"name":"chat"}},"spec":{{"versions":[{{"version":"1.0",{}}}],)"
                R"("workspace":{{"scopes":["workspace:license:read","workspace:stats:write","workspace:push:send"]}}}}}})",
                kRun
            )
        );
        ASSERT_EQ(p.status, 201) << p.body;
        tenant_ = s_->Tenant("acme");
    }
    void TearDown() override { DeleteEveryInstance(*s_); }
    std::string Create(const std::string& name) {
        return CreateInstance(*s_, tenant_, name, "chat", "small");
    }
    // The workspace whose spec.instance is `instance` (null when there is none).
    json::value WorkspaceOf(const std::string& instance) {
        auto list = s_->Admin().Do("GET", "/v1/workspaces?limit=1000").Json();
        for (const auto& item : list.at("items").as_array()) {
            if (Str(item, {"spec", "instance"}) == instance) {
                return item;
            }
        }
        return nullptr;
    }
    std::unique_ptr<LiveServer> s_;
    std::string tenant_;
};

TEST_F(InstanceWorkspaceTest, AnInstanceRegistersWithItsOwnWorkspaceWhichGoesWithIt) {
    auto admin = s_->Admin();
    std::string id = Create("chat-1");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << json::serialize(running);

    json::value ws = WorkspaceOf(id);
    ASSERT_TRUE(ws.is_object()) << "the instance has a workspace";
    std::string wid = Str(ws, {"metadata", "id"});
    EXPECT_EQ(Str(ws, {"metadata", "name"}), "chat-1");
    EXPECT_EQ(Str(ws, {"metadata", "tenant"}), tenant_);
    EXPECT_EQ(Str(ws, {"spec", "plan"}), "small");
    EXPECT_EQ(ws.at("spec").at("scopes").as_array().size(), 3U);

    // The instance registered itself, synced and reported its statistics.
    auto synced = WaitFor(admin, "/v1/workspaces/" + wid, [](const json::value& v) {
        return Str(v, {"status", "registration"}) == "Registered" &&
               v.at("status").as_object().contains("statistics");
    });
    ASSERT_EQ(Str(synced, {"status", "registration"}), "Registered") << json::serialize(synced);
    EXPECT_EQ(Str(synced, {"status", "registered_via"}), "token");
    EXPECT_EQ(Str(synced, {"status", "version"}), "1.0.0");
    EXPECT_FALSE(synced.at("status").as_object().contains("registration_token"))
        << "the token was used up";
    std::string registered_at = Str(synced, {"status", "registered_at"});
    Client app("127.0.0.1", EndpointPort(running));
    auto cloud = app.Do("GET", "/cloud");
    ASSERT_EQ(cloud.status, 200);
    EXPECT_EQ(Str(cloud.Json(), {"state"}), "registered") << cloud.body;
    EXPECT_EQ(Str(cloud.Json(), {"workspace_id"}), wid);
    EXPECT_TRUE(cloud.Json().at("license_verified").as_bool());
    EXPECT_FALSE(cloud.Json().as_object().contains("access_token"))
        << "the page keeps the bearer token to itself";

    // Made by the controller, in the audit log.
    auto audit = admin.Do("GET", "/v1/audit?action=workspace.create").Json();
    bool made = false;
    for (const auto& e : audit.at("items").as_array()) {
        made = made || (Str(e, {"object"}) == wid && Str(e, {"actor"}) == "controller:instance");
    }
    EXPECT_TRUE(made) << json::serialize(audit);

    // A restart keeps the registration (the instance kept its credentials).
    auto restart = admin.Do("POST", "/v1/instances/" + id + ":restart");
    ASSERT_EQ(restart.status, 200) << restart.body;
    int64_t generation = restart.Json().at("metadata").at("generation").as_int64();
    auto back = WaitFor(admin, "/v1/instances/" + id, [&](const json::value& v) {
        const json::value* seen = v.at("status").as_object().if_contains("observed_generation");
        return Phase(v) == "Running" && seen != nullptr && seen->as_int64() >= generation;
    });
    ASSERT_EQ(Phase(back), "Running") << json::serialize(back);
    Client app2("127.0.0.1", EndpointPort(back));
    json::value state;
    for (int i = 0; i < 200; ++i) {  // bounded: 10 s
        auto r = app2.Do("GET", "/cloud");
        if (r.status == 200 && Str(r.Json(), {"state"}) == "registered") {
            state = r.Json();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(Str(state, {"workspace_id"}), wid) << json::serialize(state);
    EXPECT_EQ(
        Str(admin.Do("GET", "/v1/workspaces/" + wid).Json(), {"status", "registered_at"}),
        registered_at
    );

    // A resize moves the workspace to the new plan (its push quota).
    auto cur = admin.Do("GET", "/v1/instances/" + id);
    auto put = admin.Do(
        "PUT",
        "/v1/instances/" + id,
        R"({"spec":{"product":"chat","plan":"medium"}})",
        {{"If-Match", cur.headers["etag"]}}
    );
    ASSERT_EQ(put.status, 200) << put.body;
    auto moved = WaitFor(admin, "/v1/workspaces/" + wid, [](const json::value& v) {
        return Str(v, {"spec", "plan"}) == "medium";
    });
    EXPECT_EQ(Str(moved, {"spec", "plan"}), "medium");

    // Deleting the instance deletes its workspace.
    ASSERT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
    EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404);
    EXPECT_EQ(admin.Do("GET", "/v1/workspaces/" + wid).status, 404);
}

TEST_F(InstanceWorkspaceTest, ANameTakenByAnotherWorkspaceIsLeftAlone) {
    auto admin = s_->Admin();
    auto other = admin.Do(
        "POST",
        "/v1/workspaces",
        json::serialize(json::object{
            {"metadata", {{"name", "chat-2"}, {"tenant", tenant_}}}, {"spec", json::object{}}})
    );
    ASSERT_EQ(other.status, 201) << other.body;
    std::string id = Create("chat-2");
    auto running = WaitFor(admin, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << json::serialize(running);
    json::value ws = WorkspaceOf(id);
    ASSERT_TRUE(ws.is_object());
    std::string by_id = id;
    std::replace(by_id.begin(), by_id.end(), '_', '-');
    EXPECT_EQ(Str(ws, {"metadata", "name"}), by_id);
    auto untouched = admin.Do("GET", "/v1/workspaces/" + Str(other.Json(), {"metadata", "id"}));
    EXPECT_EQ(
        untouched.Json().at("metadata").at("revision"), other.Json().at("metadata").at("revision")
    );
    ASSERT_EQ(admin.Do("DELETE", "/v1/instances/" + id).status, 202);
    WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
    EXPECT_EQ(admin.Do("GET", "/v1/workspaces/" + Str(ws, {"metadata", "id"})).status, 404);
    EXPECT_EQ(
        admin.Do("GET", "/v1/workspaces/" + Str(other.Json(), {"metadata", "id"})).status, 200
    ) << "the other workspace stays";
}

TEST_F(InstanceWorkspaceTest, AProductsWorkspaceBlockIsReadStrictly) {
    auto admin = s_->Admin();
    struct Case {
        std::string block, field;
    };
    for (const Case& c :
         {Case{R"({"scopes":["root"]})", "spec.workspace.scopes"},
          Case{R"({"plan":"small"})", "spec.workspace.plan"},
          Case{R"("yes")", "spec.workspace"},
          Case{R"({"scopes":"workspace:push:send"})", "spec.workspace.scopes"}}) {
        auto r = admin.Do(
            "POST",
            "/v1/products",
            fmt::format(
                R"({{"metadata":{{"name":"bad"}},"spec":{{"versions":[{{"version":"1",{}}}],"workspace":{}}}}})",
                kRun,
                c.block
            )
        );
        EXPECT_EQ(r.status, 400) << c.block << ": " << r.body;
        EXPECT_NE(r.body.find(c.field), std::string::npos) << c.block << ": " << r.body;
    }
    EXPECT_EQ(admin.Do("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace hangar::testing
