// Hostile request bodies on every route that takes one: malformed JSON, wrong top-level types,
// unknown fields, duplicate keys, numbers no double holds, deep nesting, a 1 MiB string,
// invalid UTF-8 and NUL bytes, sent as the platform admin, as a tenant owner and (on the
// workspace cloud routes) with a workspace's own credentials. The routes come from the OpenAPI
// document the server serves, so a new route is covered without touching this file. Each answer
// must be below 500, and the server must still answer /healthz after each route; a route that
// kills it is reported and the server restarted, so one run lists every offending route.

#include <iostream>
#include <optional>
#include <set>

#include "fixture.hpp"
#include "sample_objects.hpp"

namespace hangar::testing {
namespace {

// Bounds the suite: every request it sends counts, and it stops sending past this.
constexpr int kMaxRequests = 5000;

struct Body {
    std::string kind, text;
};

std::string Repeat(std::string_view s, size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i) {
        out += s;
    }
    return out;
}

const std::vector<Body>& HostileBodies() {
    static const std::vector<Body> bodies = [] {
        std::string raw_nul = R"({"metadata":{"name":"a)";
        raw_nul += '\0';
        raw_nul += R"(b"}})";
        return std::vector<Body>{
            {"malformed JSON", R"({"a":)"},
            {"top-level array", "[]"},
            {"top-level string", R"("x")"},
            {"top-level number", "1"},
            {"top-level null", "null"},
            {"unknown field", R"({"unknown_field_xyz":1})"},
            {"duplicate keys", R"({"metadata":{"name":"a"},"metadata":{"name":"b"}})"},
            {"1e999", R"({"spec":{"x":1e999}})"},
            {"-1e999", R"({"spec":{"x":-1e999}})"},
            {"top-level 1e400", "1e400"},
            {"30-digit integer", R"({"spec":{"n":123456789012345678901234567890}})"},
            {"10000 nested arrays", std::string(10000, '[')},
            {"10000 nested objects", Repeat(R"({"a":)", 10000)},
            {"1 MiB string",
             R"({"metadata":{"name":")" + std::string(size_t{1} << 20, 'x') + R"("}})"},
            {"invalid UTF-8", "{\"metadata\":{\"name\":\"\xff\xfe\"}}"},
            {"escaped NUL", R"({"metadata":{"name":"a\u0000b"}})"},
            {"raw NUL byte", raw_nul},
        };
    }();
    return bodies;
}

// Who sends: a name for messages and the Authorization header ("" sends none).
struct Caller {
    std::string name, authorization;
};

struct Operation {
    std::string method, path_template, path;
};

std::string Upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

class HostileInput : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // --body-limit above 1 MiB: the 1 MiB string reaches the JSON parser. No rate limits:
        // the suite sends a few thousand requests, and a 429 would hide what a parser does.
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--sim-latency",
             "50ms",
             "--body-limit",
             "4194304",
             "--public-rate",
             "0",
             "--tenant-rate",
             "0"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        catalogue_ = MakeCatalogue(*s_, "hostile", true);
        std::string tenant = s_->Tenant("hostile");
        owner_ = s_->Token(tenant, "owner");
        samples_ = MakeSamples(*s_, tenant, catalogue_);
        auto doc = s_->Anonymous().Do("GET", "/v1/openapi.json");
        ASSERT_EQ(doc.status, 200) << doc.body.substr(0, 300);
        openapi_ = doc.Json();
        ASSERT_TRUE(openapi_.is_object() && openapi_.as_object().contains("paths"))
            << doc.body.substr(0, 300);
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }

    // A real id for {id} where the suite made one, else one of the right shape.
    static std::string ParamValue(const std::string& param, const std::string& plural) {
        if (param == "id") {
            if (auto it = samples_.ids.find(plural); it != samples_.ids.end()) {
                return it->second;
            }
            if (auto it = catalogue_.find(plural); it != catalogue_.end()) {
                return it->second;
            }
            return FakeId(plural);
        }
        if (param == "service") {
            return "apn";
        }
        if (param == "name") {
            return "__name__";
        }
        if (param == "file") {
            return "main.js";
        }
        return "x";
    }

    // Every operation that takes a body, or whose method could (POST, PUT, PATCH); the workspace
    // cloud routes first (a secret rotation on /v1 must not spoil their credentials first).
    static std::vector<Operation> BodyOperations() {
        std::vector<Operation> edge, rest;
        for (const auto& [path, item] : openapi_.at("paths").as_object()) {
            if (!item.is_object()) {
                continue;
            }
            for (const auto& [method, op] : item.as_object()) {
                std::string m = Upper(std::string(method));
                if (m != "GET" && m != "PUT" && m != "POST" && m != "PATCH" && m != "DELETE") {
                    continue;
                }
                bool has_body = op.is_object() && op.as_object().contains("requestBody");
                if (!has_body && m != "POST" && m != "PUT" && m != "PATCH") {
                    continue;
                }
                std::string p(path);
                Operation o{m, p, FillPath(p, ParamValue)};
                (p.starts_with("/v1/") ? rest : edge).push_back(std::move(o));
            }
        }
        edge.insert(edge.end(), rest.begin(), rest.end());
        return edge;
    }

    // The credential a workspace cloud route reads, when it is not a Hangar token.
    static std::optional<Caller> EdgeCaller(const std::string& path) {
        // /v1 and the Prometheus-compatible /api/v1 take Hangar tokens: admin and owner cover them.
        if (path.starts_with("/v1/") || path.starts_with("/api/v1/") || path == "/" ||
            path.starts_with("/ui/")) {
            return std::nullopt;
        }
        if (path == "/api/oauth/clients") {
            return Caller{"registration token", "Bearer " + samples_.workspace.registration_token};
        }
        if (path.starts_with("/api/v2/workspaces/") || path.starts_with("/api/v3/comms/") ||
            path == "/api/v2/checkout" || path.starts_with("/push/") || path == "/collector") {
            return Caller{"workspace access token", "Bearer " + samples_.workspace.access};
        }
        return Caller{"anonymous", ""};
    }

    static std::vector<Caller> Callers(const std::string& path) {
        std::vector<Caller> out{
            {"admin", "Bearer " + s_->process().AdminToken()},
            {"tenant owner", "Bearer " + owner_}};
        if (auto edge = EdgeCaller(path)) {
            out.push_back(*edge);
        }
        return out;
    }

    // Sends one request; an answer of 500 or more, or none, is a failure naming the case.
    static void Send(
        const std::string& method,
        const std::string& path,
        const Caller& who,
        const std::string& kind,
        const std::string& body,
        std::vector<std::pair<std::string, std::string>> headers = {}
    ) {
        if (sent_ >= kMaxRequests) {
            if (!budget_reported_) {
                ADD_FAILURE() << "the suite's request budget (" << kMaxRequests
                              << ") is spent; later cases were not sent";
                budget_reported_ = true;
            }
            return;
        }
        ++sent_;
        if (!who.authorization.empty()) {
            headers.emplace_back("Authorization", who.authorization);
        }
        auto r = s_->Anonymous().Do(method, path, body, headers);
        if (r.status == 0) {
            ADD_FAILURE() << method << " " << path << " as " << who.name << " with " << kind
                          << ": no HTTP answer (the connection closed or timed out)";
        } else if (r.status >= 500) {
            ADD_FAILURE() << method << " " << path << " as " << who.name << " with " << kind << ": "
                          << r.status << " " << r.body.substr(0, 300);
        }
    }

    // After each route: the server still answers /healthz. If it does not, the route is
    // reported with the end of the server's log, and the server restarted for the next route.
    static bool StillAlive(const std::string& after) {
        ++sent_;
        if (s_->Anonymous().Do("GET", "/healthz").status == 200) {
            return true;
        }
        std::string log = s_->process().Log();
        ADD_FAILURE() << "the server stopped answering /healthz after " << after
                      << "; the end of its log:\n"
                      << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
        s_->process().Kill();
        if (!s_->process().Start()) {
            ADD_FAILURE() << "the server did not start again; the remaining routes are not checked";
            return false;
        }
        return true;
    }

    static LiveServer* s_;
    static std::map<std::string, std::string> catalogue_;
    static Samples samples_;
    static std::string owner_;
    static json::value openapi_;
    static int sent_;
    static bool budget_reported_;
};
LiveServer* HostileInput::s_ = nullptr;
std::map<std::string, std::string> HostileInput::catalogue_;
Samples HostileInput::samples_;
std::string HostileInput::owner_;
json::value HostileInput::openapi_;
int HostileInput::sent_ = 0;
bool HostileInput::budget_reported_ = false;

TEST_F(HostileInput, EveryRouteThatTakesABodyAnswersBelow500AndKeepsRunning) {
    auto ops = BodyOperations();
    ASSERT_GE(ops.size(), 40U) << "the OpenAPI document lists fewer routes than expected";
    std::set<std::string> with_put;
    for (const auto& op : ops) {
        for (const auto& who : Callers(op.path_template)) {
            for (const auto& b : HostileBodies()) {
                Send(op.method, op.path, who, b.kind, b.text);
            }
        }
        if (op.method == "PUT") {
            with_put.insert(op.path);
        }
        if (!StillAlive(op.method + " " + op.path)) {
            return;
        }
    }
    // A method the route does not take, with a body: 405, not a parse of it.
    Caller admin{"admin", "Bearer " + s_->process().AdminToken()};
    for (const auto& path : with_put) {
        Send("PATCH", path, admin, "malformed JSON", R"({"a":)");
        Send("PATCH", path, admin, "unknown field", R"({"unknown_field_xyz":1})");
        if (!StillAlive("PATCH " + path)) {
            return;
        }
    }
    std::cout << "[ hostile  ] " << ops.size() << " operations, " << sent_ << " requests so far\n";
}

TEST_F(HostileInput, PrometheusRoutesSurviveDeeplyNestedQueriesAndJsonBodies) {
    const std::string parens = std::string(5000, '(') + "up" + std::string(5000, ')');
    const std::string open_parens(5000, '(');
    const std::string sums = Repeat("sum(", 5000) + "up" + std::string(5000, ')');
    const std::string range = "&start=1700000000&end=1700000060&step=15";
    struct Query {
        std::string kind, expr;
    };
    const std::vector<Query> queries = {
        {"5000 nested parentheses", parens},
        {"5000 unclosed parentheses", open_parens},
        {"5000 nested sum(", sums}};
    const std::vector<Body> json_bodies = {
        {"malformed JSON", R"({"a":)"},
        {"JSON query", R"({"query":"up"})"},
        {"10000 nested arrays", std::string(10000, '[')}};
    for (const std::string route :
         {"/api/v1/query",
          "/api/v1/query_range",
          "/api/v1/series",
          "/api/v1/labels",
          "/api/v1/label/__name__/values"}) {
        bool takes_post = route.find("/label/") == std::string::npos;
        for (const auto& who : std::vector<Caller>{
                 {"admin", "Bearer " + s_->process().AdminToken()},
                 {"tenant owner", "Bearer " + owner_}}) {
            for (const auto& q : queries) {
                // In the URL, as the parameter the route reads (a request line over 16 KiB, as
                // 5000 nested sum( makes, is refused as such: 431) ...
                bool selector = route.find("/query") == std::string::npos;
                Send(
                    "GET",
                    route + "?" + (selector ? "match%5B%5D=" : "query=") + q.expr + range,
                    who,
                    q.kind + " (GET)",
                    ""
                );
                // ... and in a form body, which has no such limit.
                if (takes_post) {
                    Send(
                        "POST",
                        route,
                        who,
                        q.kind + " (form POST)",
                        "query=" + q.expr + "&match%5B%5D=" + q.expr + range,
                        {{"Content-Type", "application/x-www-form-urlencoded"}}
                    );
                }
            }
            if (takes_post) {
                for (const auto& b : json_bodies) {
                    Send(
                        "POST",
                        route,
                        who,
                        b.kind + " (application/json)",
                        b.text,
                        {{"Content-Type", "application/json"}}
                    );
                }
            }
        }
        if (!StillAlive("the deep queries on " + route)) {
            return;
        }
    }
}

}  // namespace
}  // namespace hangar::testing
