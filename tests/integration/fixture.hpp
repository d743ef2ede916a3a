#pragma once
// A real `hangar serve` per test suite, on a loopback port, plus helpers to make tenants and
// tokens through the public API.

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "bench_support.hpp"
#include "http_client.hpp"
#include "server_process.hpp"

namespace hangar::testing {

namespace json = boost::json;

class LiveServer {
public:
    explicit LiveServer(
        std::vector<std::string> flags = {},
        std::map<std::string, std::string> env = {}
    )
        : server_(dir_.path() + "/data", std::move(flags), std::move(env)) {}
    // The server goes first; then any process still running from its data folder is a process
    // the test left behind (instances outlive their server by design): kill it and fail.
    ~LiveServer() {
        // A failed test shows the end of the server's log (its folder goes with the test), and
        // whether the server was still running: what a flaky failure in CI leaves to read.
        if (::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
            ::testing::Test::HasFailure()) {
            std::string log = server_.Log();
            fprintf(
                stderr,
                "---- the server was %s; the end of its log:\n%s\n----\n",
                server_.Running() ? "running" : "NOT running",
                log.substr(log.size() > 8000 ? log.size() - 8000 : 0).c_str()
            );
        }
        server_.Kill();
        for (const std::string& p : KillProcessesUsing(dir_.path())) {
            ADD_FAILURE() << "a process of this test's data folder was still running (killed now): "
                          << p;
        }
    }
    LiveServer(const LiveServer&) = delete;
    LiveServer& operator=(const LiveServer&) = delete;
    bool Start() { return server_.Start(); }
    ServerProcess& process() { return server_; }
    int port() const { return server_.port(); }
    std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
    Client As(const std::string& token) const {
        Client c("127.0.0.1", server_.port());
        c.SetToken(token);
        return c;
    }
    Client Admin() const { return As(server_.AdminToken()); }
    Client Anonymous() const { return Client("127.0.0.1", server_.port()); }

    // Creates a tenant; returns its id.
    std::string Tenant(const std::string& name) {
        auto r = Admin().Do(
            "POST",
            "/v1/tenants",
            json::serialize(json::object{
                {"metadata", {{"name", name}}}, {"spec", {{"display_name", name}}}})
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? std::string(r.Json().at("metadata").at("id").as_string()) : "";
    }
    // Creates a token; returns its secret (and its id in *id).
    std::string
    Token(const std::string& tenant, const std::string& role, std::string* id = nullptr) {
        json::object body{{"role", role}};
        if (!tenant.empty()) {
            body["tenant"] = tenant;
        }
        auto r = Admin().Do("POST", "/v1/tokens", json::serialize(body));
        EXPECT_EQ(r.status, 201) << r.body;
        if (r.status != 201) {
            return "";
        }
        if (id != nullptr) {
            *id = std::string(r.Json().at("id").as_string());
        }
        return std::string(r.Json().at("token").as_string());
    }

private:
    TempDir dir_;
    ServerProcess server_;
};

// An instance's phase, and the port of its endpoint (0 when it has none).
inline std::string Phase(const json::value& v) {
    return Str(v, {"status", "phase"});
}
inline int EndpointPort(const json::value& v) {
    std::string ep = Str(v, {"status", "endpoint"});
    auto colon = ep.rfind(':');
    return colon == std::string::npos ? 0 : std::stoi(ep.substr(colon + 1));
}

// GETs `path` until `pred` holds (or the answer is 404), 50 ms apart, at most `tries` times (30 s
// by default: slow under ASan on a busy machine); returns the last body.
inline json::value WaitFor(
    Client& c,
    const std::string& path,
    const std::function<bool(const json::value&)>& pred,
    int tries = 600
) {
    json::value last;
    for (int i = 0; i < tries; ++i) {
        auto r = c.Do("GET", path);
        last = r.Json();
        if (r.status == 200 && pred(last)) {
            break;
        }
        if (r.status == 404) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last;
}
inline json::value WaitFor(
    Client&& c,
    const std::string& path,
    const std::function<bool(const json::value&)>& pred,
    int tries = 600
) {
    return WaitFor(c, path, pred, tries);
}

// Creates an instance of `product` on `plan` in `tenant` as the admin; returns its id.
inline std::string CreateInstance(
    LiveServer& s,
    const std::string& tenant,
    const std::string& name,
    const std::string& product,
    const std::string& plan
) {
    auto r = s.Admin().Do(
        "POST",
        "/v1/instances",
        json::serialize(json::object{
            {"metadata", {{"name", name}, {"tenant", tenant}}},
            {"spec", {{"product", product}, {"plan", plan}}}})
    );
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(r.Json(), {"metadata", "id"});
}

// Deletes every instance and waits (bounded) until each is gone, so no test leaves a process
// behind.
inline void DeleteEveryInstance(LiveServer& s) {
    auto admin = s.Admin();
    auto list = admin.Do("GET", "/v1/instances?limit=1000").Json();
    if (!list.is_object()) {
        return;
    }
    for (const auto& item : list.at("items").as_array()) {
        std::string id = Str(item, {"metadata", "id"});
        admin.Do("DELETE", "/v1/instances/" + id);
        WaitFor(admin, "/v1/instances/" + id, [](const json::value&) { return false; });
        EXPECT_EQ(admin.Do("GET", "/v1/instances/" + id).status, 404)
            << "instance " << id << " was not torn down";
    }
}

// Deletes every instance of `s` when it goes out of scope, so a test that returns early (a failed
// ASSERT, a GTEST_SKIP) still tears its instances down. Declare it after the LiveServer.
class InstancesTornDown {
public:
    explicit InstancesTornDown(LiveServer& s) : s_(s) {}
    ~InstancesTornDown() {
        if (s_.process().Running()) {
            DeleteEveryInstance(s_);
        }
    }
    InstancesTornDown(const InstancesTornDown&) = delete;
    InstancesTornDown& operator=(const InstancesTornDown&) = delete;

private:
    LiveServer& s_;
};

}  // namespace hangar::testing
