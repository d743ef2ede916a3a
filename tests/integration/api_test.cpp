// The resource API as a user meets it: CRUD, paging, selectors, optimistic concurrency,
// idempotent create, tenancy and roles, tokens, audit, watch.

#include <thread>

#include "fixture.hpp"

namespace hangar::testing {
namespace {

class ApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new LiveServer({"--changelog-keep", "100"});
        ASSERT_TRUE(server_->Start()) << server_->process().Log();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static LiveServer* server_;
};
LiveServer* ApiTest::server_ = nullptr;

TEST_F(ApiTest, HealthReadinessAndMetrics) {
    auto c = server_->Anonymous();
    EXPECT_EQ(c.Do("GET", "/healthz").status, 200);
    auto ready = c.Do("GET", "/readyz");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(Str(ready.Json(), {"status"}), "ready");
    c.Do("GET", "/v1/tenants");
    auto m = c.Do("GET", "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("# TYPE hangar_http_requests_total counter"), std::string::npos);
    EXPECT_NE(
        m.body.find("hangar_http_requests_total{route=\"/v1/tenants\",method=\"GET\",code=\"401\"}"
        ),
        std::string::npos
    );
    EXPECT_NE(m.body.find("hangar_http_request_duration_seconds_bucket"), std::string::npos);
    EXPECT_NE(m.body.find("hangar_store_operation_duration_seconds"), std::string::npos);
    EXPECT_FALSE(m.headers["content-type"].empty());
    EXPECT_EQ(m.headers["content-type"].rfind("text/plain", 0), 0U);
    auto doc = c.Do("GET", "/v1/openapi.json");
    EXPECT_EQ(doc.status, 200);
    EXPECT_EQ(Str(doc.Json(), {"openapi"}), "3.1.0");
}

TEST_F(ApiTest, TheDashboardIsBuiltInWithItsSecurityHeaders) {
    auto c = server_->Anonymous();
    auto index = c.Do("GET", "/");
    ASSERT_EQ(index.status, 200);
    EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
    EXPECT_NE(index.body.find("<script type=\"importmap\">"), std::string::npos);
    const std::string& csp = index.headers["content-security-policy"];
    EXPECT_NE(csp.find("script-src 'self' 'sha256-"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");

    auto js = c.Do("GET", "/ui/main.js");
    ASSERT_EQ(js.status, 200);
    EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
    ASSERT_FALSE(js.headers["etag"].empty());
    auto again = c.Do("GET", "/ui/main.js", "", {{"If-None-Match", js.headers["etag"]}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    // The npm libraries are in the binary too.
    for (const char* lib :
         {"/ui/preact.mjs",
          "/ui/hooks.mjs",
          "/ui/htm.mjs",
          "/ui/uPlot.esm.js",
          "/ui/marked.esm.js"}) {
        auto r = c.Do("GET", lib);
        EXPECT_EQ(r.status, 200) << lib;
        EXPECT_GT(r.body.size(), 1000U) << lib;
    }
    EXPECT_EQ(c.Do("GET", "/ui/uPlot.min.css").headers["content-type"], "text/css; charset=utf-8");
    for (const char* bad :
         {"/ui/nope.js", "/ui/..%2F..%2Fetc%2Fpasswd", "/ui/main.js%00.png", "/ui/"}) {
        auto r = c.Do("GET", bad);
        EXPECT_EQ(r.status, 404) << bad;
    }
    EXPECT_EQ(c.Do("GET", "/ui/nope.js").ErrorCode(), "not_found");
    EXPECT_EQ(c.Do("POST", "/", "{}").status, 405);
}

TEST_F(ApiTest, TenantLifecycleWithRevisionsAndIfMatch) {
    auto admin = server_->Admin();
    auto created = admin.Do(
        "POST",
        "/v1/tenants",
        R"({"metadata":{"name":"lifecycle","labels":{"tier":"gold"}},"spec":{"display_name":"Life Cycle","contact_email":"ops@example.com"}})"
    );
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = Str(created.Json(), {"metadata", "id"});
    EXPECT_EQ(id.rfind("ten_", 0), 0U);
    EXPECT_EQ(created.headers["location"], "/v1/tenants/" + id);
    std::string rev = Str(created.Json(), {"metadata", "revision"});
    EXPECT_EQ(created.headers["etag"], "\"" + rev + "\"");
    EXPECT_EQ(Str(created.Json(), {"metadata", "tenant"}), id);
    EXPECT_EQ(Str(created.Json(), {"metadata", "generation"}), "1");

    auto got = admin.Do("GET", "/v1/tenants/" + id);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(Str(got.Json(), {"spec", "display_name"}), "Life Cycle");

    auto updated = admin.Do(
        "PUT",
        "/v1/tenants/" + id,
        R"({"spec":{"display_name":"Renamed"}})",
        {{"If-Match", "\"" + rev + "\""}}
    );
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(Str(updated.Json(), {"spec", "display_name"}), "Renamed");
    EXPECT_EQ(Str(updated.Json(), {"metadata", "generation"}), "2");
    EXPECT_EQ(Str(updated.Json(), {"metadata", "labels", "tier"}), "gold")
        << "labels left out are kept";

    auto stale = admin.Do(
        "PUT",
        "/v1/tenants/" + id,
        R"({"spec":{"display_name":"Lost update"}})",
        {{"If-Match", rev}}
    );
    EXPECT_EQ(stale.status, 409);
    EXPECT_EQ(stale.ErrorCode(), "conflict");
    EXPECT_EQ(
        Str(admin.Do("GET", "/v1/tenants/" + id).Json(), {"spec", "display_name"}), "Renamed"
    );

    // A whole object read back and sent again uses its own revision.
    json::value back = admin.Do("GET", "/v1/tenants/" + id).Json();
    back.as_object()["spec"].as_object()["plan"] = "pro";
    auto whole = admin.Do("PUT", "/v1/tenants/" + id, json::serialize(back));
    EXPECT_EQ(whole.status, 200) << whole.body;
    auto again = admin.Do("PUT", "/v1/tenants/" + id, json::serialize(back));
    EXPECT_EQ(again.status, 409) << "the body's metadata.revision is now stale";

    auto del = admin.Do("DELETE", "/v1/tenants/" + id);
    EXPECT_EQ(del.status, 200);
    EXPECT_EQ(admin.Do("GET", "/v1/tenants/" + id).status, 404);
    EXPECT_EQ(admin.Do("DELETE", "/v1/tenants/" + id).status, 404);
}

TEST_F(ApiTest, ListPagesWithCursorAndFiltersBySelector) {
    std::string t = server_->Tenant("paging");
    auto admin = server_->Admin();
    for (int i = 0; i < 12; ++i) {
        auto r = admin.Do(
            "POST",
            "/v1/users",
            json::serialize(json::object{
                {"metadata",
                 {{"name", "u" + std::to_string(i)},
                  {"tenant", t},
                  {"labels", {{"team", i % 3 == 0 ? "red" : "blue"}}}}},
                {"spec", {{"email", "u" + std::to_string(i) + "@example.com"}, {"role", "viewer"}}}}
            )
        );
        ASSERT_EQ(r.status, 201) << r.body;
    }
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto page = admin.Do(
            "GET",
            "/v1/users?tenant=" + t + "&limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor)
        );
        ASSERT_EQ(page.status, 200) << page.body;
        ++pages;
        json::value body = page.Json();
        for (const auto& item : body.at("items").as_array()) {
            EXPECT_TRUE(seen.insert(Str(item, {"metadata", "id"})).second);
        }
        auto next = body.at("next_cursor");
        cursor = next.is_string() ? std::string(next.as_string()) : "";
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(seen.size(), 12U);
    EXPECT_EQ(pages, 3);
    auto red = admin.Do("GET", "/v1/users?tenant=" + t + "&selector=team%3Dred");
    EXPECT_EQ(red.Json().at("items").as_array().size(), 4U);
    auto notred = admin.Do("GET", "/v1/users?tenant=" + t + "&selector=team%20notin%20(red)");
    EXPECT_EQ(notred.Json().at("items").as_array().size(), 8U);
}

TEST_F(ApiTest, IdempotencyKeyReturnsTheFirstResult) {
    auto admin = server_->Admin();
    std::string body = R"({"metadata":{"name":"idem"}})";
    auto a = admin.Do("POST", "/v1/tenants", body, {{"Idempotency-Key", "create-idem-1"}});
    ASSERT_EQ(a.status, 201);
    auto b = admin.Do("POST", "/v1/tenants", body, {{"Idempotency-Key", "create-idem-1"}});
    EXPECT_EQ(b.status, 201);
    EXPECT_EQ(b.headers["idempotent-replayed"], "true");
    EXPECT_EQ(Str(b.Json(), {"metadata", "id"}), Str(a.Json(), {"metadata", "id"}));
    auto c = admin.Do(
        "POST",
        "/v1/tenants",
        R"({"metadata":{"name":"idem-other"}})",
        {{"Idempotency-Key", "create-idem-1"}}
    );
    EXPECT_EQ(c.status, 422);
    auto d = admin.Do("POST", "/v1/tenants", body);
    EXPECT_EQ(d.status, 409) << "without a key, a second create is a duplicate name";
    EXPECT_EQ(d.ErrorCode(), "already_exists");
}

TEST_F(ApiTest, TenantsSeeOnlyTheirOwnObjectsAndViewersCannotWrite) {
    std::string a = server_->Tenant("iso-a");
    std::string b = server_->Tenant("iso-b");
    auto owner_a = server_->As(server_->Token(a, "owner"));
    auto viewer_a = server_->As(server_->Token(a, "viewer"));
    auto owner_b = server_->As(server_->Token(b, "owner"));

    auto user = owner_b.Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"bob"},"spec":{"email":"bob@b.example","role":"operator"}})"
    );
    ASSERT_EQ(user.status, 201) << user.body;
    std::string uid = Str(user.Json(), {"metadata", "id"});
    EXPECT_EQ(Str(user.Json(), {"metadata", "tenant"}), b);

    auto missing = owner_a.Do("GET", "/v1/users/usr_00000000000000000000");
    auto cross = owner_a.Do("GET", "/v1/users/" + uid);
    EXPECT_EQ(cross.status, 404);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Str(cross.Json(), {"error", "code"}), Str(missing.Json(), {"error", "code"}));
    EXPECT_EQ(
        owner_a.Do("PUT", "/v1/users/" + uid, R"({"spec":{"email":"x@a.example","role":"owner"}})")
            .status,
        404
    );
    EXPECT_EQ(owner_a.Do("DELETE", "/v1/users/" + uid).status, 404);
    EXPECT_EQ(owner_a.Do("GET", "/v1/tenants/" + b).status, 404);
    auto list = owner_a.Do("GET", "/v1/users");
    EXPECT_EQ(list.Json().at("items").as_array().size(), 0U);
    auto tenants = owner_a.Do("GET", "/v1/tenants");
    ASSERT_EQ(tenants.Json().at("items").as_array().size(), 1U);
    EXPECT_EQ(Str(tenants.Json().at("items").as_array()[0], {"metadata", "id"}), a);
    EXPECT_EQ(owner_a.Do("GET", "/v1/users?tenant=" + b).status, 400);

    auto denied = viewer_a.Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"eve"},"spec":{"email":"eve@a.example","role":"viewer"}})"
    );
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(denied.ErrorCode(), "forbidden");
    EXPECT_EQ(viewer_a.Do("GET", "/v1/users").status, 200);
    EXPECT_EQ(owner_a.Do("POST", "/v1/tenants", R"({"metadata":{"name":"sneaky"}})").status, 403);
    EXPECT_EQ(
        owner_a
            .Do("POST",
                "/v1/tokens",
                json::serialize(json::object{{"tenant", b}, {"role", "viewer"}}))
            .status,
        403
    );
    EXPECT_EQ(owner_a.Do("POST", "/v1/tokens", R"({"role":"admin"})").status, 403);
    auto minted = owner_a.Do("POST", "/v1/tokens", R"({"role":"operator","name":"ci"})");
    EXPECT_EQ(minted.status, 201) << minted.body;
    EXPECT_EQ(Str(minted.Json(), {"tenant"}), a);
    // A tenant that still owns objects cannot be deleted.
    auto busy = server_->Admin().Do("DELETE", "/v1/tenants/" + b);
    EXPECT_EQ(busy.status, 409);
}

TEST_F(ApiTest, TokensAreShownOnceRevocableAndExpire) {
    std::string t = server_->Tenant("tokens");
    std::string id;
    std::string secret = server_->Token(t, "viewer", &id);
    auto viewer = server_->As(secret);
    auto who = viewer.Do("GET", "/v1/whoami");
    EXPECT_EQ(who.status, 200);
    EXPECT_EQ(Str(who.Json(), {"role"}), "viewer");
    EXPECT_EQ(Str(who.Json(), {"tenant"}), t);
    auto shown = server_->Admin().Do("GET", "/v1/tokens/" + id);
    EXPECT_EQ(shown.status, 200);
    EXPECT_EQ(shown.body.find(secret), std::string::npos) << "the secret is never shown again";
    EXPECT_EQ(shown.body.find("hash"), std::string::npos);
    auto revoked = server_->Admin().Do("DELETE", "/v1/tokens/" + id);
    EXPECT_EQ(revoked.status, 200);
    EXPECT_NE(Str(revoked.Json(), {"revoked_at"}), "null");
    auto after = viewer.Do("GET", "/v1/whoami");
    EXPECT_EQ(after.status, 401);
    EXPECT_NE(after.body.find("revoked"), std::string::npos);
    EXPECT_FALSE(after.headers["www-authenticate"].empty());

    auto soon = server_->Admin().Do(
        "POST",
        "/v1/tokens",
        json::serialize(json::object{{"tenant", t}, {"role", "viewer"}, {"expires_in", "1s"}})
    );
    ASSERT_EQ(soon.status, 201);
    auto short_lived = server_->As(Str(soon.Json(), {"token"}));
    int status = 200;
    for (int i = 0; i < 100 && status == 200; ++i) {  // bounded: at most ~5 s
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = short_lived.Do("GET", "/v1/whoami").status;
    }
    EXPECT_EQ(status, 401);
    EXPECT_NE(short_lived.Do("GET", "/v1/whoami").body.find("expired"), std::string::npos);
}

TEST_F(ApiTest, DeletingATenantRevokesItsTokens) {
    std::string t = server_->Tenant("doomed");
    auto owner = server_->As(server_->Token(t, "owner"));
    EXPECT_EQ(owner.Do("GET", "/v1/whoami").status, 200);
    EXPECT_EQ(server_->Admin().Do("DELETE", "/v1/tenants/" + t).status, 200);
    EXPECT_EQ(owner.Do("GET", "/v1/whoami").status, 401);
}

TEST_F(ApiTest, AuditRecordsEveryMutationWithItsOutcome) {
    std::string t = server_->Tenant("audited");
    auto viewer = server_->As(server_->Token(t, "viewer"));
    viewer.Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"x"},"spec":{"email":"x@x.example","role":"viewer"}})"
    );
    auto owner = server_->As(server_->Token(t, "owner"));
    owner.Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"y"},"spec":{"email":"y@x.example","role":"viewer"}})"
    );
    auto events = server_->Admin().Do("GET", "/v1/audit?tenant=" + t + "&limit=1000");
    ASSERT_EQ(events.status, 200);
    std::vector<std::pair<std::string, std::string>> seen;
    json::value body = events.Json();
    for (const auto& e : body.at("items").as_array()) {
        seen.emplace_back(Str(e, {"action"}), Str(e, {"outcome"}));
        EXPECT_FALSE(Str(e, {"request_id"}).empty());
        EXPECT_EQ(Str(e, {"source"}).rfind("127.0.0.1:", 0), 0U);
    }
    auto has = [&](const std::string& a, const std::string& o) {
        return std::find(seen.begin(), seen.end(), std::make_pair(a, o)) != seen.end();
    };
    EXPECT_TRUE(has("tenant.create", "success"));
    EXPECT_TRUE(has("token.create", "success"));
    EXPECT_TRUE(has("user.create", "forbidden"));
    EXPECT_TRUE(has("user.create", "success"));
    auto by_action = server_->Admin().Do("GET", "/v1/audit?action=user.create&tenant=" + t);
    EXPECT_EQ(by_action.Json().at("items").as_array().size(), 2U);
    EXPECT_EQ(viewer.Do("GET", "/v1/audit").status, 403);
    auto owners = owner.Do("GET", "/v1/audit");
    EXPECT_EQ(owners.status, 200);
    json::value owned = owners.Json();
    for (const auto& e : owned.at("items").as_array()) {
        EXPECT_EQ(Str(e, {"tenant"}), t);
    }
    auto window = server_->Admin().Do(
        "GET", "/v1/audit?since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z"
    );
    EXPECT_EQ(window.Json().at("items").as_array().size(), 0U);
}

TEST_F(ApiTest, WatchStreamsChangesAndResumesFromARevision) {
    std::string t = server_->Tenant("watched");
    std::string token = server_->Token(t, "owner");
    auto owner = server_->As(token);
    auto list = owner.Do("GET", "/v1/users");
    std::string rev = Str(list.Json(), {"revision"});

    Connection sse("127.0.0.1", server_->port());
    sse.SendRaw(
        "GET /v1/users?watch=1&since=" + rev + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        token + "\r\n\r\n"
    );
    auto created = owner.Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"w1","labels":{"k":"v"}},"spec":{"email":"w1@w.example","role":"viewer"}})"
    );
    ASSERT_EQ(created.status, 201);
    std::string uid = Str(created.Json(), {"metadata", "id"});
    owner.Do("DELETE", "/v1/users/" + uid);
    // Another tenant's change must not show up in this stream.
    std::string other = server_->Tenant("watched-other");
    server_->Admin().Do(
        "POST",
        "/v1/users",
        json::serialize(json::object{
            {"metadata", {{"name", "z"}, {"tenant", other}}},
            {"spec", {{"email", "z@z.example"}, {"role", "viewer"}}}})
    );

    std::string got;
    for (int i = 0; i < 50 && got.find("event: DELETED") == std::string::npos; ++i) {
        got += sse.ReadSome(std::chrono::milliseconds(100));
    }
    EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos);
    EXPECT_NE(got.find("text/event-stream"), std::string::npos);
    EXPECT_NE(got.find("event: ADDED"), std::string::npos) << got;
    EXPECT_NE(got.find("event: DELETED"), std::string::npos) << got;
    EXPECT_NE(got.find(uid), std::string::npos);
    EXPECT_EQ(got.find("z@z.example"), std::string::npos)
        << "another tenant's change leaked into the stream";

    // Resuming from the list's revision replays both events.
    Connection again("127.0.0.1", server_->port());
    again.SendRaw(
        "GET /v1/users?watch=1 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + rev +
        "\r\nAuthorization: Bearer " + token + "\r\n\r\n"
    );
    std::string replay;
    for (int i = 0; i < 50 && replay.find("event: DELETED") == std::string::npos; ++i) {
        replay += again.ReadSome(std::chrono::milliseconds(100));
    }
    EXPECT_NE(replay.find("event: ADDED"), std::string::npos) << replay;
    EXPECT_NE(replay.find("event: DELETED"), std::string::npos) << replay;

    // The change log keeps 100 entries here: push revision 1 out of it, then ask for it.
    auto admin = server_->Admin();
    for (int i = 0; i < 120; ++i) {
        admin.Do(
            "PUT",
            "/v1/tenants/" + t,
            json::serialize(json::object{{"spec", {{"display_name", "n" + std::to_string(i)}}}})
        );
    }
    auto gone = owner.Do("GET", "/v1/users?watch=1&since=1");
    EXPECT_EQ(gone.status, 410);
    EXPECT_EQ(gone.ErrorCode(), "gone");
    auto ahead = owner.Do("GET", "/v1/users?watch=1&since=999999999");
    EXPECT_EQ(ahead.status, 400);
}

}  // namespace
}  // namespace hangar::testing
