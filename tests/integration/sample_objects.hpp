#pragma once
// One object of every kind a tenant can own, made through the public API, so that the suites
// walking every route of the OpenAPI document can put a real id in each {id}
// (hostile_input_test.cpp, cross_tenant_test.cpp). Also: the id prefix of each kind, ids of the
// right shape that name nothing, and a path's parameters filled in.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace hangar::testing {

// The id prefix of each kind, by the plural its routes use (/v1/<plural>/{id}); "reports" are
// the collector's statistics reports (/v1/statistics/reports/{id}).
inline const std::map<std::string, std::string>& IdPrefixes() {
    static const std::map<std::string, std::string> prefixes = {
        {"tenants", "ten"},
        {"users", "usr"},
        {"tokens", "tok"},
        {"products", "prd"},
        {"plans", "pln"},
        {"instances", "ins"},
        {"rollouts", "rol"},
        {"slos", "slo"},
        {"maintenancewindows", "mtw"},
        {"alertrules", "arl"},
        {"silences", "sil"},
        {"notificationpolicies", "ntp"},
        {"schedules", "sch"},
        {"escalationpolicies", "esc"},
        {"runbooks", "rbk"},
        {"incidents", "inc"},
        {"alerts", "alr"},
        {"pages", "pag"},
        {"workspaces", "wks"},
        {"pushapps", "pap"},
        {"reports", "sta"},
    };
    return prefixes;
}

// An id of the right shape for `plural` that names nothing.
inline std::string FakeId(const std::string& plural) {
    auto it = IdPrefixes().find(plural);
    return (it == IdPrefixes().end() ? std::string("xxx") : it->second) + "_00000000000000000000";
}

// The plural a path parameter belongs to: the segment before the one that holds it
// ("/v1/instances/{id}:restart" → "instances", "/api/v2/workspaces/{id}/sync" → "workspaces").
inline std::string PluralBefore(const std::string& path, size_t brace) {
    size_t seg = path.rfind('/', brace);
    if (seg == std::string::npos || seg == 0) {
        return "";
    }
    size_t prev = path.rfind('/', seg - 1);
    return prev == std::string::npos ? "" : path.substr(prev + 1, seg - prev - 1);
}

// `path` with each {param} replaced by value(param, plural it belongs to).
inline std::string FillPath(
    const std::string& path,
    const std::function<std::string(const std::string&, const std::string&)>& value
) {
    std::string out;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t open = path.find('{', pos);
        size_t close = open == std::string::npos ? std::string::npos : path.find('}', open);
        if (close == std::string::npos) {
            out += path.substr(pos);
            break;
        }
        out += path.substr(pos, open - pos);
        out += value(path.substr(open + 1, close - open - 1), PluralBefore(path, open));
        pos = close + 1;
    }
    return out;
}

// A throwaway EC P-256 key (PKCS#8), made for these tests only: a push app's APNs key must be one.
inline constexpr const char* kSampleApnsKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAkn1W/z5XJdBzguA\n"
    "15RWw7xbH7EVV05mMSVV4Gl5cfqhRANCAARfplPnY/vynZju5b3eGHD5W/MqdzPZ\n"
    "bt+6uQQyBVgIWcdtK2tlv8XSlVl29UNc//JtwKsH8F/GRmhfL9EIlVM9\n"
    "-----END PRIVATE KEY-----\n";

// The platform catalogue the samples use: a product and a plan for instances, and (when
// `with_rollout`) a second product with two versions and a rollout of it, which no instance
// runs. Keys: "products", "plans", "rollouts"; "product_name" and "plan_name" for instances.
inline std::map<std::string, std::string>
MakeCatalogue(LiveServer& s, const std::string& prefix, bool with_rollout) {
    std::map<std::string, std::string> out;
    auto admin = s.Admin();
    auto plan = admin.Do(
        "POST",
        "/v1/plans",
        json::serialize(json::object{
            {"metadata", {{"name", prefix + "-small"}}},
            {"spec", {{"memory_mb", 64}, {"cpu_millis", 100}}}})
    );
    if (plan.status == 201) {
        out["plans"] = Str(plan.Json(), {"metadata", "id"});
        out["plan_name"] = prefix + "-small";
    } else {
        ADD_FAILURE() << "could not create the sample plan: " << plan.status << " " << plan.body;
    }
    auto product = admin.Do(
        "POST",
        "/v1/products",
        json::serialize(json::object{
            {"metadata", {{"name", prefix + "-app"}}},
            {"spec",
             {{"versions",
               json::array{
                   json::object{{"version", "1"}, {"run", {{"simulated", json::object{}}}}}}}}}})
    );
    if (product.status == 201) {
        out["products"] = Str(product.Json(), {"metadata", "id"});
        out["product_name"] = prefix + "-app";
    } else {
        ADD_FAILURE() << "could not create the sample product: " << product.status << " "
                      << product.body;
    }
    if (with_rollout) {
        auto rolled = admin.Do(
            "POST",
            "/v1/products",
            json::serialize(json::object{
                {"metadata", {{"name", prefix + "-rolled"}}},
                {"spec",
                 {{"versions",
                   json::array{
                       json::object{{"version", "1"}, {"run", {{"simulated", json::object{}}}}},
                       json::object{{"version", "2"}, {"run", {{"simulated", json::object{}}}}}}}}}}
            )
        );
        EXPECT_EQ(rolled.status, 201) << "the sample product for the rollout: " << rolled.body;
        auto rollout = admin.Do(
            "POST",
            "/v1/rollouts",
            json::serialize(json::object{
                {"metadata", {{"name", prefix + "-rollout"}}},
                {"spec", {{"product", prefix + "-rolled"}, {"target_version", "2"}}}})
        );
        if (rollout.status == 201) {
            out["rollouts"] = Str(rollout.Json(), {"metadata", "id"});
        } else {
            ADD_FAILURE() << "could not create the sample rollout: " << rollout.status << " "
                          << rollout.body;
        }
    }
    return out;
}

// A workspace of a tenant, registered: its id, the (now spent) registration token and an
// access token for every scope it may hold.
struct SampleWorkspace {
    std::string id, registration_token, access;
};

// Creates workspace `name` with `op` (a token of the tenant, operator or more) and registers it.
inline SampleWorkspace
RegisterSampleWorkspace(LiveServer& s, const std::string& op, const std::string& name) {
    SampleWorkspace w;
    auto c = s.As(op).Do(
        "POST",
        "/v1/workspaces",
        json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", json::object{}}})
    );
    if (c.status != 201) {
        ADD_FAILURE() << "could not create the sample workspace " << name << ": " << c.status << " "
                      << c.body;
        return w;
    }
    w.id = Str(c.Json(), {"metadata", "id"});
    auto t = s.As(op).Do("POST", "/v1/workspaces/" + w.id + ":registration-token", "");
    w.registration_token = Str(t.Json(), {"token"});
    auto creds = s.Anonymous().Do(
        "POST",
        "/api/oauth/clients",
        R"({"client_name":"sample"})",
        {{"Authorization", "Bearer " + w.registration_token}}
    );
    std::string secret = Str(creds.Json(), {"client_secret"});
    auto token = s.Anonymous().Do(
        "POST",
        "/api/oauth/token",
        "client_id=" + w.id + "&client_secret=" + secret + "&grant_type=client_credentials",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    w.access = Str(token.Json(), {"access_token"});
    if (w.access.empty()) {
        ADD_FAILURE() << "could not register the sample workspace " << name
                      << ": registration token " << t.status << " " << t.body << "; client "
                      << creds.status << " " << creds.body << "; token " << token.status << " "
                      << token.body;
    }
    return w;
}

// One object of every tenant-scoped kind in `tenant`.
struct Samples {
    std::string tenant;
    std::map<std::string, std::string> ids;  // plural → id ("tenants" is the tenant itself)
    SampleWorkspace workspace;               // ids["workspaces"], registered
};

// Makes the samples as the platform admin (the workspace with an operator token of the tenant,
// as registration needs). Instances use `catalogue` (MakeCatalogue). The alert and the page
// come from an Alertmanager intake routed by the tenant's "default" notification policy to its
// "default" escalation policy; they are waited for (bounded: about 15 s each).
inline Samples MakeSamples(
    LiveServer& s,
    const std::string& tenant,
    const std::map<std::string, std::string>& catalogue
) {
    Samples out;
    out.tenant = tenant;
    out.ids["tenants"] = tenant;
    auto admin = s.Admin();
    auto create = [&](const std::string& plural, const std::string& name, json::object spec) {
        auto r = admin.Do(
            "POST",
            "/v1/" + plural,
            json::serialize(json::object{
                {"metadata", {{"name", name}, {"tenant", tenant}}}, {"spec", std::move(spec)}})
        );
        if (r.status != 201) {
            ADD_FAILURE() << "could not create the sample " << plural << " " << name << ": "
                          << r.status << " " << r.body;
            return;
        }
        out.ids[plural] = Str(r.Json(), {"metadata", "id"});
    };
    std::string token_id;
    s.Token(tenant, "viewer", &token_id);
    if (!token_id.empty()) {
        out.ids["tokens"] = token_id;
    }
    create("users", "bob", {{"email", "bob@sample.example"}, {"role", "operator"}});
    if (catalogue.contains("product_name") && catalogue.contains("plan_name")) {
        create(
            "instances",
            "sample",
            {{"product", catalogue.at("product_name")}, {"plan", catalogue.at("plan_name")}}
        );
    }
    create("slos", "sample", {{"target_percent", 99.5}});
    create(
        "maintenancewindows",
        "sample",
        {{"starts_at", "2030-01-01T00:00:00Z"},
         {"ends_at", "2030-01-01T01:00:00Z"},
         {"reason", "sample window"},
         {"selector", "{instance_name=\"nothing\"}"}}
    );
    create(
        "alertrules",
        "sample",
        {{"alert", "SampleRule"}, {"expr", "sample_metric_never_written > 1"}}
    );
    create(
        "silences",
        "sample",
        {{"matchers", json::array{"sample_label=\"never\""}},
         {"ends_at", "2030-01-01T00:00:00Z"},
         {"author", "bob"},
         {"comment", "sample silence"}}
    );
    create(
        "schedules",
        "primary",
        {{"layers",
          json::array{json::object{
              {"users", json::array{"bob"}}, {"start", "2026-01-05T09:00"}, {"rotation", "7d"}}}}}
    );
    create(
        "escalationpolicies",
        "default",
        {{"steps",
          json::array{json::object{
              {"targets", json::array{json::object{{"user", "bob"}}}}, {"wait", "1h"}}}}}
    );
    create(
        "notificationpolicies",
        "default",
        {{"route",
          {{"receiver", "oncall"},
           {"group_by", json::array{"alertname"}},
           {"group_wait", "1s"},
           {"group_interval", "1s"}}},
         {"receivers",
          json::array{json::object{{"name", "oncall"}, {"escalation_policy", "default"}}}}}
    );
    create(
        "runbooks",
        "sample",
        {{"matchers", json::array{"alertname=\"SampleNeverFires\""}}, {"action", "restart"}}
    );
    create("incidents", "sample", {{"title", "sample incident"}});
    create(
        "pushapps",
        "sample",
        {{"apns",
          {{"key_p8", kSampleApnsKey},
           {"key_id", "KEY1234567"},
           {"team_id", "TEAM123456"},
           {"topic", "sample.example.ios"}}}}
    );

    // A registered workspace and one statistics report of it.
    std::string op = s.Token(tenant, "operator");
    out.workspace = RegisterSampleWorkspace(s, op, "sample");
    if (!out.workspace.id.empty()) {
        out.ids["workspaces"] = out.workspace.id;
    }
    if (!out.workspace.access.empty()) {
        auto sent = s.Anonymous().Do(
            "POST",
            "/collector",
            json::serialize(json::object{{"uniqueId", "sample-" + tenant}, {"version", "1.0.0"}}),
            {{"Authorization", "Bearer " + out.workspace.access}}
        );
        auto history = admin.Do("GET", "/v1/workspaces/" + out.workspace.id + "/statistics");
        json::value h = history.Json();
        if (h.is_object() && h.as_object().contains("items") && !h.at("items").as_array().empty()) {
            out.ids["reports"] = Str(h.at("items").as_array()[0], {"id"});
        } else {
            ADD_FAILURE() << "could not make a sample statistics report: " << sent.status << " "
                          << sent.body << "; " << history.status << " " << history.body;
        }
    }

    // An alert, and the page the notification policy opens for it.
    auto intake = admin.Do(
        "POST",
        "/v1/intake/alertmanager",
        json::serialize(json::object{
            {"version", "4"},
            {"alerts",
             json::array{json::object{
                 {"status", "firing"},
                 {"labels", {{"alertname", "SampleProbe"}, {"severity", "critical"}}},
                 {"annotations", {{"summary", "sample alert"}}}}}}}),
        {{"X-Scope-OrgID", tenant}}
    );
    EXPECT_EQ(intake.status, 200) << "the sample alert: " << intake.body;
    auto first_id = [](const json::value& list) {
        if (!list.is_object() || !list.as_object().contains("items") ||
            list.at("items").as_array().empty()) {
            return std::string();
        }
        return Str(list.at("items").as_array()[0], {"metadata", "id"});
    };
    auto has_items = [&](const json::value& v) {
        return !first_id(v).empty();
    };
    std::string alert = first_id(WaitFor(admin, "/v1/alerts?tenant=" + tenant, has_items, 300));
    std::string page = first_id(WaitFor(admin, "/v1/pages?tenant=" + tenant, has_items, 300));
    if (alert.empty() || page.empty()) {
        ADD_FAILURE() << "the sample alert or page did not appear in tenant " << tenant
                      << " (alert \"" << alert << "\", page \"" << page << "\")";
    }
    if (!alert.empty()) {
        out.ids["alerts"] = alert;
    }
    if (!page.empty()) {
        out.ids["pages"] = page;
    }
    return out;
}

}  // namespace hangar::testing
