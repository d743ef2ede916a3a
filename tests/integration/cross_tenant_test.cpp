// Tenant isolation over every route: tenant B owns one object of every kind a tenant can own;
// tenant A's tokens (owner, operator, viewer: a platform admin token has no tenant) call every
// route of the OpenAPI document that takes an {id} with B's ids, and every list naming B.
// Another tenant's object does not exist for a caller: no answer is 2xx, each is the answer an
// id that names nothing gets (else the difference tells that the object exists), and B's
// objects are as they were afterwards. Watches, the metrics API's X-Scope-OrgID and the alert
// intake stay in the caller's tenant too.

#include <algorithm>
#include <iostream>
#include <set>

#include "hangar/metrics/remote_write.hpp"

#include "fixture.hpp"
#include "sample_objects.hpp"

namespace hangar::testing {
namespace {

struct Caller {
    std::string name, authorization, token_id;  // token_id: "" for a workspace's credentials
};

// One method of one path; `query` holds its required query parameters ("" or "?...").
struct Operation {
    std::string method, path_template, plural, query;
};

// What an admin sees of one of B's objects: how GET answered, the revision, and what a write
// by another tenant could change (labels, a deletion request, the spec; a token's revocation,
// a report's document).
struct State {
    int status = 0;
    std::string revision, content;
};

std::string Upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

// The title of tenant B's public incident.
constexpr const char* kPublicTitle = "tenant-b-public-incident-title";

bool Is2xx(int status) {
    return status >= 200 && status < 300;
}

class CrossTenant : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--sim-latency",
             "50ms",
             "--public-rate",
             "0",
             "--tenant-rate",
             "0"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        auto catalogue = MakeCatalogue(*s_, "cross", false);
        a_ = s_->Tenant("cross-a");
        b_ = s_->Tenant("cross-b");
        b_samples_ = MakeSamples(*s_, b_, catalogue);
        for (const char* role : {"owner", "operator", "viewer"}) {
            std::string id;
            std::string secret = s_->Token(a_, role, &id);
            callers_.push_back({std::string("tenant A's ") + role, "Bearer " + secret, id});
            secrets_[role] = secret;
        }
        a_workspace_ = RegisterSampleWorkspace(*s_, secrets_["owner"], "mine");
        // A public incident of B's: for B's own status page, not for the platform's.
        auto pub = s_->Admin().Do(
            "POST",
            "/v1/incidents",
            json::serialize(json::object{
                {"metadata", {{"name", "public"}, {"tenant", b_}}},
                {"spec", {{"title", kPublicTitle}, {"public", true}}}})
        );
        EXPECT_EQ(pub.status, 201) << "B's public incident: " << pub.body;
        for (const auto& [plural, id] : b_samples_.ids) {
            before_[id] = Read(plural, id);
        }
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

    static State Read(const std::string& plural, const std::string& id) {
        auto admin = s_->Admin();
        if (plural == "tokens") {
            auto r = admin.Do("GET", "/v1/tokens/" + id);
            return {r.status, "", "revoked_at " + Str(r.Json(), {"revoked_at"})};
        }
        if (plural == "reports") {
            auto r = admin.Do("GET", "/v1/statistics/reports/" + id);
            return {r.status, "", r.body};
        }
        auto r = admin.Do("GET", "/v1/" + plural + "/" + id);
        json::value v = r.Json();
        std::string content = "labels " + Str(v, {"metadata", "labels"}) + " deletion " +
                              Str(v, {"metadata", "deletion_requested_at"});
        // Alerts and pages are Hangar's own records: the dispatcher and the pager write them.
        if (plural != "alerts" && plural != "pages") {
            content += " spec " + Str(v, {"spec"});
        }
        return {r.status, Str(v, {"metadata", "revision"}), content};
    }

    // A value for a required query parameter, so that a route that forgot the tenant check
    // would answer 2xx rather than stop at the missing parameter.
    static std::string QueryValue(const std::string& name) {
        if (name == "month") {
            return "2026-11";
        }
        if (name == "query" || name == "match[]") {
            return "up";
        }
        if (name == "start") {
            return "1700000000";
        }
        if (name == "end") {
            return "1700000600";
        }
        if (name == "step") {
            return "60";
        }
        return "x";
    }
    static std::string RequiredQuery(const json::value& op) {
        std::string q;
        if (!op.is_object() || !op.as_object().contains("parameters") ||
            !op.at("parameters").is_array()) {
            return q;
        }
        for (const auto& p : op.at("parameters").as_array()) {
            if (Str(p, {"in"}) == "query" && Str(p, {"required"}) == "true") {
                std::string name = Str(p, {"name"});
                q += (q.empty() ? "?" : "&") +
                     (name == "match[]" ? std::string("match%5B%5D") : name) + "=" +
                     QueryValue(name);
            }
        }
        return q;
    }

    // Every operation of the document; with_id: those with an {id}, else those with no parameter
    // in the path.
    static std::vector<Operation> Operations(bool with_id) {
        std::vector<Operation> out;
        for (const auto& [path, item] : openapi_.at("paths").as_object()) {
            std::string p(path);
            size_t brace = p.find("{id}");
            if (!item.is_object() ||
                (with_id ? brace == std::string::npos : p.find('{') != std::string::npos)) {
                continue;
            }
            for (const auto& [method, op] : item.as_object()) {
                std::string m = Upper(std::string(method));
                if (m != "GET" && m != "PUT" && m != "POST" && m != "PATCH" && m != "DELETE") {
                    continue;
                }
                out.push_back({m, p, with_id ? PluralBefore(p, brace) : "", RequiredQuery(op)});
            }
        }
        return out;
    }

    // A body that would succeed on the caller's own object: a route that forgot the tenant
    // check then answers 2xx, not a 400 that hides it.
    static std::string BodyFor(const Operation& op) {
        if (op.method == "PUT") {
            return R"({"metadata":{"labels":{"probe":"cross-tenant"}}})";
        }
        if (op.method != "POST") {
            return "";
        }
        if (op.path_template.ends_with("/sync")) {
            return R"({"uniqueId":"cross-tenant-probe","version":"1.0.0"})";
        }
        std::string action = op.path_template.substr(op.path_template.rfind(':') + 1);
        if (action == "status") {
            return R"({"status":"identified","note":"probe"})";
        }
        if (action == "assign") {
            return R"({"role":"responder","user":"mallory"})";
        }
        if (action == "note") {
            return R"({"text":"probe"})";
        }
        if (action == "postmortem") {
            return R"({"state":"Reviewed"})";
        }
        if (action == "reassign") {
            return R"({"user":"bob"})";
        }
        if (action == "approve") {
            return json::serialize(json::object{
                {"instance",
                 b_samples_.ids.contains("instances") ? b_samples_.ids.at("instances")
                                                      : FakeId("instances")}});
        }
        if (action == "registration-token") {
            return "{}";
        }
        return "";
    }

    // A's tokens; on the workspace cloud routes also A's workspace's access token.
    static std::vector<Caller> CallersFor(const std::string& path) {
        std::vector<Caller> out = callers_;
        if (!path.starts_with("/v1/") && !a_workspace_.access.empty()) {
            out.push_back({"tenant A's workspace", "Bearer " + a_workspace_.access, ""});
        }
        return out;
    }

    static HttpResponse Send(
        const Caller& who,
        const std::string& method,
        const std::string& path,
        const std::string& body,
        std::vector<std::pair<std::string, std::string>> headers = {}
    ) {
        headers.emplace_back("Authorization", who.authorization);
        return s_->Anonymous().Do(method, path, body, headers);
    }

    // The first of B's ids (or B's tenant id) that `text` shows, or "".
    static std::string ShowsB(const std::string& text) {
        for (const auto& [plural, id] : b_samples_.ids) {
            if (!id.empty() && text.find(id) != std::string::npos) {
                return plural + " " + id;
            }
        }
        return "";
    }

    // What a list shows besides the caller's own doings: the audit log echoes the ids A itself
    // sent (a refused call on B's id is recorded with that id), which tells A nothing new.
    static std::string OthersOf(const std::string& path, const HttpResponse& r) {
        json::value v = r.Json();
        if (path != "/v1/audit" || !v.is_object() || !v.as_object().contains("items") ||
            !v.at("items").is_array()) {
            return r.body;
        }
        std::string out;
        for (const auto& e : v.at("items").as_array()) {
            std::string actor = Str(e, {"actor"});
            bool mine = std::any_of(callers_.begin(), callers_.end(), [&](const Caller& c) {
                return actor == "token:" + c.token_id;
            });
            if (!mine) {
                out += json::serialize(e);
            }
        }
        return out;
    }

    static LiveServer* s_;
    static std::string a_, b_;
    static Samples b_samples_;
    static SampleWorkspace a_workspace_;
    static std::vector<Caller> callers_;
    static std::map<std::string, std::string> secrets_;  // role → A's token
    static std::map<std::string, State> before_;         // B's id → as it was
    static json::value openapi_;
};
LiveServer* CrossTenant::s_ = nullptr;
std::string CrossTenant::a_;
std::string CrossTenant::b_;
Samples CrossTenant::b_samples_;
SampleWorkspace CrossTenant::a_workspace_;
std::vector<Caller> CrossTenant::callers_;
std::map<std::string, std::string> CrossTenant::secrets_;
std::map<std::string, State> CrossTenant::before_;
json::value CrossTenant::openapi_;

TEST_F(CrossTenant, NoRouteWithAnIdReachesAnotherTenantsObject) {
    auto ops = Operations(true);
    ASSERT_GE(ops.size(), 30U) << "the OpenAPI document lists fewer {id} routes than expected";
    // Deletions last, so that every other route meets B's objects as they were.
    std::stable_partition(ops.begin(), ops.end(), [](const Operation& o) {
        return o.method != "DELETE";
    });
    std::set<std::string> skipped;
    int checked = 0;
    for (const auto& op : ops) {
        auto own = b_samples_.ids.find(op.plural);
        if (own == b_samples_.ids.end() || own->second.empty()) {
            skipped.insert(
                op.method + " " + op.path_template + " (tenant B owns no " + op.plural + ")"
            );
            continue;
        }
        auto fill = [&](const std::string& id) {
            return FillPath(
                       op.path_template,
                       [&](const std::string& param, const std::string&) {
                           return param == "id" ? id : std::string("x");
                       }
                   ) +
                   op.query;
        };
        std::string body = BodyFor(op);
        for (const auto& who : CallersFor(op.path_template)) {
            std::string path = fill(own->second);
            auto got = Send(who, op.method, path, body);
            auto none = Send(who, op.method, fill(FakeId(op.plural)), body);
            ++checked;
            if (Is2xx(got.status)) {
                ADD_FAILURE() << "VIOLATION: " << op.method << " " << path << " as " << who.name
                              << " reached tenant B's " << op.plural << ": " << got.status << " "
                              << got.body.substr(0, 300);
            } else if (got.status == 0 || got.status >= 500) {
                ADD_FAILURE() << op.method << " " << path << " as " << who.name << ": "
                              << got.status << " " << got.body.substr(0, 300);
            } else if (got.status != none.status || got.ErrorCode() != none.ErrorCode()) {
                ADD_FAILURE() << op.method << " " << path << " as " << who.name
                              << " answers tenant B's " << op.plural << " (" << got.status << " "
                              << got.ErrorCode() << ": " << got.body.substr(0, 200)
                              << ") unlike an id that names nothing (" << none.status << " "
                              << none.ErrorCode() << "): it tells that the object exists";
            }
        }
    }
    std::cout
        << "[ cross    ] " << checked
        << " calls on tenant B's objects; not exercised (no tenant-owned object of the kind):\n";
    for (const auto& s : skipped) {
        std::cout << "[ cross    ]   " << s << "\n";
    }

    // B's objects afterwards, as the admin sees them.
    std::vector<std::string> moved;
    for (const auto& [plural, id] : b_samples_.ids) {
        const State& was = before_[id];
        State now = Read(plural, id);
        if (now.status != was.status) {
            ADD_FAILURE() << "tenant B's " << plural << " " << id << ": GET as admin answered "
                          << was.status << " before and " << now.status << " after";
        } else if (now.content != was.content) {
            ADD_FAILURE() << "tenant B's " << plural << " " << id
                          << " changed:\n  before: " << was.content.substr(0, 500)
                          << "\n  after:  " << now.content.substr(0, 500);
        } else if (now.revision != was.revision) {
            moved.push_back(plural + " " + id + " (" + was.revision + " → " + now.revision + ")");
        }
    }
    // A revision moved by Hangar's controllers (an instance's status, a page's notifications)
    // is theirs; one moved by A shows in the audit log as a success of one of A's tokens.
    std::set<std::string> b_ids;
    for (const auto& [plural, id] : b_samples_.ids) {
        b_ids.insert(id);
    }
    for (const auto& who : callers_) {
        auto r = s_->Admin().Do("GET", "/v1/audit?actor=token:" + who.token_id + "&limit=1000");
        ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
        json::value events = r.Json();
        for (const auto& e : events.at("items").as_array()) {
            if (Str(e, {"outcome"}) == "success" &&
                (Str(e, {"tenant"}) == b_ || b_ids.contains(Str(e, {"object"})))) {
                ADD_FAILURE() << "VIOLATION: the audit log has " << who.name << " succeeding at "
                              << Str(e, {"action"}) << " on " << Str(e, {"object"}) << " of tenant "
                              << Str(e, {"tenant"});
            }
        }
    }
    for (const auto& m : moved) {
        std::cout << "[ cross    ] revision moved, by no call of tenant A (controllers): " << m
                  << "\n";
    }
}

TEST_F(CrossTenant, ListsShowNoneOfAnotherTenantsObjectsEvenWhenNamingIt) {
    // Hangar's own pages (health, its /metrics, the public status page, the dashboard) and the
    // device-flow poll (its token is the device code) are not tenant lists.
    const std::set<std::string> not_lists = {
        "/healthz",
        "/readyz",
        "/metrics",
        "/status",
        "/",
        "/v1/openapi.json",
        "/api/v2/register/workspace/poll"};
    int checked = 0;
    for (const auto& op : Operations(false)) {
        if (op.method != "GET" || not_lists.contains(op.path_template)) {
            continue;
        }
        for (const std::string& query :
             {op.query, op.query + (op.query.empty() ? "?" : "&") + "tenant=" + b_}) {
            std::string path = op.path_template + query;
            for (const auto& who : callers_) {
                auto r = Send(who, "GET", path, "");
                ++checked;
                if (r.status == 0 || r.status >= 500) {
                    ADD_FAILURE() << "GET " << path << " as " << who.name << ": " << r.status << " "
                                  << r.body.substr(0, 300);
                } else if (Is2xx(r.status)) {
                    if (std::string shown = ShowsB(OthersOf(op.path_template, r)); !shown.empty()) {
                        ADD_FAILURE()
                            << "VIOLATION: GET " << path << " as " << who.name
                            << " shows tenant B's " << shown << ": " << r.body.substr(0, 300);
                    }
                }
            }
        }
    }
    EXPECT_GE(checked, 60) << "the OpenAPI document lists fewer lists than expected";

    // The platform's public status page (no login) shows the operator tenant's incidents only;
    // this server has none, so B's public incident is not on it for anyone.
    std::vector<Caller> readers = callers_;
    readers.push_back({"anonymous", "", ""});
    for (const auto& who : readers) {
        auto r = who.authorization.empty() ? s_->Anonymous().Do("GET", "/status")
                                           : Send(who, "GET", "/status", "");
        EXPECT_LT(r.status, 500) << "GET /status as " << who.name << ": " << r.body.substr(0, 300);
        EXPECT_EQ(r.body.find(kPublicTitle), std::string::npos)
            << "VIOLATION: GET /status as " << who.name << " shows tenant B's public incident";
    }
}

TEST_F(CrossTenant, WatchesStreamNoneOfAnotherTenantsChanges) {
    // From revision 0, naming B: every change of the kind the caller may see, and only those.
    ASSERT_FALSE(callers_.empty());
    const Caller& owner = callers_.front();
    for (const auto& [plural, id] : b_samples_.ids) {
        if (plural == "tokens" || plural == "reports") {
            continue;  // not resources: no watch
        }
        Connection c("127.0.0.1", s_->port());
        ASSERT_TRUE(c.ok());
        c.SendRaw(
            "GET /v1/" + plural + "?watch=1&since=0&tenant=" + b_ +
            " HTTP/1.1\r\nHost: x\r\nAuthorization: " + owner.authorization + "\r\n\r\n"
        );
        std::string got = c.ReadSome(std::chrono::milliseconds(300));
        if (std::string shown = ShowsB(got); !shown.empty()) {
            ADD_FAILURE() << "VIOLATION: a watch of /v1/" << plural << " as " << owner.name
                          << " streams tenant B's " << shown << ": " << got.substr(0, 300);
        }
        if (got.rfind("HTTP/1.1 5", 0) == 0) {
            ADD_FAILURE() << "a watch of /v1/" << plural << " as " << owner.name << ": "
                          << got.substr(0, 300);
        }
    }
}

TEST_F(CrossTenant, MetricsAndAlertIntakeStayInTheCallersTenant) {
    // Naming B in X-Scope-OrgID (the Cortex/Mimir tenant header): refused to A's tokens.
    for (const std::string path :
         {"/api/v1/query?query=up",
          "/api/v1/query_range?query=up&start=1700000000&end=1700000600&step=60",
          "/api/v1/series?match%5B%5D=up",
          "/api/v1/labels",
          "/api/v1/label/__name__/values"}) {
        for (const auto& who : callers_) {
            auto r = Send(who, "GET", path, "", {{"X-Scope-OrgID", b_}});
            EXPECT_FALSE(Is2xx(r.status))
                << "VIOLATION: GET " << path << " as " << who.name << " with X-Scope-OrgID " << b_
                << ": " << r.status << " " << r.body.substr(0, 300);
            EXPECT_LT(r.status, 500)
                << "GET " << path << " as " << who.name << ": " << r.body.substr(0, 300);
        }
    }
    std::vector<metrics::SeriesData> batch(1);
    batch[0].labels = {{"__name__", "cross_tenant_probe"}};
    batch[0].samples.push_back(
        {std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()
         )
             .count(),
         1}
    );
    for (const auto& who : callers_) {
        auto r = Send(
            who,
            "POST",
            "/api/v1/write",
            metrics::EncodeWriteRequest(batch),
            {{"Content-Type", "application/x-protobuf"},
             {"Content-Encoding", "snappy"},
             {"X-Scope-OrgID", b_}}
        );
        EXPECT_FALSE(Is2xx(r.status))
            << "VIOLATION: remote-write as " << who.name << " with X-Scope-OrgID " << b_ << ": "
            << r.status << " " << r.body.substr(0, 300);
    }
    auto series = s_->Admin().Do(
        "GET", "/api/v1/series?match%5B%5D=cross_tenant_probe", "", {{"X-Scope-OrgID", b_}}
    );
    EXPECT_EQ(series.status, 200) << series.body.substr(0, 300);
    EXPECT_EQ(series.body.find("cross_tenant_probe"), std::string::npos)
        << "VIOLATION: A's samples landed in tenant B: " << series.body.substr(0, 300);

    // Alerts naming B in X-Scope-OrgID (a platform admin's way to pick the tenant): they are
    // A's, if taken at all. (No tenant label: it would put B's id into A's alerts.)
    ASSERT_EQ(callers_.size(), 3U);
    const Caller& op = callers_[1];  // the operator: intake needs operator or more
    auto am = Send(
        op,
        "POST",
        "/v1/intake/alertmanager",
        json::serialize(json::object{
            {"version", "4"},
            {"alerts",
             json::array{json::object{
                 {"status", "firing"},
                 {"labels", {{"alertname", "CrossProbeAm"}}},
                 {"annotations", {{"summary", "cross-tenant probe"}}}}}}}),
        {{"X-Scope-OrgID", b_}}
    );
    EXPECT_LT(am.status, 500) << am.body.substr(0, 300);
    auto ev = s_->Anonymous().Do(
        "POST",
        "/v1/intake/events",
        json::serialize(json::object{
            {"routing_key", secrets_["operator"]},
            {"event_action", "trigger"},
            {"dedup_key", "cross-tenant-probe"},
            {"payload",
             {{"summary", "cross-tenant probe"},
              {"source", "probe"},
              {"severity", "critical"},
              {"class", "CrossProbeEv"}}}}),
        {{"X-Scope-OrgID", b_}}
    );
    EXPECT_LT(ev.status, 500) << ev.body.substr(0, 300);
    auto admin = s_->Admin();
    for (const auto& [name, taken] :
         {std::pair{std::string("CrossProbeAm"), Is2xx(am.status)},
          std::pair{std::string("CrossProbeEv"), Is2xx(ev.status)}}) {
        if (taken) {
            // Bounded: until the dispatcher has stored it in A (about a second).
            WaitFor(
                admin,
                "/v1/alerts?tenant=" + a_ + "&selector=alertname%3D" + name,
                [](const json::value& v) {
                    return v.is_object() && v.as_object().contains("items") &&
                           !v.at("items").as_array().empty();
                },
                200
            );
        }
        auto in_b = admin.Do("GET", "/v1/alerts?tenant=" + b_ + "&selector=alertname%3D" + name);
        ASSERT_EQ(in_b.status, 200) << in_b.body.substr(0, 300);
        EXPECT_TRUE(in_b.Json().at("items").as_array().empty())
            << "VIOLATION: tenant A's alert " << name
            << " landed in tenant B: " << in_b.body.substr(0, 300);
    }
}

}  // namespace
}  // namespace hangar::testing
