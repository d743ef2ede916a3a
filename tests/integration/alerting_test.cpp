// Alerting end to end on the real binary: a rule fires from metrics sent by remote-write, the
// alert is routed to an escalation policy, the on-call user is paged by email (a loopback SMTP
// server) and webhook, the page escalates, is acknowledged, and resolves with the alert;
// silences, maintenance windows and inhibition mute; Alertmanager webhooks (from a real
// Alertmanager 0.25) and PagerDuty-style events come in from outside.

#include <fstream>

#include "hangar/core/clock.hpp"
#include "hangar/metrics/remote_write.hpp"

#include "fake_receivers.hpp"
#include "fixture.hpp"
#include "metrics_helpers.hpp"
#include "prometheus_process.hpp"

namespace hangar::testing {
namespace {

std::string PageState(const json::object& p) {
    return Str(p, {"status", "state"});
}
std::string PageAssignee(const json::object& p) {
    return Str(p, {"status", "assignee"});
}

int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

class AlertingTest : public ::testing::Test {
protected:
    void SetUp() override {
        s_ = std::make_unique<LiveServer>(std::vector<std::string>{
            "--provisioner",
            "simulated",
            "--rule-interval",
            "1s",
            "--smtp-url",
            smtp_.Url(),
            "--webhook-allow",
            "127.0.0.1",
            "--smtp-from",
            "pager@hangar.test",
            "--operator-tenant",
            "alert-acme"});
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        tenant_ = s_->Tenant("alert-acme");
        op_ = s_->Token(tenant_, "owner");
    }
    Client Op() const { return s_->As(op_); }
    json::value Create(
        const std::string& plural,
        const std::string& name,
        const json::object& spec,
        int want = 201
    ) {
        auto r = Op().Do(
            "POST",
            "/v1/" + plural,
            json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", spec}})
        );
        EXPECT_EQ(r.status, want) << plural << " " << r.body;
        return r.Json();
    }
    // One sample of `name`{labels} = v now, through remote-write with the tenant's token.
    void Push(const std::string& name, double v, metrics::Labels extra = {}, int64_t at_ms = 0) {
        std::vector<metrics::SeriesData> batch(1);
        batch[0].labels = {{"__name__", name}};
        for (auto& l : extra) {
            batch[0].labels.push_back(l);
        }
        std::sort(batch[0].labels.begin(), batch[0].labels.end(), [](const auto& a, const auto& b) {
            return a.name < b.name;
        });
        batch[0].samples.push_back({at_ms != 0 ? at_ms : NowMs(), v});
        auto r = Op().Do(
            "POST",
            "/api/v1/write",
            metrics::EncodeWriteRequest(batch),
            {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "snappy"}}
        );
        ASSERT_EQ(r.status, 204) << r.body;
    }
    void OnCallSetup(const std::string& wait = "2s") {
        Create(
            "users",
            "alice",
            {{"email", "alice@acme.test"},
             {"role", "operator"},
             {"webhook_url", hook_.Url("/alice")}}
        );
        Create("users", "bob", {{"email", "bob@acme.test"}, {"role", "operator"}});
        Create(
            "schedules",
            "primary",
            {{"time_zone", "Europe/Berlin"},
             {"layers",
              json::array{json::object{
                  {"users", {"alice"}}, {"start", "2026-01-05T09:00"}, {"rotation", "7d"}}}}}
        );
        Create(
            "escalationpolicies",
            "default",
            {{"steps",
              json::array{
                  json::object{
                      {"targets", {json::object{{"schedule", "primary"}}}}, {"wait", wait}},
                  json::object{{"targets", {json::object{{"user", "bob"}}}}, {"wait", "1h"}}}}}
        );
    }
    // The tenant's alerts with this alertname.
    json::value AlertNamed(const std::string& alertname, const std::string& state) {
        return WaitFor(
            Op(),
            "/v1/alerts?selector=" + UrlEncode("alertname=" + alertname + ",state=" + state),
            [](const json::value& v) { return !v.at("items").as_array().empty(); }
        );
    }
    json::value OnlyPage(const std::function<bool(const json::object&)>& pred) {
        json::value last = WaitFor(Op(), "/v1/pages", [&](const json::value& v) {
            const auto& items = v.at("items").as_array();
            return items.size() == 1 && pred(items[0].as_object());
        });
        return last.at("items").as_array().empty() ? json::value() : last.at("items").as_array()[0];
    }
    SmtpServer smtp_;
    WebhookReceiver hook_;
    std::unique_ptr<LiveServer> s_;
    std::string tenant_, op_;
};

json::object RuleSpec(const std::string& expr, const std::string& severity = "critical") {
    return json::object{
        {"alert", severity == "critical" ? "QueueBacklog" : "DiskWarn"},
        {"expr", expr},
        {"for", "0s"},
        {"labels", {{"severity", severity}}},
        {"annotations", {{"summary", "queue {{ $labels.queue }} holds {{ $value }} jobs"}}},
        {"runbook_url", "https://runbooks.test/queue"}};
}

std::string State(const json::value& page) {
    return Str(page, {"status", "state"});
}

TEST_F(AlertingTest, ARuleFiresPagesTheOnCallUserEscalatesAndResolves) {
    OnCallSetup();
    Create(
        "notificationpolicies",
        "default",
        {{"route",
          {{"receiver", "oncall"},
           {"group_by", {"alertname"}},
           {"group_wait", "1s"},
           {"group_interval", "1s"}}},
         {"receivers",
          json::array{json::object{{"name", "oncall"}, {"escalation_policy", "default"}}}}}
    );
    Create("alertrules", "queue-backlog", RuleSpec("jobs_queued > 100"));
    Push("jobs_queued", 500, {{"queue", "mail"}});

    auto alerts = AlertNamed("QueueBacklog", "firing");
    ASSERT_EQ(alerts.at("items").as_array().size(), 1u) << alerts;
    const auto& alert = alerts.at("items").as_array()[0];
    EXPECT_EQ(Str(alert, {"spec", "labels", "queue"}), "mail");
    EXPECT_EQ(Str(alert, {"spec", "annotations", "summary"}), "queue mail holds 500 jobs");
    EXPECT_EQ(Str(alert, {"spec", "annotations", "runbook_url"}), "https://runbooks.test/queue");
    EXPECT_EQ(Str(alert, {"status", "priority"}), "P1");

    // Paged: alice (on call in "primary") by email and by her webhook.
    auto page = OnlyPage([](const json::object& p) { return PageState(p) == "triggered"; });
    EXPECT_EQ(Str(page, {"status", "assignee"}), "alice") << page;
    EXPECT_EQ(Str(page, {"spec", "priority"}), "P1");
    ASSERT_TRUE(smtp_.WaitFor(1, std::chrono::seconds(30)));
    auto mail = smtp_.Messages()[0];
    EXPECT_EQ(mail.from, "pager@hangar.test");
    EXPECT_EQ(mail.to, std::vector<std::string>{"alice@acme.test"});
    EXPECT_NE(mail.data.find("Subject: [P1] queue mail holds 500 jobs\r\n"), std::string::npos)
        << mail.data;
    EXPECT_NE(mail.data.find("runbook https://runbooks.test/queue"), std::string::npos)
        << mail.data;
    ASSERT_TRUE(hook_.WaitFor(1, std::chrono::seconds(30)));
    auto hook = hook_.Requests()[0];
    EXPECT_EQ(hook.path, "/alice");
    auto slack = json::parse(hook.body);
    EXPECT_NE(
        std::string(slack.at("text").as_string()).find("[P1] queue mail holds 500 jobs"),
        std::string::npos
    );
    EXPECT_EQ(slack.at("blocks").as_array()[0].at("type").as_string(), "header");

    // Nobody acknowledges within 2 s: the page escalates to bob.
    ASSERT_TRUE(smtp_.WaitFor(2, std::chrono::seconds(30)));
    EXPECT_EQ(smtp_.Messages()[1].to, std::vector<std::string>{"bob@acme.test"});
    page = OnlyPage([](const json::object& p) { return PageAssignee(p) == "bob"; });
    std::string id = Str(page, {"metadata", "id"});
    auto ack = Op().Do("POST", "/v1/pages/" + id + ":acknowledge");
    ASSERT_EQ(ack.status, 200) << ack.body;
    EXPECT_EQ(State(ack.Json()), "acknowledged");
    EXPECT_EQ(Op().Do("POST", "/v1/pages/" + id + ":acknowledge").status, 409);

    // The queue drains: the alert resolves and so does the page.
    Push("jobs_queued", 3, {{"queue", "mail"}});
    AlertNamed("QueueBacklog", "resolved");
    page = OnlyPage([](const json::object& p) { return PageState(p) == "resolved"; });
    ASSERT_FALSE(page.is_null());
    std::vector<std::string> events;
    for (const auto& e : page.at("status").at("history").as_array()) {
        events.emplace_back(e.at("event").as_string());
    }
    // triggered, notified (email, webhook), escalated, notified (email), acknowledged, resolved
    EXPECT_EQ(events.front(), "triggered");
    EXPECT_NE(std::find(events.begin(), events.end(), "escalated"), events.end());
    EXPECT_NE(std::find(events.begin(), events.end(), "acknowledged"), events.end());
    EXPECT_EQ(events.back(), "resolved");
    // Deliveries are recorded on the page.
    bool delivered = false;
    for (const auto& e : page.at("status").at("history").as_array()) {
        delivered = delivered || Str(e, {"delivery"}) == "delivered";
    }
    EXPECT_TRUE(delivered) << page;
    // The acknowledgement is in the audit log, and so is the refused second one.
    auto audit = Op().Do("GET", "/v1/audit?action=page.acknowledge");
    ASSERT_EQ(audit.status, 200) << audit.body;
    auto events_json = audit.Json();
    ASSERT_EQ(events_json.at("items").as_array().size(), 2u) << audit.body;
    EXPECT_EQ(Str(events_json.at("items").as_array()[0], {"outcome"}), "success");
    EXPECT_EQ(Str(events_json.at("items").as_array()[1], {"outcome"}), "conflict");
    EXPECT_EQ(Str(events_json.at("items").as_array()[0], {"object"}), id);
}

TEST_F(AlertingTest, ASilenceShowsPendingActiveAndExpiredAsItsTimesPass) {
    // Starts in a second and lasts a second: its status moves through all three states, each
    // written when it happens (not on a poll).
    auto now = std::chrono::system_clock::now();
    auto created = Create(
        "silences",
        "brief",
        {{"matchers", {"job=\"batch\""}},
         {"starts_at", core::FormatRfc3339(now + std::chrono::seconds(1))},
         {"ends_at", core::FormatRfc3339(now + std::chrono::seconds(2))},
         {"author", "alice"},
         {"comment", "a short one"}}
    );
    std::string path = "/v1/silences/" + Str(created, {"metadata", "id"});
    auto state_is = [](const std::string& want) {
        return [want](const json::value& v) {
            return Str(v, {"status", "state"}) == want;
        };
    };
    auto seen = WaitFor(Op(), path, [](const json::value& v) {
        std::string st = Str(v, {"status", "state"});
        return st == "pending" || st == "active" || st == "expired";
    });
    EXPECT_FALSE(Str(seen, {"status", "state"}).empty()) << seen;
    EXPECT_EQ(Str(WaitFor(Op(), path, state_is("active")), {"status", "state"}), "active");
    auto done = WaitFor(Op(), path, state_is("expired"));
    EXPECT_EQ(Str(done, {"status", "state"}), "expired") << done;
    EXPECT_FALSE(Str(done, {"status", "changed_at"}).empty());
}

TEST_F(AlertingTest, SilencesAndMaintenanceWindowsMuteAndInhibitionHidesAlertsOfADownInstance) {
    OnCallSetup("1h");
    Create(
        "notificationpolicies",
        "default",
        {{"route",
          {{"receiver", "oncall"},
           {"group_by", {"alertname", "instance"}},
           {"group_wait", "1s"},
           {"group_interval", "1s"}}},
         {"receivers",
          json::array{json::object{{"name", "oncall"}, {"escalation_policy", "default"}}}}}
    );
    // A silence for the mail queue, a maintenance window for instance db-1.
    auto now = std::chrono::system_clock::now();
    Create(
        "silences",
        "mail-queue",
        {{"matchers", {"queue=\"mail\""}},
         {"ends_at", core::FormatRfc3339(now + std::chrono::hours(1))},
         {"author", "alice"},
         {"comment", "known backlog, draining"}}
    );
    Create(
        "maintenancewindows",
        "db-1-upgrade",
        {{"starts_at", core::FormatRfc3339(now - std::chrono::minutes(1))},
         {"ends_at", core::FormatRfc3339(now + std::chrono::hours(1))},
         {"reason", "database upgrade"},
         {"selector", "{instance=\"db-1\"}"}}
    );
    Create("alertrules", "queue-backlog", RuleSpec("jobs_queued > 100"));
    // The down rule without its minute of grace, so the test need not wait.
    Create(
        "alertrules",
        "instance-down",
        {{"alert", "InstanceDown"},
         {"expr", "up{job=\"hangar-probe\"} == 0"},
         {"labels", {{"severity", "critical"}}}}
    );
    Create(
        "alertrules",
        "slow-requests",
        {{"alert", "SlowRequests"},
         {"expr", "latency_seconds > 1"},
         {"labels", {{"severity", "warning"}}}}
    );
    Push("jobs_queued", 500, {{"queue", "mail"}});
    Push("latency_seconds", 5, {{"instance", "db-1"}});
    Push("up", 0, {{"instance", "web-1"}, {"job", "hangar-probe"}});
    Push("latency_seconds", 5, {{"instance", "web-1"}});
    Push("latency_seconds", 5, {{"instance", "web-2"}});

    // Every alert is recorded, and says why it is muted.
    // (waits until the alert says `want`; answers what it last said)
    auto suppressed =
        [&](const std::string& alertname, const std::string& instance, const std::string& want) {
            auto v = WaitFor(
                Op(),
                "/v1/alerts?selector=" +
                    UrlEncode(
                        "alertname=" + alertname + (instance.empty() ? "" : ",instance=" + instance)
                    ),
                [&](const json::value& v) {
                    return !v.at("items").as_array().empty() &&
                           Str(v.at("items").as_array()[0], {"status", "suppressed_by"}) == want;
                }
            );
            return v.at("items").as_array().empty()
                       ? std::string("(no alert)")
                       : Str(v.at("items").as_array()[0], {"status", "suppressed_by"});
        };
    EXPECT_EQ(
        suppressed("QueueBacklog", "", "silence mail-queue (known backlog, draining)"),
        "silence mail-queue (known backlog, draining)"
    );
    EXPECT_EQ(
        suppressed("SlowRequests", "db-1", "maintenance window db-1-upgrade (database upgrade)"),
        "maintenance window db-1-upgrade (database upgrade)"
    );
    EXPECT_EQ(suppressed("SlowRequests", "web-1", "inhibited"), "inhibited");
    EXPECT_EQ(suppressed("SlowRequests", "web-2", ""), "");
    EXPECT_EQ(suppressed("InstanceDown", "web-1", ""), "");
    // Pages only for what is not muted: web-1 down and web-2 slow.
    auto pages = WaitFor(Op(), "/v1/pages", [](const json::value& v) {
        return v.at("items").as_array().size() >= 2;
    });
    std::set<std::string> titles;
    for (const auto& p : pages.at("items").as_array()) {
        titles.insert(Str(p, {"spec", "title"}));
    }
    EXPECT_EQ(titles.size(), 2u) << pages;
    for (const auto& t : titles) {
        EXPECT_TRUE(
            t.find("web-") != std::string::npos || t.find("InstanceDown") != std::string::npos
        ) << t;
        EXPECT_EQ(t.find("db-1"), std::string::npos) << t;
        EXPECT_EQ(t.find("mail"), std::string::npos) << t;
    }
    auto silence = WaitFor(Op(), "/v1/silences", [](const json::value& v) {
        return Str(v.at("items").as_array()[0], {"status", "state"}) == "active";
    });
    EXPECT_EQ(Str(silence.at("items").as_array()[0], {"status", "state"}), "active");
}

TEST_F(AlertingTest, PagerDutyStyleEventsTriggerAcknowledgeAndResolve) {
    OnCallSetup("1h");  // no NotificationPolicy: the escalation policy named "default" gets pages
    auto anon = s_->Anonymous();
    auto trigger = anon.Do(
        "POST",
        "/v1/intake/events",
        json::serialize(json::object{
            {"routing_key", op_},
            {"event_action", "trigger"},
            {"dedup_key", "disk-full-db7"},
            {"payload",
             {{"summary", "Disk full on db7"},
              {"source", "db7.acme.test"},
              {"severity", "critical"},
              {"custom_details", {{"free_bytes", 0}}}}}})
    );
    ASSERT_EQ(trigger.status, 202) << trigger.body;
    EXPECT_EQ(trigger.Json().at("status").as_string(), "success");
    EXPECT_EQ(trigger.Json().at("dedup_key").as_string(), "disk-full-db7");
    auto alert =
        WaitFor(Op(), "/v1/alerts?selector=dedup_key%3Ddisk-full-db7", [](const json::value& v) {
            return !v.at("items").as_array().empty();
        });
    ASSERT_EQ(alert.at("items").as_array().size(), 1u);
    EXPECT_EQ(
        Str(alert.at("items").as_array()[0], {"spec", "annotations", "summary"}), "Disk full on db7"
    );
    auto page = OnlyPage([](const json::object& p) { return PageState(p) == "triggered"; });
    EXPECT_EQ(Str(page, {"spec", "title"}), "[P1] Disk full on db7");

    auto ack = anon.Do(
        "POST",
        "/v1/intake/events",
        json::serialize(json::object{
            {"routing_key", op_}, {"event_action", "acknowledge"}, {"dedup_key", "disk-full-db7"}})
    );
    ASSERT_EQ(ack.status, 202) << ack.body;
    OnlyPage([](const json::object& p) { return PageState(p) == "acknowledged"; });
    auto resolve = anon.Do(
        "POST",
        "/v1/intake/events",
        json::serialize(json::object{
            {"routing_key", op_}, {"event_action", "resolve"}, {"dedup_key", "disk-full-db7"}})
    );
    ASSERT_EQ(resolve.status, 202) << resolve.body;
    WaitFor(Op(), "/v1/alerts?selector=state%3Dresolved", [](const json::value& v) {
        return !v.at("items").as_array().empty();
    });

    // Bad events answer as PagerDuty does.
    auto bad = [&](const json::object& body, const std::string& want) {
        auto r = anon.Do("POST", "/v1/intake/events", json::serialize(body));
        EXPECT_EQ(r.status, 400) << r.body;
        EXPECT_EQ(r.Json().at("status").as_string(), "invalid event");
        EXPECT_NE(
            std::string(r.Json().at("errors").as_array()[0].as_string()).find(want),
            std::string::npos
        ) << r.body;
    };
    bad({{"routing_key", "not-a-token"}, {"event_action", "trigger"}}, "Invalid routing key");
    bad({{"routing_key", op_}, {"event_action", "explode"}}, "'event_action'");
    bad({{"routing_key", op_},
         {"event_action", "trigger"},
         {"payload", {{"source", "x"}, {"severity", "critical"}}}},
        "'payload.summary'");
    bad({{"routing_key", op_},
         {"event_action", "trigger"},
         {"payload", {{"summary", "s"}, {"source", "x"}, {"severity", "dire"}}}},
        "'payload.severity'");
    bad({{"routing_key", op_}, {"event_action", "resolve"}}, "'dedup_key'");
    auto viewer = s_->Token(tenant_, "viewer");
    bad({{"routing_key", viewer},
         {"event_action", "trigger"},
         {"payload", {{"summary", "s"}, {"source", "x"}, {"severity", "info"}}}},
        "read-only");
}

TEST_F(AlertingTest, ARealAlertmanagerPostsToHangarAndAPageFollows) {
    if (!PrometheusProcess::AlertmanagerInstalled()) {
        GTEST_SKIP() << "prometheus-alertmanager is not installed (scripts/setup installs it)";
    }
    OnCallSetup("1h");
    TempDir dir;
    auto am = PrometheusProcess::Alertmanager(
        dir.path(),
        fmt::format(
            "route:\n  receiver: hangar\n  group_wait: 1s\n  group_interval: 1s\n  group_by: "
            "[alertname]\n"
            "receivers:\n  - name: hangar\n    webhook_configs:\n      - url: "
            "{}/v1/intake/alertmanager\n        send_resolved: true\n"
            "        http_config:\n          authorization:\n            credentials: {}\n",
            s_->Url(),
            op_
        )
    );
    ASSERT_TRUE(am.Start()) << am.Log();
    Client amc("127.0.0.1", am.port());
    auto posted = amc.Do(
        "POST",
        "/api/v2/alerts",
        json::serialize(json::array{json::object{
            {"labels", {{"alertname", "BackupFailed"}, {"severity", "error"}, {"job", "backup"}}},
            {"annotations", {{"summary", "Nightly backup of shop failed"}}}}}),
        {{"Content-Type", "application/json"}}
    );
    ASSERT_EQ(posted.status, 200) << posted.body;
    auto alert = AlertNamed("BackupFailed", "firing");
    ASSERT_EQ(alert.at("items").as_array().size(), 1u) << am.Log();
    EXPECT_EQ(Str(alert.at("items").as_array()[0], {"spec", "source"}), "alertmanager");
    auto page = OnlyPage([](const json::object& p) { return PageState(p) == "triggered"; });
    EXPECT_EQ(Str(page, {"spec", "title"}), "[P2] Nightly backup of shop failed");
    ASSERT_TRUE(smtp_.WaitFor(1, std::chrono::seconds(30)));
    EXPECT_EQ(smtp_.Messages()[0].to, std::vector<std::string>{"alice@acme.test"});
}

TEST_F(AlertingTest, AlertmanagerPayloadsAndSpecsAreCheckedField_by_field) {
    auto post = [&](const json::object& body) {
        return Op().Do("POST", "/v1/intake/alertmanager", json::serialize(body));
    };
    auto field = [](const HttpResponse& r) {
        return Str(r.Json(), {"error", "details", "field"});
    };
    EXPECT_EQ(field(post({{"version", "3"}, {"alerts", json::array()}})), "version");
    EXPECT_EQ(
        field(post(
            {{"version", "4"},
             {"alerts",
              json::array{json::object{{"status", "firing"}, {"labels", {{"severity", "x"}}}}}}}
        )),
        "alerts[0].labels.alertname"
    );
    EXPECT_EQ(
        field(post(
            {{"version", "4"},
             {"alerts",
              json::array{json::object{{"status", "maybe"}, {"labels", {{"alertname", "x"}}}}}}}
        )),
        "alerts[0].status"
    );
    EXPECT_EQ(
        field(post(
            {{"version", "4"},
             {"alerts",
              json::array{json::object{{"status", "firing"}, {"labels", {{"alertname", 7}}}}}}}
        )),
        "alerts[0].labels.alertname"
    );
    EXPECT_EQ(
        field(post(
            {{"version", "4"},
             {"alerts",
              json::array{json::object{
                  {"status", "firing"}, {"labels", {{"bad-name", "x"}, {"alertname", "x"}}}}}}}
        )),
        "alerts[0].labels"
    );
    auto viewer = s_->As(s_->Token(tenant_, "viewer"));
    EXPECT_EQ(
        viewer.Do("POST", "/v1/intake/alertmanager", R"({"version":"4","alerts":[]})").status, 403
    );

    auto spec_field = [&](const std::string& plural, const json::object& spec) {
        auto r = Op().Do(
            "POST",
            "/v1/" + plural,
            json::serialize(json::object{{"metadata", {{"name", "x"}}}, {"spec", spec}})
        );
        EXPECT_EQ(r.status, 400) << r.body;
        return Str(r.Json(), {"error", "details", "field"});
    };
    EXPECT_EQ(spec_field("alertrules", {{"expr", "rate(x[5m]"}}), "spec.expr");
    EXPECT_EQ(spec_field("alertrules", {{"expr", "1 + 1"}}), "spec.expr");
    EXPECT_EQ(spec_field("alertrules", {{"expr", "x > 1"}, {"for", "soon"}}), "spec.for");
    EXPECT_EQ(
        spec_field(
            "alertrules",
            {{"expr", "x > 1"}, {"annotations", {{"summary", "{{ $value | shout }}"}}}}
        ),
        "spec.annotations.summary"
    );
    EXPECT_EQ(
        spec_field("alertrules", {{"expr", "x > 1"}, {"labels", {{"bad-label", "v"}}}}),
        "spec.labels.bad-label"
    );
    EXPECT_EQ(
        spec_field(
            "silences",
            {{"matchers", json::array()},
             {"ends_at", "2030-01-01T00:00:00Z"},
             {"author", "a"},
             {"comment", "c"}}
        ),
        "spec.matchers"
    );
    EXPECT_EQ(
        spec_field(
            "silences",
            {{"matchers", {"a=~\"(\""}},
             {"ends_at", "2030-01-01T00:00:00Z"},
             {"author", "a"},
             {"comment", "c"}}
        ),
        "spec.matchers"
    );
    EXPECT_EQ(
        spec_field(
            "silences",
            {{"matchers", {"a=\"b\""}}, {"ends_at", "2030-01-01T00:00:00Z"}, {"author", "a"}}
        ),
        "spec.comment"
    );
    EXPECT_EQ(
        spec_field(
            "notificationpolicies",
            {{"route", {{"receiver", "nobody"}}},
             {"receivers", json::array{json::object{{"name", "a"}, {"email", "a@b.c"}}}}}
        ),
        "spec.route.receiver"
    );
    EXPECT_EQ(
        spec_field(
            "notificationpolicies",
            {{"route", {{"receiver", "a"}}},
             {"receivers", json::array{json::object{{"name", "a"}}}}}
        ),
        "spec.receivers[0]"
    );
    EXPECT_EQ(
        spec_field(
            "escalationpolicies",
            {{"steps",
              json::array{
                  json::object{{"targets", {json::object{{"user", "a"}}}}, {"wait", "0s"}}}}}
        ),
        "spec.steps[0].wait"
    );
    EXPECT_EQ(
        spec_field(
            "escalationpolicies",
            {{"steps",
              json::array{
                  json::object{{"targets", {json::object{{"user", "a"}, {"schedule", "b"}}}}}}}}
        ),
        "spec.steps[0].targets[0]"
    );
    EXPECT_EQ(
        spec_field(
            "schedules",
            {{"layers",
              json::array{json::object{
                  {"users", {"a"}}, {"start", "2026-01-01T09:00"}, {"time_zone", "Nowhere/Land"}}}}}
        ),
        "spec.layers[0].time_zone"
    );
    // Alerts and pages are Hangar's to write.
    EXPECT_EQ(Op().Do("POST", "/v1/alerts", R"({"metadata":{"name":"x"},"spec":{}})").status, 405);
    EXPECT_EQ(Op().Do("POST", "/v1/pages/pag_nope:acknowledge").status, 404);
}

TEST_F(AlertingTest, OnCallNowAndICalendarAnswerFromTheSchedules) {
    OnCallSetup();
    Create(
        "schedules",
        "weekend",
        {{"time_zone", "Europe/Berlin"},
         {"layers",
          json::array{json::object{
              {"users", {"alice", "bob"}}, {"start", "2026-03-27T09:00"}, {"rotation", "1d"}}}}}
    );
    auto r = Op().Do("GET", "/v1/oncall/now?schedule=weekend&at=2026-03-29T06:59:00Z");
    ASSERT_EQ(r.status, 200) << r.body;
    json::value now_doc = r.Json();
    ASSERT_EQ(now_doc.at("schedules").as_array().size(), 1u) << r.body;
    json::value row = now_doc.at("schedules").as_array()[0];
    EXPECT_EQ(Str(row, {"on_call", "user"}), "bob");
    EXPECT_EQ(Str(row, {"on_call", "start"}), "2026-03-28T08:00:00.000Z");
    EXPECT_EQ(
        Str(row, {"on_call", "end"}), "2026-03-29T07:00:00.000Z"
    );  // 09:00 CEST, after the change
    EXPECT_EQ(Str(row, {"next", "user"}), "alice");
    EXPECT_EQ(Op().Do("GET", "/v1/oncall/now?schedule=nope").status, 404);
    EXPECT_EQ(Op().Do("GET", "/v1/oncall/now?at=yesterday").status, 400);
    std::string id;
    json::value schedules = Op().Do("GET", "/v1/schedules").Json();
    for (const auto& s : schedules.at("items").as_array()) {
        if (s.at("metadata").at("name").as_string() == "weekend") {
            id = std::string(s.at("metadata").at("id").as_string());
        }
    }
    auto ics = Op().Do("GET", "/v1/schedules/" + id + "/ical?days=3");
    ASSERT_EQ(ics.status, 200) << ics.body;
    EXPECT_TRUE(ics.body.starts_with("BEGIN:VCALENDAR\r\n"));
    EXPECT_NE(ics.body.find("SUMMARY:On call: "), std::string::npos);
    EXPECT_EQ(Op().Do("GET", "/v1/schedules/" + id + "/ical?days=900").status, 400);

    // The same from the CLI.
    std::string out, err;
    ASSERT_EQ(
        RunCli(
            {"--server",
             s_->Url(),
             "--token",
             op_,
             "oncall",
             "who",
             "--schedule",
             "weekend",
             "--at",
             "2026-03-29T06:59:00Z"},
            out,
            err
        ),
        0
    ) << err;
    EXPECT_NE(out.find("ON CALL"), std::string::npos) << out;
    EXPECT_NE(out.find("bob"), std::string::npos) << out;
    EXPECT_NE(out.find("2026-03-29T07:00:00.000Z"), std::string::npos) << out;
    EXPECT_NE(
        RunCli({"--server", s_->Url(), "--token", op_, "page", "ack", "pag_nope"}, out, err), 0
    );
    EXPECT_NE(err.find("page"), std::string::npos) << err;
}

TEST_F(AlertingTest, AP1PageDeclaresAnIncidentWithATimelineAPostmortemAndAHandoff) {
    OnCallSetup("1h");
    Create(
        "notificationpolicies",
        "default",
        {{"route", {{"receiver", "oncall"}, {"group_wait", "1s"}, {"group_interval", "1s"}}},
         {"receivers",
          json::array{json::object{{"name", "oncall"}, {"escalation_policy", "default"}}}}}
    );
    Create("alertrules", "queue-backlog", RuleSpec("jobs_queued > 100"));
    Create("alertrules", "disk-warn", RuleSpec("disk_used_ratio > 0.8", "warning"));
    Push("jobs_queued", 500, {{"queue", "mail"}});
    Push("disk_used_ratio", 0.9, {{"volume", "data"}});

    auto list = WaitFor(Op(), "/v1/incidents", [](const json::value& v) {
        return !v.at("items").as_array().empty();
    });
    ASSERT_EQ(list.at("items").as_array().size(), 1u) << "only the P1 declares one: " << list;
    json::value inc = list.at("items").as_array()[0];
    std::string id = Str(inc, {"metadata", "id"});
    EXPECT_EQ(Str(inc, {"spec", "severity"}), "P1");
    EXPECT_EQ(Str(inc, {"spec", "status"}), "investigating");
    EXPECT_EQ(Str(inc, {"spec", "roles", "lead"}), "alice") << "the on-call user leads";
    EXPECT_EQ(Str(inc, {"spec", "title"}), "[P1] queue mail holds 500 jobs");
    std::string page_id = Str(inc, {"spec", "source_page"});
    ASSERT_FALSE(page_id.empty());

    // The people work the incident; each step lands on the timeline with who did it.
    auto act = [&](const std::string& action, const json::object& body, int want = 200) {
        auto r = Op().Do("POST", "/v1/incidents/" + id + ":" + action, json::serialize(body));
        EXPECT_EQ(r.status, want) << action << " " << r.body;
    };
    ASSERT_EQ(Op().Do("POST", "/v1/pages/" + page_id + ":acknowledge").status, 200);
    act("status", {{"status", "identified"}, {"note", "a stuck consumer"}});
    act("assign", {{"role", "lead"}, {"user", "bob"}});
    act("assign", {{"role", "communications"}, {"user", "alice"}});
    act("note", {{"text", "restarted the consumer"}});
    act("status", {{"status", "bogus"}}, 400);
    act("assign", {{"role", "lead"}, {"user", "bob"}}, 409);
    act("postmortem", {{"state", "Published"}}, 409);
    Push("jobs_queued", 0, {{"queue", "mail"}});
    AlertNamed("QueueBacklog", "resolved");
    act("status", {{"status", "resolved"}, {"note", "queue drained"}});

    auto tl = Op().Do("GET", "/v1/incidents/" + id + "/timeline");
    ASSERT_EQ(tl.status, 200) << tl.body;
    std::string all;
    std::string previous;
    json::value tl_doc = tl.Json();
    for (const auto& e : tl_doc.at("items").as_array()) {
        std::string at = Str(e, {"at"});
        EXPECT_LE(previous, at) << "oldest first";
        previous = at;
        all += Str(e, {"type"}) + ": " + Str(e, {"text"}) + "\n";
    }
    for (const char* want :
         {"declared: Declared from page",
          "page: Page ",
          "notified alice by email",
          "acknowledged by",
          "alert: Alert QueueBacklog firing",
          "status: Status investigating → identified: a stuck consumer",
          "role: alice hands lead over to bob",
          "note: restarted the consumer",
          "alert: Alert QueueBacklog resolved",
          "status: Status identified → resolved: queue drained"}) {
        EXPECT_NE(all.find(want), std::string::npos) << want << " missing from:\n" << all;
    }

    auto pm = Op().Do("GET", "/v1/incidents/" + id + "/postmortem");
    ASSERT_EQ(pm.status, 200) << pm.body;
    EXPECT_EQ(pm.headers["content-type"], "text/markdown; charset=utf-8");
    for (const char* want :
         {"# Post-mortem: [P1] queue mail holds 500 jobs",
          "*Draft*",
          "## Summary",
          "## Impact",
          "| tenant | minutes down |",
          "## Timeline",
          "## Response",
          "- Time to acknowledge: ",
          "- Time to resolve: ",
          "## Root cause",
          "_To fill in",
          "## Remediation",
          "## Follow-ups"}) {
        EXPECT_NE(pm.body.find(want), std::string::npos) << want << " missing from:\n" << pm.body;
    }
    EXPECT_EQ(pm.body.find("- Time to acknowledge: not acknowledged"), std::string::npos)
        << pm.body;
    act("postmortem", {{"state", "Reviewed"}});
    act("postmortem", {{"state", "Published"}});

    // Published to the status page only once marked public, and without private detail.
    auto page = s_->Anonymous().Do("GET", "/status");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.body.find("queue mail"), std::string::npos) << "not public yet";
    auto cur = Op().Do("GET", "/v1/incidents/" + id).Json();
    json::object spec = cur.at("spec").as_object();
    spec["public"] = true;
    spec["public_summary"] = "Email delivery was delayed.";
    auto put = Op().Do(
        "PUT",
        "/v1/incidents/" + id,
        json::serialize(json::object{{"metadata", cur.at("metadata")}, {"spec", spec}})
    );
    ASSERT_EQ(put.status, 200) << put.body;
    page = s_->Anonymous().Do("GET", "/status");
    EXPECT_NE(page.body.find("Email delivery was delayed."), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("Status identified → resolved: queue drained"), std::string::npos)
        << page.body;
    EXPECT_EQ(page.body.find("restarted the consumer"), std::string::npos)
        << "private notes stay private";
    EXPECT_EQ(page.body.find(tenant_), std::string::npos) << "no tenant ids";

    // The hand-off: the warning still firing, the P1 gone quiet, no open incident any more.
    auto ho = Op().Do(
        "GET",
        "/v1/oncall/handoff?from=" +
            UrlEncode(core::FormatRfc3339(std::chrono::system_clock::now() - std::chrono::hours(1)))
    );
    ASSERT_EQ(ho.status, 200) << ho.body;
    auto hj = ho.Json();
    EXPECT_TRUE(hj.at("open_incidents").as_array().empty()) << ho.body;
    ASSERT_EQ(hj.at("alerts").as_array().size(), 2u) << ho.body;
    EXPECT_EQ(Str(hj.at("alerts").as_array()[0], {"fired"}), "1");
    EXPECT_EQ(Op().Do("GET", "/v1/oncall/handoff?from=tomorrow").status, 400);
    std::string out, err;
    ASSERT_EQ(RunCli({"--server", s_->Url(), "--token", op_, "oncall", "handoff"}, out, err), 0)
        << err;
    EXPECT_NE(out.find("# Hand-off"), std::string::npos) << out;
    EXPECT_NE(out.find("DiskWarn"), std::string::npos) << out;

    // Another customer cannot read these alerts and changes by naming this tenant as affected.
    std::string other = s_->Tenant("alert-other");
    auto spy = s_->As(s_->Token(other, "owner"));
    auto made = spy.Do(
        "POST",
        "/v1/incidents",
        json::serialize(json::object{
            {"metadata", {{"name", "curious"}}},
            {"spec", {{"title", "curious"}, {"affected", {{"tenants", {tenant_}}}}}}})
    );
    ASSERT_EQ(made.status, 201) << made.body;
    std::string spy_id = Str(made.Json(), {"metadata", "id"});
    auto spy_tl = spy.Do("GET", "/v1/incidents/" + spy_id + "/timeline");
    ASSERT_EQ(spy_tl.status, 200);
    EXPECT_EQ(spy_tl.body.find("QueueBacklog"), std::string::npos) << spy_tl.body;
    auto spy_pm = spy.Do("GET", "/v1/incidents/" + spy_id + "/postmortem");
    EXPECT_EQ(spy_pm.body.find(tenant_), std::string::npos) << spy_pm.body;
    EXPECT_EQ(spy.Do("GET", "/v1/incidents/" + id + "/timeline").status, 404)
        << "nor this tenant's incident";
}

TEST(EventsIntakeTest, TheRoutingKeysTenantIsRateLimitedLikeAnyCaller) {
    LiveServer s({"--provisioner", "simulated", "--tenant-rate", "1"});
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string key = s.Token(s.Tenant("chatty"), "operator");
    int limited = 0;
    for (int i = 0; i < 6; ++i) {
        auto r = s.Anonymous().Do(
            "POST",
            "/v1/intake/events",
            json::serialize(json::object{
                {"routing_key", key},
                {"event_action", "trigger"},
                {"dedup_key", "k"},
                {"payload", {{"summary", "s"}, {"source", "x"}, {"severity", "info"}}}})
        );
        if (r.status == 429) {
            ++limited;
            EXPECT_FALSE(r.headers["retry-after"].empty()) << r.body;
        } else {
            EXPECT_EQ(r.status, 202) << r.body;
        }
    }
    EXPECT_GE(limited, 1) << "a burst of two at one a second";
}

TEST(OperatorTenantTest, TheCloudTeamIsPagedForCustomersAlertsAndItsIncidentsSeeThem) {
    SmtpServer smtp;
    LiveServer s(
        {"--provisioner",
         "simulated",
         "--rule-interval",
         "1s",
         "--smtp-url",
         smtp.Url(),
         "--operator-tenant",
         "ops"}
    );
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string ops = s.Tenant("ops"), cust = s.Tenant("cust");
    auto team = s.As(s.Token(ops, "owner"));
    auto customer = s.As(s.Token(cust, "owner"));
    auto post =
        [](Client& c, const std::string& plural, const std::string& name, const json::object& spec
        ) {
            auto r = c.Do(
                "POST",
                "/v1/" + plural,
                json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", spec}})
            );
            EXPECT_EQ(r.status, 201) << r.body;
        };
    post(team, "users", "sre", {{"email", "sre@cloud.test"}, {"role", "operator"}});
    post(
        team,
        "escalationpolicies",
        "default",
        {{"steps", json::array{json::object{{"targets", {json::object{{"user", "sre"}}}}}}}}
    );
    // The customer's own rule on the customer's own metrics; the customer routes nothing.
    post(
        customer,
        "alertrules",
        "queue",
        {{"alert", "QueueBacklog"},
         {"expr", "jobs_queued > 100"},
         {"labels", {{"severity", "critical"}}}}
    );
    std::vector<metrics::SeriesData> batch(1);
    batch[0].labels = {{"__name__", "jobs_queued"}, {"queue", "mail"}};
    batch[0].samples.push_back({NowMs(), 500});
    ASSERT_EQ(
        customer
            .Do("POST",
                "/api/v1/write",
                metrics::EncodeWriteRequest(batch),
                {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "snappy"}})
            .status,
        204
    );

    // The cloud team is paged (after the default group_wait), in its own tenant.
    auto pages = WaitFor(
        team,
        "/v1/pages",
        [](const json::value& v) { return !v.at("items").as_array().empty(); },
        1200
    );
    ASSERT_EQ(pages.at("items").as_array().size(), 1u) << pages;
    EXPECT_EQ(Str(pages.at("items").as_array()[0], {"status", "assignee"}), "sre");
    ASSERT_TRUE(smtp.WaitFor(1, std::chrono::seconds(30)));
    EXPECT_EQ(smtp.Messages()[0].to, std::vector<std::string>{"sre@cloud.test"});
    EXPECT_TRUE(customer.Do("GET", "/v1/pages").Json().at("items").as_array().empty())
        << "the customer sees no page of the team's";
    // The P1 declared an incident in ops that looks into the customer's alerts.
    auto incs = WaitFor(team, "/v1/incidents", [](const json::value& v) {
        return !v.at("items").as_array().empty();
    });
    ASSERT_EQ(incs.at("items").as_array().size(), 1u);
    std::string inc = Str(incs.at("items").as_array()[0], {"metadata", "id"});
    auto tl = team.Do("GET", "/v1/incidents/" + inc + "/timeline");
    EXPECT_NE(tl.body.find("Alert QueueBacklog firing"), std::string::npos) << tl.body;
    // The status page shows the team's public incidents only.
    auto cur = team.Do("GET", "/v1/incidents/" + inc).Json();
    json::object spec = cur.at("spec").as_object();
    spec["public"] = true;
    ASSERT_EQ(
        team.Do("PUT",
                "/v1/incidents/" + inc,
                json::serialize(json::object{{"metadata", cur.at("metadata")}, {"spec", spec}})
        ).status,
        200
    );
    auto own = customer.Do(
        "POST",
        "/v1/incidents",
        R"({"metadata":{"name":"ours"},"spec":{"title":"Customer says hello","public":true}})"
    );
    ASSERT_EQ(own.status, 201) << own.body;
    auto page = s.Anonymous().Do("GET", "/status");
    EXPECT_NE(page.body.find("QueueBacklog"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("Customer says hello"), std::string::npos) << page.body;
}

TEST_F(
    AlertingTest,
    TheBuiltInRunbookResizesAnOomKilledInstanceOnePlanUpAndRunbooksAreRateLimited
) {
    auto admin = s_->Admin();
    for (auto [name, mb] : {std::pair{"small", 64}, {"large", 256}, {"medium", 128}}) {
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    fmt::format(
                        R"({{"metadata":{{"name":"{}"}},"spec":{{"memory_mb":{},"cpu_millis":100}}}})",
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
                R"({"metadata":{"name":"app"},"spec":{"versions":[{"version":"1","run":{"simulated":{}}}]}})"
            )
            .status,
        201
    );
    auto ins = Create("instances", "shop", {{"product", "app"}, {"plan", "small"}});
    std::string id = Str(ins, {"metadata", "id"});
    // What the prober records for an instance killed at its limit: the OOM counter goes 0 → 1.
    metrics::Labels target = {
        {"instance", id},
        {"instance_name", "shop"},
        {"job", "hangar-probe"},
        {"product", "app"},
        {"tenant", tenant_}};
    Push("instance_oom_kills_total", 0, target, NowMs() - 30000);
    Push("instance_oom_kills_total", 1, target);

    auto resized = WaitFor(Op(), "/v1/instances/" + id, [](const json::value& v) {
        return Str(v, {"spec", "plan"}) == "medium";
    });
    EXPECT_EQ(Str(resized, {"spec", "plan"}), "medium") << "the next larger plan, not the largest";
    auto alert = WaitFor(
        Op(),
        "/v1/alerts?selector=alertname%3DInstanceOOMKilled",
        [](const json::value& v) {
            return !v.at("items").as_array().empty() &&
                   v.at("items").as_array()[0].at("status").as_object().contains("remediations");
        }
    );
    ASSERT_FALSE(alert.at("items").as_array().empty());
    const auto& rem = alert.at("items").as_array()[0].at("status").at("remediations").as_array();
    ASSERT_EQ(rem.size(), 1u);
    EXPECT_EQ(Str(rem[0], {"runbook"}), "oom-resize-up");
    EXPECT_EQ(Str(rem[0], {"result"}), "done");
    EXPECT_EQ(Str(rem[0], {"detail"}), "resized shop from plan small (64 MiB) to medium (128 MiB)");
    auto audit = Op().Do("GET", "/v1/audit?action=runbook.resize_up");
    ASSERT_EQ(audit.status, 200);
    auto audit_doc = audit.Json();
    ASSERT_EQ(audit_doc.at("items").as_array().size(), 1u) << audit.body;
    EXPECT_EQ(Str(audit_doc.at("items").as_array()[0], {"object"}), id);
    EXPECT_EQ(Str(audit_doc.at("items").as_array()[0], {"actor"}), "controller:runbooks");

    // A runbook of the tenant's own that waits for approval: restart on a custom alert.
    Create(
        "runbooks",
        "restart-stuck",
        {{"matchers", {"alertname=\"WorkerStuck\""}},
         {"action", "restart"},
         {"requires_approval", true}}
    );
    Create("alertrules", "worker-stuck", {{"alert", "WorkerStuck"}, {"expr", "worker_stuck > 0"}});
    Push("worker_stuck", 1, {{"instance", id}});
    auto rb = WaitFor(Op(), "/v1/runbooks", [](const json::value& v) {
        return !v.at("items").as_array().empty() &&
               v.at("items").as_array()[0].at("status").as_object().contains("pending");
    });
    std::string rb_id = Str(rb.at("items").as_array()[0], {"metadata", "id"});
    EXPECT_EQ(
        Op().Do("POST", "/v1/runbooks/" + rb_id + ":approve", R"({"instance":"ins_nope"})").status,
        400
    );
    auto approved = Op().Do(
        "POST",
        "/v1/runbooks/" + rb_id + ":approve",
        json::serialize(json::object{{"instance", id}})
    );
    ASSERT_EQ(approved.status, 200) << approved.body;
    auto restarted = Op().Do("GET", "/v1/instances/" + id);
    EXPECT_EQ(Str(restarted.Json(), {"spec", "restart_nonce"}), "1");
    EXPECT_EQ(
        Op().Do("POST",
                "/v1/runbooks/" + rb_id + ":approve",
                json::serialize(json::object{{"instance", id}})
        ).status,
        400
    ) << "nothing waits any more";

    // At most max_per_hour actions per instance: the second firing within the hour is refused.
    Create(
        "runbooks",
        "kick",
        {{"matchers", {"alertname=\"Flappy\""}}, {"action", "restart"}, {"max_per_hour", 1}}
    );
    Create("alertrules", "flappy", {{"alert", "Flappy"}, {"expr", "flappy > 0"}});
    auto flappy_results = [&] {
        auto v = Op().Do("GET", "/v1/alerts?selector=alertname%3DFlappy").Json();
        std::vector<std::string> out;
        if (!v.at("items").as_array().empty()) {
            if (const auto* r =
                    v.at("items").as_array()[0].at("status").as_object().if_contains("remediations"
                    )) {
                for (const auto& e : r->as_array()) {
                    out.push_back(Str(e, {"result"}));
                }
            }
        }
        return out;
    };
    Push("flappy", 1, {{"instance", id}});
    WaitFor(Op(), "/v1/alerts?selector=alertname%3DFlappy", [&](const json::value&) {
        return flappy_results().size() == 1;
    });
    Push("flappy", 0, {{"instance", id}});
    AlertNamed("Flappy", "resolved");
    Push("flappy", 1, {{"instance", id}});
    WaitFor(Op(), "/v1/alerts?selector=alertname%3DFlappy", [&](const json::value&) {
        return flappy_results().size() == 2;
    });
    EXPECT_EQ(flappy_results(), (std::vector<std::string>{"done", "rate_limited"}));
    EXPECT_EQ(Str(Op().Do("GET", "/v1/instances/" + id).Json(), {"spec", "restart_nonce"}), "2");

    // Bad runbooks are refused with the field named.
    auto bad = Op().Do(
        "POST",
        "/v1/runbooks",
        R"({"metadata":{"name":"x"},"spec":{"matchers":["a=\"b\""],"action":"exec"}})"
    );
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Str(bad.Json(), {"error", "details", "field"}), "spec.command");
}

}  // namespace
}  // namespace hangar::testing
