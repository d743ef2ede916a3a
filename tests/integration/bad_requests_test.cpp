// Hostile and malformed input: every case gets a precise status and error code, and the
// server keeps answering afterwards.

#include <thread>

#include "fixture.hpp"

namespace hangar::testing {
namespace {

struct Case {
    std::string name;
    std::string token;  // admin | owner_a | viewer_a | none | revoked | expired | garbage | basic
    std::string method, path, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;  // expected error.code ("" when the answer is not a JSON error)
};

class BadRequests : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer(
            {"--header-timeout", "1s", "--request-timeout", "2s", "--body-limit", "65536"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        vars_["A"] = s_->Tenant("bad-a");
        vars_["B"] = s_->Tenant("bad-b");
        tokens_["admin"] = s_->process().AdminToken();
        tokens_["owner_a"] = s_->Token(vars_["A"], "owner");
        tokens_["viewer_a"] = s_->Token(vars_["A"], "viewer");
        std::string rid;
        tokens_["revoked"] = s_->Token(vars_["A"], "viewer", &rid);
        s_->Admin().Do("DELETE", "/v1/tokens/" + rid);
        auto exp = s_->Admin().Do(
            "POST",
            "/v1/tokens",
            json::serialize(json::object{
                {"tenant", vars_["A"]}, {"role", "viewer"}, {"expires_in", "1s"}})
        );
        tokens_["expired"] = Str(exp.Json(), {"token"});
        tokens_["garbage"] = "hgr_not-a-real-token";
        auto ub = s_->Admin().Do(
            "POST",
            "/v1/users",
            json::serialize(json::object{
                {"metadata", {{"name", "bob"}, {"tenant", vars_["B"]}}},
                {"spec", {{"email", "bob@b.example"}, {"role", "viewer"}}}})
        );
        vars_["UB"] = Str(ub.Json(), {"metadata", "id"});
        auto ta = s_->Admin().Do("GET", "/v1/tenants/" + vars_["A"]);
        vars_["REV_A"] = Str(ta.Json(), {"metadata", "revision"});
        s_->Admin().Do(
            "POST",
            "/v1/tenants",
            R"({"metadata":{"name":"idem-taken"}})",
            {{"Idempotency-Key", "k1"}}
        );
        // Let the 1 s token expire (bounded wait).
        for (int i = 0; i < 60 && s_->As(tokens_["expired"]).Do("GET", "/v1/whoami").status != 401;
             ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }
    static std::string Fill(std::string s) {
        for (const auto& [k, v] : vars_) {
            std::string key = "{" + k + "}";
            for (size_t p; (p = s.find(key)) != std::string::npos;) {
                s.replace(p, key.size(), v);
            }
        }
        return s;
    }
    static void ExpectAlive() {
        EXPECT_EQ(s_->Anonymous().Do("GET", "/healthz").status, 200)
            << "the server stopped answering";
    }
    static LiveServer* s_;
    static std::map<std::string, std::string> vars_, tokens_;
};
LiveServer* BadRequests::s_ = nullptr;
std::map<std::string, std::string> BadRequests::vars_;
std::map<std::string, std::string> BadRequests::tokens_;

const std::string kUser =
    R"({"metadata":{"name":"x"},"spec":{"email":"x@a.example","role":"viewer"}})";

std::vector<Case> Cases() {
    std::string deep = std::string(100, '[') + std::string(100, ']');
    return {
        {"malformed json", "admin", "POST", "/v1/tenants", "{", {}, 400, "invalid_argument"},
        {"json array body", "admin", "POST", "/v1/tenants", "[1,2]", {}, 400, "invalid_argument"},
        {"empty body", "admin", "POST", "/v1/tenants", "", {}, 400, "invalid_argument"},
        {"wrong content type",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"ct"}})",
         {{"Content-Type", "text/plain"}},
         415,
         "unsupported_media_type"},
        {"unknown top-level field",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"u1"},"spek":{}})",
         {},
         400,
         "invalid_argument"},
        {"unknown metadata field",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"u2","nmae":"x"}})",
         {},
         400,
         "invalid_argument"},
        {"unknown spec field",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"u3"},"spec":{"colour":"red"}})",
         {},
         400,
         "invalid_argument"},
        {"name of the wrong type",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":42}})",
         {},
         400,
         "invalid_argument"},
        {"metadata missing",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"spec":{}})",
         {},
         400,
         "invalid_argument"},
        {"name with bad characters",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"Bad_Name"}})",
         {},
         400,
         "invalid_argument"},
        {"name too long",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":")" + std::string(64, 'a') + R"("}})",
         {},
         400,
         "invalid_argument"},
        {"label value of the wrong type",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"l1","labels":{"a":1}}})",
         {},
         400,
         "invalid_argument"},
        {"invalid label key",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"l2","labels":{"-bad":"x"}}})",
         {},
         400,
         "invalid_argument"},
        {"status on create",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"s1"},"status":{"phase":"Running"}})",
         {},
         400,
         "invalid_argument"},
        {"invalid email",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"e1"},"spec":{"contact_email":"nobody"}})",
         {},
         400,
         "invalid_argument"},
        {"spec field of the wrong type",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"e2"},"spec":{"display_name":["x"]}})",
         {},
         400,
         "invalid_argument"},
        {"user with an unknown role",
         "owner_a",
         "POST",
         "/v1/users",
         R"({"metadata":{"name":"r1"},"spec":{"email":"r@a.example","role":"god"}})",
         {},
         400,
         "invalid_argument"},
        {"user without email",
         "owner_a",
         "POST",
         "/v1/users",
         R"({"metadata":{"name":"r2"},"spec":{"role":"viewer"}})",
         {},
         400,
         "invalid_argument"},
        {"admin create without tenant",
         "admin",
         "POST",
         "/v1/users",
         kUser,
         {},
         400,
         "invalid_argument"},
        {"deeply nested json", "admin", "POST", "/v1/tenants", deep, {}, 400, "invalid_argument"},
        {"body over the limit",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"big"},"spec":{"display_name":")" + std::string(70000, 'x') +
             R"("}})",
         {},
         413,
         "payload_too_large"},
        {"malformed id", "admin", "GET", "/v1/tenants/not-an-id", "", {}, 400, "invalid_argument"},
        {"id of another kind", "admin", "GET", "/v1/tenants/{UB}", "", {}, 400, "invalid_argument"},
        {"percent-encoded junk id",
         "admin",
         "GET",
         "/v1/tenants/%ff%fe%00",
         "",
         {},
         400,
         "invalid_argument"},
        {"id that does not exist",
         "admin",
         "GET",
         "/v1/tenants/ten_00000000000000000000",
         "",
         {},
         404,
         "not_found"},
        {"unknown route", "admin", "GET", "/v1/nothing-here", "", {}, 404, "not_found"},
        {"method not allowed",
         "admin",
         "PATCH",
         "/v1/tenants",
         "{}",
         {},
         405,
         "method_not_allowed"},
        {"no token", "none", "GET", "/v1/tenants", "", {}, 401, "unauthenticated"},
        {"basic auth instead of bearer",
         "basic",
         "GET",
         "/v1/tenants",
         "",
         {},
         401,
         "unauthenticated"},
        {"garbage token", "garbage", "GET", "/v1/tenants", "", {}, 401, "unauthenticated"},
        {"revoked token", "revoked", "GET", "/v1/tenants", "", {}, 401, "unauthenticated"},
        {"expired token", "expired", "GET", "/v1/tenants", "", {}, 401, "unauthenticated"},
        {"write with no token",
         "none",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"anon"}})",
         {},
         401,
         "unauthenticated"},
        {"cross-tenant get", "owner_a", "GET", "/v1/users/{UB}", "", {}, 404, "not_found"},
        {"cross-tenant update",
         "owner_a",
         "PUT",
         "/v1/users/{UB}",
         R"({"spec":{"email":"m@a.example","role":"owner"}})",
         {},
         404,
         "not_found"},
        {"cross-tenant delete", "owner_a", "DELETE", "/v1/users/{UB}", "", {}, 404, "not_found"},
        {"cross-tenant tenant read", "owner_a", "GET", "/v1/tenants/{B}", "", {}, 404, "not_found"},
        {"viewer creates", "viewer_a", "POST", "/v1/users", kUser, {}, 403, "forbidden"},
        {"viewer updates its tenant",
         "viewer_a",
         "PUT",
         "/v1/tenants/{A}",
         R"({"spec":{"display_name":"mine"}})",
         {},
         403,
         "forbidden"},
        {"viewer mints a token",
         "viewer_a",
         "POST",
         "/v1/tokens",
         R"({"role":"viewer"})",
         {},
         403,
         "forbidden"},
        {"owner creates a tenant",
         "owner_a",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"mine"}})",
         {},
         403,
         "forbidden"},
        {"owner deletes its tenant",
         "owner_a",
         "DELETE",
         "/v1/tenants/{A}",
         "",
         {},
         403,
         "forbidden"},
        {"stale If-Match",
         "admin",
         "PUT",
         "/v1/tenants/{A}",
         R"({"spec":{"display_name":"x"}})",
         {{"If-Match", "999999"}},
         409,
         "conflict"},
        {"malformed If-Match",
         "admin",
         "PUT",
         "/v1/tenants/{A}",
         R"({"spec":{"display_name":"x"}})",
         {{"If-Match", "abc"}},
         400,
         "invalid_argument"},
        {"rename on update",
         "admin",
         "PUT",
         "/v1/tenants/{A}",
         R"({"metadata":{"name":"renamed"}})",
         {},
         400,
         "invalid_argument"},
        {"duplicate name",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"bad-a"}})",
         {},
         409,
         "already_exists"},
        {"idempotency key reused with another body",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"idem-other"}})",
         {{"Idempotency-Key", "k1"}},
         422,
         "unprocessable"},
        {"idempotency key too long",
         "admin",
         "POST",
         "/v1/tenants",
         R"({"metadata":{"name":"idem-long"}})",
         {{"Idempotency-Key", std::string(300, 'k')}},
         400,
         "invalid_argument"},
        {"bad selector",
         "admin",
         "GET",
         "/v1/tenants?selector=team%20in%20(a",
         "",
         {},
         400,
         "invalid_argument"},
        {"limit zero", "admin", "GET", "/v1/tenants?limit=0", "", {}, 400, "invalid_argument"},
        {"limit not a number",
         "admin",
         "GET",
         "/v1/tenants?limit=ten",
         "",
         {},
         400,
         "invalid_argument"},
        {"forged cursor",
         "admin",
         "GET",
         "/v1/tenants?cursor=Li4vZXRj",
         "",
         {},
         400,
         "invalid_argument"},
        {"unknown query parameter",
         "admin",
         "GET",
         "/v1/tenants?sort=name",
         "",
         {},
         400,
         "invalid_argument"},
        {"negative watch revision",
         "admin",
         "GET",
         "/v1/tenants?watch=1&since=-1",
         "",
         {},
         400,
         "invalid_argument"},
        {"watch with a bad flag",
         "admin",
         "GET",
         "/v1/tenants?watch=yes",
         "",
         {},
         400,
         "invalid_argument"},
        {"token with an unknown role",
         "admin",
         "POST",
         "/v1/tokens",
         R"({"tenant":"{A}","role":"god"})",
         {},
         400,
         "invalid_argument"},
        {"token with a bad lifetime",
         "admin",
         "POST",
         "/v1/tokens",
         R"({"tenant":"{A}","role":"viewer","expires_in":"soon"})",
         {},
         400,
         "invalid_argument"},
        {"token expiring in the past",
         "admin",
         "POST",
         "/v1/tokens",
         R"({"tenant":"{A}","role":"viewer","expires_at":"2001-01-01T00:00:00Z"})",
         {},
         400,
         "invalid_argument"},
        {"token for a missing tenant",
         "admin",
         "POST",
         "/v1/tokens",
         R"({"tenant":"ten_00000000000000000000","role":"viewer"})",
         {},
         400,
         "invalid_argument"},
        {"malformed token id", "admin", "DELETE", "/v1/tokens/../../etc", "", {}, 404, "not_found"},
        {"audit with a bad time",
         "admin",
         "GET",
         "/v1/audit?since=yesterday",
         "",
         {},
         400,
         "invalid_argument"},
        {"audit limit too large",
         "admin",
         "GET",
         "/v1/audit?limit=100000",
         "",
         {},
         400,
         "invalid_argument"},
    };
}

TEST_F(BadRequests, EachGetsItsStatusAndCodeAndTheServerKeepsAnswering) {
    auto cases = Cases();
    ASSERT_GE(cases.size(), 40U);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Client client("127.0.0.1", s_->port());
        auto headers = c.headers;
        if (c.token == "basic") {
            headers.emplace_back("Authorization", "Basic YWRtaW46YWRtaW4=");
        } else if (c.token != "none") {
            client.SetToken(tokens_[c.token]);
        }
        for (auto& [k, v] : headers) {
            v = Fill(v);
        }
        auto r = client.Do(c.method, Fill(c.path), Fill(c.body), headers);
        EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body.substr(0, 300);
        EXPECT_EQ(r.ErrorCode(), c.code)
            << c.name << " (" << c.method << " " << c.path << "): " << r.body.substr(0, 300);
        if (c.status == 400 && r.ErrorCode() == "invalid_argument") {
            EXPECT_FALSE(Str(r.Json(), {"error", "message"}).empty());
        }
        ExpectAlive();
    }
}

TEST_F(BadRequests, FieldErrorsNameTheFieldPath) {
    auto r = s_->Admin().Do(
        "POST", "/v1/tenants", R"({"metadata":{"name":"f1"},"spec":{"colour":"red"}})"
    );
    EXPECT_EQ(Str(r.Json(), {"error", "details", "field"}), "spec.colour");
    r = s_->Admin().Do("POST", "/v1/tenants", R"({"metadata":{"name":"f2","labels":{"a":1}}})");
    EXPECT_EQ(Str(r.Json(), {"error", "details", "field"}), "metadata.labels.a");
    r = s_->As(tokens_["owner_a"])
            .Do("POST",
                "/v1/users",
                R"({"metadata":{"name":"f3"},"spec":{"email":5,"role":"viewer"}})");
    EXPECT_EQ(Str(r.Json(), {"error", "details", "field"}), "spec.email");
    EXPECT_NE(Str(r.Json(), {"error", "message"}).find("must be a string"), std::string::npos);
}

TEST_F(BadRequests, MalformedHttpIsRefusedAndTheConnectionClosed) {
    Connection c("127.0.0.1", s_->port());
    c.SendRaw("THIS IS NOT HTTP\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->ErrorCode(), "invalid_argument");
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
    ExpectAlive();
}

TEST_F(BadRequests, OversizedHeadersAreRefused) {
    Connection c("127.0.0.1", s_->port());
    c.SendRaw(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(20000, 'a') + "\r\n\r\n"
    );
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    ExpectAlive();
}

TEST_F(BadRequests, OversizedBodyIsRefusedFromItsContentLength) {
    Connection c("127.0.0.1", s_->port());
    c.SendRaw(
        "POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        "10000000\r\n\r\n{"
    );
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->ErrorCode(), "payload_too_large");
    ExpectAlive();
}

TEST_F(BadRequests, SlowLorisHeadersTimeOut) {
    // --header-timeout is 1 s here: a client dribbling its headers is cut off.
    // It stops sending before the deadline: writing after the server closed would draw a reset
    // that can discard the 408 before it is read.
    Connection c("127.0.0.1", s_->port());
    c.SendRaw("GET /healthz HTTP/1.1\r\n");
    for (int i = 0; i < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        c.SendRaw("X-Slow-" + std::to_string(i) + ": 1\r\n");
    }
    auto r = c.Read(std::chrono::seconds(5));
    ASSERT_TRUE(r) << "the server should have answered 408 and closed";
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(r->ErrorCode(), "request_timeout");
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
    ExpectAlive();
}

TEST_F(BadRequests, SlowBodiesTimeOut) {
    // --request-timeout is 2 s here: a body that stops short of its Content-Length is cut off.
    Connection c("127.0.0.1", s_->port());
    c.SendRaw(
        "POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n{\"metadata\":"
    );
    auto r = c.Read(std::chrono::seconds(6));
    ASSERT_TRUE(r) << "the server should have answered 408 and closed";
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(r->ErrorCode(), "request_timeout");
    EXPECT_NE(r->body.find("body took too long"), std::string::npos) << r->body;
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
    ExpectAlive();
}

TEST_F(BadRequests, ASlowRequestAfterALongIdlePauseStillTimesOut) {
    // The idle wait between requests (30 s) is longer than the header deadline (1 s): the
    // second request's deadline is the shorter one, counted from its first byte.
    Connection c("127.0.0.1", s_->port());
    c.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto first = c.Read();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    c.SendRaw("GET /healthz HTTP/1.1\r\nX-Slow: 1\r\n");
    auto r = c.Read(std::chrono::seconds(5));
    ASSERT_TRUE(r) << "the server should have answered 408 and closed";
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(r->ErrorCode(), "request_timeout");
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
    ExpectAlive();
}

TEST_F(BadRequests, IdleKeepAliveConnectionsStayUsable) {
    Connection c("127.0.0.1", s_->port());
    for (int i = 0; i < 3; ++i) {
        c.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r = c.Read();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
    }
}

}  // namespace
}  // namespace hangar::testing
