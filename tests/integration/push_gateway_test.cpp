// The push gateway against local fakes of APNs (HTTP/2 over TLS, ES256 provider tokens) and FCM
// (the service-account grant and HTTP v1): delivery with payloads passed through intact, dead
// device tokens as 406, the monthly quota and bad notifications as 422, provider outages
// retried and then reported, GOAWAY handled on a new connection, and the sample workspace
// pushing to iOS and Android devices.

#include <filesystem>
#include <future>

#include <signal.h>
#include <sys/wait.h>

#include "cloud_support.hpp"
#include "fake_push.hpp"
#include "fixture.hpp"
#include "prometheus_process.hpp"

namespace hangar::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
const std::string kDevice = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

class PushGatewayTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fake_dir_ = new TempDir();
        fake_ = new FakePushProviders(fake_dir_->path());
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--push-ca-file",
             fake_->CaFile(),
             "--apns-url",
             fake_->Url(),
             "--fcm-url",
             fake_->Url(),
             "--push-deadline",
             "1500ms",
             "--push-rate",
             "20",
             "--webhook-allow",
             "127.0.0.1"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        Client admin = s_->Admin();
        ASSERT_EQ(
            admin
                .Do("POST",
                    "/v1/plans",
                    R"({"metadata":{"name":"tiny"},"spec":{"memory_mb":64,"cpu_millis":100,"entitlements":{"monthly_push_notifications":3}}})"
                )
                .status,
            201
        );
        acme_ = s_->Tenant("acme");
        op_ = s_->Token(acme_, "operator");
        // acme's iOS and Android apps.
        json::object ios{
            {"metadata", {{"name", "ios"}}},
            {"spec",
             {{"apns",
               {{"key_p8", fake_->apns_key_pem},
                {"key_id", fake_->apns_key_id},
                {"team_id", fake_->apns_team_id},
                {"topic", "chat.hangar.ios"}}}}}};
        auto a = s_->As(op_).Do("POST", "/v1/pushapps", json::serialize(ios));
        ASSERT_EQ(a.status, 201) << a.body;
        json::object android{
            {"metadata", {{"name", "android"}}},
            {"spec", {{"fcm", {{"service_account", json::parse(fake_->ServiceAccountJson())}}}}}};
        auto b = s_->As(op_).Do("POST", "/v1/pushapps", json::serialize(android));
        ASSERT_EQ(b.status, 201) << b.body;
    }
    static void TearDownTestSuite() {
        delete s_;
        delete fake_;
        delete fake_dir_;
    }

    // A registered workspace of `tenant_op`'s tenant and an access token with `scope`.
    static std::pair<std::string, std::string> Workspace(
        const std::string& tenant_op,
        const std::string& name,
        const std::string& scope = "workspace:push:send"
    ) {
        Client op = s_->As(tenant_op);
        RegisteredWorkspace w = RegisterWorkspace(op, name, scope);
        EXPECT_FALSE(w.access.empty()) << name;
        return {w.id, w.access};
    }
    static HttpResponse
    Push(const std::string& service, const std::string& access, const json::object& body) {
        return s_->Anonymous().Do(
            "POST",
            "/push/" + service + "/send",
            json::serialize(body),
            {{"Authorization", "Bearer " + access}}
        );
    }
    static json::object Note(const std::string& device, json::object extra = {}) {
        json::object options{
            {"title", "alice"},
            {"text", "Lunch?"},
            {"badge", 2},
            {"sound", "default"},
            {"topic", "chat.hangar.ios"},
            {"notId", 7},
            {"payload",
             {{"host", "https://chat.acme.test"},
              {"messageId", "m1"},
              {"rid", "r1"},
              {"notificationType", "message"}}}};
        for (auto& [k, v] : extra) {
            options[k] = v;
        }
        return json::object{{"token", device}, {"options", options}};
    }

    static TempDir* fake_dir_;
    static FakePushProviders* fake_;
    static LiveServer* s_;
    static std::string acme_, op_;
};
TempDir* PushGatewayTest::fake_dir_ = nullptr;
FakePushProviders* PushGatewayTest::fake_ = nullptr;
LiveServer* PushGatewayTest::s_ = nullptr;
std::string PushGatewayTest::acme_, PushGatewayTest::op_;

TEST_F(PushGatewayTest, CredentialsAreSealedAtRest) {
    auto list = s_->As(op_).Do("GET", "/v1/pushapps");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.find("PRIVATE KEY"), std::string::npos)
        << "no key in clear through the API";
    EXPECT_NE(list.body.find("key_sealed"), std::string::npos);
    EXPECT_NE(list.body.find("service_account_sealed"), std::string::npos);
    // Nor in the database file.
    std::string db = s_->process().data_dir() + "/hangar.db";
    std::string raw;
    for (const auto& f : {db, db + "-wal"}) {
        std::ifstream in(f, std::ios::binary);
        raw += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    ASSERT_FALSE(raw.empty());
    EXPECT_EQ(raw.find("BEGIN PRIVATE KEY"), std::string::npos);
    // Bad credentials are refused with the field named.
    auto bad = s_->As(op_).Do(
        "POST",
        "/v1/pushapps",
        R"({"metadata":{"name":"x"},"spec":{"apns":{"key_p8":"nope","key_id":"KEY1234567","team_id":"TEAM123456","topic":"t"}}})"
    );
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("spec.apns.key_p8"), std::string::npos) << bad.body;
    auto both = s_->As(op_).Do("POST", "/v1/pushapps", R"({"metadata":{"name":"y"},"spec":{}})");
    EXPECT_EQ(both.status, 400);
}

TEST_F(PushGatewayTest, ApnsAndFcmDeliverAndIdOnlyPayloadsPassThroughIntact) {
    auto [id, access] = Workspace(op_, "deliver");
    json::object payload{
        {"host", "https://chat.acme.test"},
        {"messageId", "Xy7"},
        {"notificationType", "message-id-only"},
        {"rid", "GENERAL"},
        {"sender", {{"_id", "u1"}, {"username", "alice"}, {"name", "Alice Ä"}}},
        {"type", "d"},
        {"name", "general"}};
    auto before = fake_->Records().size();
    auto r = Push(
        "apn", access, Note(kDevice, {{"payload", payload}, {"apn", {{"category", "MESSAGE"}}}})
    );
    ASSERT_EQ(r.status, 200) << r.body;
    auto recs = fake_->Records();
    ASSERT_EQ(recs.size(), before + 1);
    const PushRecord& a = recs.back();
    EXPECT_EQ(a.device, kDevice);
    EXPECT_EQ(a.topic, "chat.hangar.ios");
    EXPECT_EQ(a.push_type, "alert");
    EXPECT_EQ(a.priority, "10");
    EXPECT_EQ(a.collapse_id, "7");
    json::value note = json::parse(a.payload);
    EXPECT_EQ(json::parse(note.at("ejson").as_string()), json::value(payload))
        << "the payload must reach the device unchanged";
    EXPECT_EQ(note.at("aps").at("mutable-content").as_int64(), 1);
    EXPECT_EQ(note.at("aps").at("category"), "MESSAGE");
    EXPECT_EQ(note.at("aps").at("badge").as_int64(), 2);
    EXPECT_EQ(note.at("aps").at("alert").at("title"), "alice");

    int grants = fake_->grants();
    for (int i = 0; i < 3; ++i) {
        auto g = Push(
            "gcm",
            access,
            Note(
                "fcm-token-" + std::to_string(i) + ":APA91b",
                {{"payload", payload}, {"gcm", {{"style", "inbox"}}}}
            )
        );
        ASSERT_EQ(g.status, 200) << g.body;
    }
    EXPECT_LE(fake_->grants(), grants + 1) << "the FCM access token is cached";
    const PushRecord f = fake_->Records().back();
    EXPECT_EQ(f.service, "fcm");
    json::value m = json::parse(f.payload);
    EXPECT_EQ(json::parse(m.at("data").at("ejson").as_string()), json::value(payload));
    EXPECT_EQ(m.at("data").at("title"), "alice");
    EXPECT_EQ(m.at("data").at("message"), "Lunch?");
    EXPECT_EQ(m.at("data").at("style"), "inbox");
    // Counted as metrics.
    auto metrics = s_->Anonymous().Do("GET", "/metrics");
    EXPECT_NE(
        metrics.body.find(R"(hangar_push_notifications_total{service="apn",result="delivered"})"),
        std::string::npos
    ) << metrics.body.substr(0, 500);
}

TEST_F(PushGatewayTest, DeadDeviceTokensAnswer406AndNothingElseDoes) {
    auto [id, access] = Workspace(op_, "dead");
    std::string gone = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    fake_->KillDevice(gone);
    fake_->KillDevice("fcm-gone:APA91b");
    auto r1 = Push("apn", access, Note(gone));
    EXPECT_EQ(r1.status, 406) << r1.body;
    EXPECT_NE(Str(r1.Json(), {"error"}).find("Unregistered"), std::string::npos) << r1.body;
    EXPECT_EQ(r1.Json().at("status").as_int64(), 406);
    EXPECT_FALSE(Str(r1.Json(), {"requestId"}).empty());
    auto r2 = Push("apn", access, Note("abc"));  // APNs: BadDeviceToken
    EXPECT_EQ(r2.status, 406) << r2.body;
    auto r3 = Push("gcm", access, Note("fcm-gone:APA91b"));
    EXPECT_EQ(r3.status, 406) << r3.body;
    // A topic APNs does not know is the notification's fault, not the device's.
    auto r4 = Push("apn", access, Note(kDevice, {{"topic", "chat.other.ios"}}));
    EXPECT_EQ(r4.status, 422) << r4.body;
}

TEST_F(PushGatewayTest, MonthlyQuotaAndBadNotificationsAnswer422) {
    std::string tenant = s_->Tenant("tinyco");
    ASSERT_EQ(
        s_->Admin()
            .Do("PUT",
                "/v1/tenants/" + tenant,
                json::serialize(json::object{
                    {"metadata", {{"name", "tinyco"}}}, {"spec", {{"plan", "tiny"}}}}))
            .status,
        200
    );
    std::string op = s_->Token(tenant, "operator");
    json::object ios{
        {"metadata", {{"name", "ios"}}},
        {"spec",
         {{"apns",
           {{"key_p8", fake_->apns_key_pem},
            {"key_id", fake_->apns_key_id},
            {"team_id", fake_->apns_team_id},
            {"topic", "chat.hangar.ios"}}}}}};
    ASSERT_EQ(s_->As(op).Do("POST", "/v1/pushapps", json::serialize(ios)).status, 201);
    auto [id, access] = Workspace(op, "small");
    for (int i = 0; i < 3; ++i) {
        auto r = Push("apn", access, Note(kDevice));
        ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    }
    auto over = Push("apn", access, Note(kDevice));
    EXPECT_EQ(over.status, 422) << over.body;
    EXPECT_EQ(over.Json().at("code").as_int64(), 4);
    EXPECT_NE(Str(over.Json(), {"error"}).find("monthly push quota of 3"), std::string::npos)
        << over.body;
    // Usage reaches the workspace's status (written every few seconds).
    json::value ws = WaitFor(
        s_->As(op),
        "/v1/workspaces/" + id,
        [](const json::value& v) {
            const auto* p = v.at("status").as_object().if_contains("push");
            return p != nullptr && p->as_object().contains("sent") && p->at("sent").as_int64() == 3;
        },
        200
    );
    EXPECT_EQ(ws.at("status").at("push").at("sent").as_int64(), 3);

    auto [id2, access2] = Workspace(op_, "badnotes");
    struct Case {
        std::string name, service, body;
        int status;
    };
    std::string long_title(66, 't');
    json::object huge_payload{{"blob", std::string(5000, 'x')}};
    const std::vector<Case> cases = {
        {"malformed JSON", "apn", "{\"token\":", 422},
        {"not an object", "apn", "[]", 422},
        {"no token", "apn", R"({"options":{}})", 422},
        {"token with a slash", "apn", R"({"token":"../../x","options":{}})", 422},
        {"title over 65", "apn", json::serialize(Note(kDevice, {{"title", long_title}})), 422},
        {"text over 240",
         "gcm",
         json::serialize(Note("t1", {{"text", std::string(241, 'x')}})),
         422},
        {"badge not a number", "apn", json::serialize(Note(kDevice, {{"badge", "two"}})), 422},
        {"payload over 4 KiB",
         "apn",
         json::serialize(Note(kDevice, {{"payload", huge_payload}})),
         422},
        {"options not an object", "gcm", R"({"token":"t1","options":[]})", 422},
        {"unknown service", "wns", json::serialize(Note(kDevice)), 404},
    };
    for (const auto& c : cases) {
        auto r = s_->Anonymous().Do(
            "POST", "/push/" + c.service + "/send", c.body, {{"Authorization", "Bearer " + access2}}
        );
        EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
        EXPECT_EQ(r.Json().at("status").as_int64(), c.status) << c.name;
        EXPECT_FALSE(Str(r.Json(), {"error"}).empty()) << c.name;
    }
    // Workspace tokens: none, made up, or without the push scope: 401, so the server does not
    // retry.
    auto [id3, stats_only] = Workspace(op_, "statsonly", "workspace:stats:write");
    for (const auto& auth :
         std::vector<std::string>{"", "Bearer hwa_made.up", "Bearer " + stats_only}) {
        Headers h;
        if (!auth.empty()) {
            h.emplace_back("Authorization", auth);
        }
        auto r = s_->Anonymous().Do("POST", "/push/apn/send", json::serialize(Note(kDevice)), h);
        EXPECT_EQ(r.status, 401) << auth << ": " << r.body;
    }
    EXPECT_EQ(s_->Anonymous().Do("GET", "/healthz").status, 200);
}

TEST_F(PushGatewayTest, ProviderOutagesAreRetriedThenReported) {
    auto [id, access] = Workspace(op_, "outage");
    int sends = fake_->sends();
    fake_->FailNext(2, 503);
    auto ok = Push("apn", access, Note(kDevice));
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(fake_->sends() - sends, 3) << "two 503s retried, then delivered";
    fake_->FailNext(2, 429);
    EXPECT_EQ(Push("gcm", access, Note("fcm-t:1")).status, 200);
    // A longer outage outlasts the gateway's deadline: 503 with Retry-After, so the server retries
    // later.
    fake_->FailNext(1000, 503);
    auto down = Push("apn", access, Note(kDevice));
    fake_->FailNext(0);
    EXPECT_EQ(down.status, 503) << down.body;
    EXPECT_EQ(down.Json().at("code").as_int64(), 6);
    EXPECT_NE(Str(down.Json(), {"error"}).find("503 ServiceUnavailable"), std::string::npos)
        << down.body;
    EXPECT_FALSE(down.headers["retry-after"].empty());
}

TEST_F(PushGatewayTest, GoawayMovesToANewConnectionWithoutLosingNotifications) {
    auto [id, access] = Workspace(op_, "goaway");
    ASSERT_EQ(Push("apn", access, Note(kDevice)).status, 200);  // the connection exists
    int before = fake_->connections();
    fake_->GoAwayAfter(4);
    std::vector<std::future<HttpResponse>> results;
    for (int i = 0; i < 16; ++i) {
        results.push_back(std::async(std::launch::async, [&access, i] {
            return Push("apn", access, Note(kDevice, {{"notId", i}}));
        }));
    }
    int delivered = 0;
    std::string others;
    for (auto& f : results) {
        HttpResponse r = f.get();
        delivered += r.status == 200 ? 1 : 0;
        if (r.status != 200) {
            others += fmt::format("{} {}\n", r.status, r.body);
        }
    }
    fake_->GoAwayAfter(0);
    std::string log = s_->process().Log();
    EXPECT_EQ(delivered, 16) << others << "server log (end):\n"
                             << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
    EXPECT_GE(fake_->connections() - before, 3) << "each GOAWAY leads to a new connection";
}

TEST_F(PushGatewayTest, AWorkspaceOverItsRateGets429) {
    auto [id, access] = Workspace(op_, "fast");
    // 20 a second with a burst of 40: 60 at once must meet the limit, unless the machine is so
    // slow that they spread over seconds; then another 60, up to ten times.
    int limited = 0, ok = 0, sent = 0;
    for (int round = 0; round < 10 && limited == 0; ++round) {
        std::vector<std::future<int>> results;
        for (int i = 0; i < 60; ++i) {
            results.push_back(std::async(std::launch::async, [&access] {
                return Push("apn", access, Note(kDevice)).status;
            }));
        }
        for (auto& f : results) {
            int st = f.get();
            limited += st == 429 ? 1 : 0;
            ok += st == 200 ? 1 : 0;
        }
        sent += 60;
    }
    EXPECT_GT(limited, 0);
    EXPECT_GE(ok, 40) << "the burst passes";
    EXPECT_EQ(ok + limited, sent) << "nothing but 200 and 429";
}

TEST_F(PushGatewayTest, TheSampleWorkspacePushesToIosAndAndroid) {
    auto c = s_->As(op_).Do(
        "POST", "/v1/workspaces", R"({"metadata":{"name":"sample-push"},"spec":{}})"
    );
    std::string id = Str(c.Json(), {"metadata", "id"});
    std::string token =
        Str(s_->As(op_).Do("POST", "/v1/workspaces/" + id + ":registration-token").Json(),
            {"token"});
    TempDir dir;
    int port = FreeLoopbackPort();
    pid_t pid = SpawnLogged(
        {(std::filesystem::path(HangarBinary()).parent_path() / "hangar-workspace").string(),
         "--port",
         std::to_string(port),
         "--data-dir",
         dir.path()},
        dir.path() + "/log",
        {{"HANGAR_CLOUD_URL", s_->Url()}, {"HANGAR_REGISTRATION_TOKEN", token}}
    );
    ASSERT_GT(pid, 0);
    Client app("127.0.0.1", port);
    json::value state;
    for (int i = 0; i < 300; ++i) {
        auto r = app.Do("GET", "/cloud");
        state = r.status == 200 ? r.Json() : json::value();
        if (Str(state, {"state"}) == "registered" || Str(state, {"state"}) == "error") {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(Str(state, {"state"}), "registered") << json::serialize(state);
    auto ios = app.Do("POST", "/push?service=apn&token=" + kDevice + "&idonly=1");
    auto android = app.Do("POST", "/push?service=gcm&token=fcm-sample:APA91b");
    std::string gone = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    fake_->KillDevice(gone);
    auto dead = app.Do("POST", "/push?service=apn&token=" + gone);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    EXPECT_EQ(ios.status, 200) << ios.body;
    EXPECT_EQ(android.status, 200) << android.body;
    EXPECT_EQ(dead.status, 406) << dead.body;
    bool saw_id_only = false;
    for (const auto& r : fake_->Records()) {
        if (r.service == "apns" && r.payload.find("msg-42") != std::string::npos &&
            r.payload.find("message-id-only") != std::string::npos) {
            saw_id_only = true;
        }
    }
    EXPECT_TRUE(saw_id_only);
}

TEST_F(PushGatewayTest, PlanShowsAnUnchangedKeyAsNoChangeAndNeverPrintsIt) {
    // acme's two apps as a fleet file holds them: the key and the service account in clear.
    TempDir dir;
    auto write = [&](const std::string& pem) {
        std::string path = dir.path() + "/apps.yaml";
        std::ofstream(path) << "kind: PushApp\nmetadata: {name: ios, tenant: acme}\nspec:\n  apns: "
                            << json::serialize(json::object{
                                   {"key_p8", pem},
                                   {"key_id", fake_->apns_key_id},
                                   {"team_id", fake_->apns_team_id},
                                   {"topic", "chat.hangar.ios"}})
                            << "\n---\nkind: PushApp\nmetadata: {name: android, tenant: "
                               "acme}\nspec:\n  fcm: {service_account: "
                            << json::serialize(json::parse(fake_->ServiceAccountJson())) << "}\n";
        return path;
    };
    std::string out, err;
    auto plan = [&](const std::string& file) {
        return RunCli(
            {"--server", s_->Url(), "--token", s_->process().AdminToken(), "plan", "-f", file},
            out,
            err
        );
    };
    ASSERT_EQ(plan(write(fake_->apns_key_pem)), 0) << err;
    EXPECT_NE(out.find("No changes"), std::string::npos) << out;
    // A new key is a change, shown by its SHA-256 only.
    std::string other_key, other_public;
    MakeEcKey(other_key, other_public);
    ASSERT_EQ(plan(write(other_key)), 0) << err;
    EXPECT_NE(out.find("~ update PushApp acme/ios"), std::string::npos) << out;
    EXPECT_NE(out.find("key_sha256"), std::string::npos) << out;
    EXPECT_EQ(out.find("update PushApp acme/android"), std::string::npos) << out;
    EXPECT_EQ(out.find("PRIVATE KEY"), std::string::npos) << "the plan printed a key";
    EXPECT_NE(out.find("1 change planned"), std::string::npos) << out;
}

}  // namespace
}  // namespace hangar::testing
