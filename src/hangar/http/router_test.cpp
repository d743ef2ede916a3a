#include "hangar/http/router.hpp"

#include <gtest/gtest.h>

namespace hangar::http {

namespace {
Request Req(std::string method, std::string path) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
}
Handler Named(std::string name) {
    return [name](Request&) {
        return Response{200, "text/plain", {}, name, {}};
    };
}
}  // namespace

TEST(Router, MatchesPatternsParamsAndActions) {
    Router r;
    r.Add("GET", "/v1/tenants", Named("list"));
    r.Add("GET", "/v1/tenants/{id}", Named("get"));
    r.Add("POST", "/v1/instances/{id}:restart", Named("restart"));
    const Router::Route* h = nullptr;
    std::string allow;

    Request a = Req("GET", "/v1/tenants/ten_x");
    ASSERT_EQ(r.Find(a, h, allow), Router::Match::kFound);
    EXPECT_EQ(a.Param("id"), "ten_x");
    EXPECT_EQ(a.route, "/v1/tenants/{id}");
    EXPECT_EQ(h->handler(a).body, "get");

    Request b = Req("POST", "/v1/instances/ins_1:restart");
    ASSERT_EQ(r.Find(b, h, allow), Router::Match::kFound);
    EXPECT_EQ(b.Param("id"), "ins_1");

    Request c = Req("GET", "/v1/tenants/ten_x:restart");
    EXPECT_EQ(r.Find(c, h, allow), Router::Match::kNoPath);

    Request d = Req("DELETE", "/v1/tenants");
    EXPECT_EQ(r.Find(d, h, allow), Router::Match::kNoMethod);
    EXPECT_EQ(allow, "GET");

    Request e = Req("GET", "/v1/nothing");
    EXPECT_EQ(r.Find(e, h, allow), Router::Match::kNoPath);

    Request f = Req("HEAD", "/v1/tenants");
    EXPECT_EQ(r.Find(f, h, allow), Router::Match::kFound);
}

}  // namespace hangar::http
