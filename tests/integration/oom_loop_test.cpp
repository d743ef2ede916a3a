// The on-call loop end to end on real processes: the workspace app leaks past its memory limit
// and is OOM-killed; the prober records it, the rule fires, the on-call user is paged by email
// (a loopback SMTP server) and webhook, nobody acknowledges so the page escalates, the built-in
// runbook resizes the instance one plan up, the alert resolves, and the incident's timeline and
// post-mortem draft hold every step with its time.

#include "fake_receivers.hpp"
#include "fixture.hpp"
#include "metrics_helpers.hpp"

namespace hangar::testing {
namespace {

TEST(OomLoopTest, LeakToOomToPageToEscalationToResizeToResolvedWithATimeline) {
    SmtpServer smtp;
    WebhookReceiver hook;
    LiveServer s(
        {"--provisioner",
         "process",
         "--restart-backoff",
         "50ms",
         "--rule-interval",
         "1s",
         "--smtp-url",
         smtp.Url(),
         "--webhook-allow",
         "127.0.0.1"}
    );
    ASSERT_TRUE(s.Start()) << s.process().Log();
    InstancesTornDown cleanup(s);
    auto admin = s.Admin();
    for (auto [name, mb] : {std::pair{"small", 64}, {"medium", 128}}) {
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    fmt::format(
                        R"({{"metadata":{{"name":"{}"}},"spec":{{"memory_mb":{},"cpu_millis":200}}}})",
                        name,
                        mb
                    ))
                .status,
            201
        );
    }
    ASSERT_EQ(
        admin
            .Do("POST",
                "/v1/products",
                R"({"metadata":{"name":"workspace"},"spec":{"versions":[{"version":"1.0",)"
                R"("run":{"process":{"command":["hangar-workspace","--port","{port}"]}},)"
                R"("health":{"http":{"path":"/healthz"},"interval_seconds":1}}]}})")
            .status,
        201
    );
    std::string tenant = s.Tenant("oom-acme");
    auto owner = s.As(s.Token(tenant, "owner"));
    auto create = [&](const std::string& plural, const json::object& body) {
        auto r = owner.Do("POST", "/v1/" + plural, json::serialize(body));
        EXPECT_EQ(r.status, 201) << plural << ": " << r.body;
        return r.Json();
    };
    create(
        "users",
        {{"metadata", {{"name", "alice"}}},
         {"spec",
          {{"email", "alice@acme.test"},
           {"role", "operator"},
           {"webhook_url", hook.Url("/alice")}}}}
    );
    create(
        "users",
        {{"metadata", {{"name", "bob"}}},
         {"spec", {{"email", "bob@acme.test"}, {"role", "operator"}}}}
    );
    create(
        "schedules",
        {{"metadata", {{"name", "primary"}}},
         {"spec",
          {{"layers",
            json::array{json::object{{"users", {"alice"}}, {"start", "2026-01-05T09:00"}}}}}}}
    );
    create(
        "escalationpolicies",
        {{"metadata", {{"name", "default"}}},
         {"spec",
          {{"steps",
            json::array{
                json::object{{"targets", {json::object{{"schedule", "primary"}}}}, {"wait", "3s"}},
                json::object{{"targets", {json::object{{"user", "bob"}}}}, {"wait", "1h"}}}}}}}
    );
    create(
        "notificationpolicies",
        {{"metadata", {{"name", "default"}}},
         {"spec",
          {{"route", {{"receiver", "oncall"}, {"group_wait", "1s"}, {"group_interval", "1s"}}},
           {"receivers",
            json::array{json::object{{"name", "oncall"}, {"escalation_policy", "default"}}}}}}}
    );
    // The built-in OOM rule, made critical (so it declares an incident) and with a 20 s window
    // (so the test need not wait 10 minutes for it to resolve).
    create(
        "alertrules",
        {{"metadata", {{"name", "instance-oom-killed"}}},
         {"spec",
          {{"alert", "InstanceOOMKilled"},
           {"expr", "increase(instance_oom_kills_total{job=\"hangar-probe\"}[20s]) > 0"},
           {"labels", {{"severity", "critical"}}},
           {"annotations",
            {{"summary", "{{ $labels.instance_name }} was killed at its memory limit"}}}}}}
    );
    auto ins = create(
        "instances",
        {{"metadata", {{"name", "shop"}}}, {"spec", {{"product", "workspace"}, {"plan", "small"}}}}
    );
    std::string id = Str(ins, {"metadata", "id"});
    auto running = WaitFor(owner, "/v1/instances/" + id, [](const json::value& v) {
        return Phase(v) == "Running";
    });
    ASSERT_EQ(Phase(running), "Running") << running;
    std::string mode = Str(running, {"status", "memory_limit"});
    if (mode != "cgroup1" && mode != "cgroup2") {
        // Without a writable memory cgroup the kernel never OOM-kills it; the loop has no start.
        GTEST_SKIP() << "no writable memory cgroup here (" << mode << "): OOM kills cannot happen";
    }
    // Let the prober record the counter at 0 before the kill (increase needs two samples).
    WaitFor(
        admin,
        "/api/v1/query?query=" + UrlEncode("instance_oom_kills_total{instance=\"" + id + "\"}"),
        [](const json::value& v) { return !v.at("data").at("result").as_array().empty(); }
    );
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    Client app("127.0.0.1", EndpointPort(running));
    app.Do("POST", "/leak?mb=150");  // against 64 MiB

    // Paged: alice by email and webhook; then, unacknowledged, bob.
    ASSERT_TRUE(smtp.WaitFor(1, std::chrono::seconds(60))) << s.process().Log();
    EXPECT_EQ(smtp.Messages()[0].to, std::vector<std::string>{"alice@acme.test"});
    EXPECT_NE(
        smtp.Messages()[0].data.find("Subject: [P1] shop was killed at its memory limit"),
        std::string::npos
    ) << smtp.Messages()[0].data;
    ASSERT_TRUE(hook.WaitFor(1, std::chrono::seconds(30)));
    ASSERT_TRUE(smtp.WaitFor(2, std::chrono::seconds(30)));
    EXPECT_EQ(smtp.Messages()[1].to, std::vector<std::string>{"bob@acme.test"});

    // The runbook moved it one plan up, and it runs again.
    auto resized = WaitFor(owner, "/v1/instances/" + id, [](const json::value& v) {
        return Str(v, {"spec", "plan"}) == "medium" && Phase(v) == "Running";
    });
    EXPECT_EQ(Str(resized, {"spec", "plan"}), "medium") << resized;
    // The alert resolves once the kill is out of the rule's window, and the page with it.
    auto resolved = WaitFor(
        owner,
        "/v1/alerts?selector=" + UrlEncode("alertname=InstanceOOMKilled,state=resolved"),
        [](const json::value& v) { return !v.at("items").as_array().empty(); },
        1200
    );
    ASSERT_FALSE(resolved.at("items").as_array().empty()) << "the alert resolves";
    auto pages = WaitFor(owner, "/v1/pages", [](const json::value& v) {
        return !v.at("items").as_array().empty() &&
               Str(v.at("items").as_array()[0], {"status", "state"}) == "resolved";
    });
    ASSERT_EQ(Str(pages.at("items").as_array()[0], {"status", "state"}), "resolved");

    // The incident holds every step, in order, with times.
    auto incidents = owner.Do("GET", "/v1/incidents").Json();
    ASSERT_EQ(incidents.at("items").as_array().size(), 1u) << incidents;
    std::string inc = Str(incidents.at("items").as_array()[0], {"metadata", "id"});
    auto tl = owner.Do("GET", "/v1/incidents/" + inc + "/timeline").Json();
    std::vector<std::string> lines;
    for (const auto& e : tl.at("items").as_array()) {
        lines.push_back(Str(e, {"at"}) + " " + Str(e, {"type"}) + ": " + Str(e, {"text"}));
    }
    std::string all;
    for (const auto& l : lines) {
        all += l + "\n";
    }
    auto pos = [&](const std::string& what) {
        for (size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].find(what) != std::string::npos) {
                return static_cast<int>(i);
            }
        }
        ADD_FAILURE() << "\"" << what << "\" is not on the timeline:\n" << all;
        return -1;
    };
    int firing = pos("alert: Alert InstanceOOMKilled firing");
    int declared = pos("declared: Declared from page");
    int paged = pos("notified alice by email");
    int hooked = pos("notified alice by webhook");
    int escalated = pos("no acknowledgement, escalated to step 2");
    int bob = pos("notified bob by email");
    int resize =
        pos("Runbook oom-resize-up (resize_up): done: resized shop from plan small (64 MiB) to "
            "medium (128 MiB)");
    int cleared = pos("alert: Alert InstanceOOMKilled resolved");
    int closed = pos("resolved by hangar");
    EXPECT_LT(firing, paged);
    EXPECT_LE(declared, paged + 2);
    EXPECT_LT(paged, escalated);
    EXPECT_LT(hooked, escalated);
    EXPECT_LT(escalated, bob);
    EXPECT_LT(firing, resize);
    EXPECT_LT(resize, cleared);
    EXPECT_LE(cleared, closed);
    auto pm = owner.Do("GET", "/v1/incidents/" + inc + "/postmortem");
    ASSERT_EQ(pm.status, 200);
    EXPECT_NE(
        pm.body.find("resized shop from plan small (64 MiB) to medium (128 MiB)"), std::string::npos
    ) << pm.body;
    EXPECT_NE(pm.body.find("- Time to acknowledge: not acknowledged"), std::string::npos)
        << pm.body;
    EXPECT_NE(pm.body.find("| " + tenant + " | "), std::string::npos)
        << "SLO minutes for the tenant:\n"
        << pm.body;
    // Delivery outcomes are on the page: both emails and the webhook reached their servers.
    int delivered = 0;
    for (const auto& e : pages.at("items").as_array()[0].at("status").at("history").as_array()) {
        delivered += Str(e, {"delivery"}) == "delivered" ? 1 : 0;
    }
    EXPECT_EQ(delivered, 3) << pages;
    admin.Do("DELETE", "/v1/instances/" + id);
    WaitFor(
        admin, "/v1/instances/" + id, [](const json::value&) { return false; }, 400
    );
}

}  // namespace
}  // namespace hangar::testing
