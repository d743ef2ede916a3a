// The cloud calls a stock Rocket.Chat server makes, in its own order and with its own request
// shapes (protocols/workspace-cloud.md section 7, read from apps/meteor/app/cloud/server/
// functions/*): the token request with its whole default scope list, comms before sync, the
// announcements it turns into banners, interactions, the sync itself, the legacy path it falls
// back to, a push through the gateway (FCM, a local fake speaking its protocol), statistics, and
// the marketplace from listing to download, install notification, bundles, featured sections and
// app requests. Each answer is checked the way the server's code reads it.

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <sys/wait.h>
#include <zip.h>

#include "hangar/core/clock.hpp"

#include "fake_push.hpp"
#include "fixture.hpp"

namespace hangar::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// oauthScopes.ts: the list a stock server asks for in one request.
constexpr const char* kDefaultScopes =
    "workspace:license:read workspace:client:write workspace:stats:write workspace:push:send "
    "marketplace:read marketplace:download fedhub:register";

// The engine version a 6.14 server sends to the marketplace.
const Headers kEngine = {{"X-Apps-Engine-Version", "1.45.0-alpha"}};

std::string FormEncode(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.') {
            out.push_back(c);
        } else if (c == ' ') {
            out.push_back('+');  // URLSearchParams writes spaces as '+'
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

class StockServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fake_dir_ = new TempDir();
        fake_ = new FakePushProviders(fake_dir_->path());
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--public-rate",
             "1000",
             "--marketplace-listen",
             "127.0.0.1:0",
             "--push-ca-file",
             fake_->CaFile(),
             "--apns-url",
             fake_->Url(),
             "--fcm-url",
             fake_->Url(),
             "--webhook-allow",
             "127.0.0.1"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        acme_ = s_->Tenant("stock-acme");
        op_ = s_->Token(acme_, "operator");
        // The tenant's Android app: its workspaces' pushes go out through FCM (the fake).
        json::object android{
            {"metadata", {{"name", "android"}}},
            {"spec", {{"fcm", {{"service_account", json::parse(fake_->ServiceAccountJson())}}}}}};
        auto a = s_->As(op_).Do("POST", "/v1/pushapps", json::serialize(android));
        ASSERT_EQ(a.status, 201) << a.body;
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
        delete fake_;
        delete fake_dir_;
    }
    // A workspace registered by token, as the server's registerWorkspace does; its credentials.
    static json::value Registered(const std::string& name) {
        auto c = s_->As(op_).Do(
            "POST",
            "/v1/workspaces",
            json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", json::object{}}})
        );
        EXPECT_EQ(c.status, 201) << c.body;
        std::string id = Str(c.Json(), {"metadata", "id"});
        auto t = s_->As(op_).Do("POST", "/v1/workspaces/" + id + ":registration-token", "");
        auto r = s_->Anonymous().Do(
            "POST",
            "/api/oauth/clients",
            R"({"email":"admin@acme.test","client_name":"Acme chat","redirect_uris":["https://chat.acme.test/admin/cloud/oauth-callback"]})",
            {{"Authorization", "Bearer " + Str(t.Json(), {"token"})}}
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.Json();
    }
    // getWorkspaceAccessTokenWithScope: URLSearchParams, the default scope list.
    static HttpResponse
    TokenRequest(const json::value& creds, const std::string& scope = kDefaultScopes) {
        return s_->Anonymous().Do(
            "POST",
            "/api/oauth/token",
            "client_id=" + FormEncode(Str(creds, {"client_id"})) +
                "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
                "&scope=" + FormEncode(scope) + "&grant_type=client_credentials&redirect_uri=",
            {{"Content-Type", "application/x-www-form-urlencoded"}}
        );
    }
    // buildWorkspaceRegistrationData, as a stock 6.x server fills it.
    static std::string RegistrationData(const json::value& creds, const std::string& version) {
        return json::serialize(json::object{
            {"uniqueId", "stock-unique-1"},
            {"deploymentFingerprintHash", "abc"},
            {"deploymentFingerprintVerified", true},
            {"workspaceId", Str(creds, {"workspaceId"})},
            {"address", "https://chat.acme.test"},
            {"contactName", "Ada"},
            {"seats", 42},
            {"allowMarketing", false},
            {"accountName", "acme"},
            {"organizationType", "enterprise"},
            {"industry", "software"},
            {"orgSize", "51-100"},
            {"country", "ch"},
            {"language", "en"},
            {"agreePrivacyTerms", true},
            {"website", "https://acme.test"},
            {"siteName", "Acme Chat"},
            {"workspaceType", "community"},
            {"deploymentMethod", "docker"},
            {"deploymentPlatform", "selfinstall"},
            {"version", version},
            {"licenseVersion", 3},
            {"enterpriseReady", true},
            {"setupComplete", true},
            {"connectionDisable", false},
            {"npsEnabled", true},
            {"MAC", 0}});
    }
    static Headers Bearer(const std::string& token) {
        return {{"Authorization", "Bearer " + token}};
    }
    static json::value Announce(const std::string& name, const json::object& spec) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/announcements",
            json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", spec}})
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.Json();
    }

    static TempDir* fake_dir_;
    static FakePushProviders* fake_;
    static LiveServer* s_;
    static std::string acme_, op_;
};
TempDir* StockServerTest::fake_dir_ = nullptr;
FakePushProviders* StockServerTest::fake_ = nullptr;
LiveServer* StockServerTest::s_ = nullptr;
std::string StockServerTest::acme_, StockServerTest::op_;

// "http://127.0.0.1:1234/api/v2/..." → "/api/v2/...": the client speaks to the one server.
std::string Path(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string InHours(int h) {
    return core::FormatRfc3339(std::chrono::system_clock::now() + std::chrono::hours(h));
}

// A built-in meter's total for a tenant (Hangar meters its own usage), polled briefly: usage is
// recorded without holding the call that caused it.
double
MeteredTotal(LiveServer& s, const std::string& meter, const std::string& tenant, double want) {
    double got = 0;
    for (int i = 0; i < 100; ++i) {
        auto r = s.Admin().Do("GET", "/api/v1/meters/" + meter + "/query?subject=" + tenant);
        if (r.status == 200 && !r.Json().at("data").as_array().empty()) {
            got = r.Json().at("data").as_array()[0].at("value").to_number<double>();
            if (got >= want) {
                return got;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return got;
}

TEST_F(StockServerTest, TheWholeDefaultScopeListIsGrantedAndEchoedAsAsked) {
    json::value creds = Registered("scopes");
    auto t = TokenRequest(creds);
    ASSERT_EQ(t.status, 200) << t.body;
    // The server caches the token under the scope string it gets back: the same string.
    EXPECT_EQ(Str(t.Json(), {"scope"}), kDefaultScopes);
    EXPECT_TRUE(t.Json().at("expires_in").is_int64());
    EXPECT_FALSE(Str(t.Json(), {"access_token"}).empty());
    // The checkout call asks for workspace:billing alone.
    auto billing = TokenRequest(creds, "workspace:billing");
    ASSERT_EQ(billing.status, 200) << billing.body;
    EXPECT_EQ(Str(billing.Json(), {"scope"}), "workspace:billing");
    // A scope nobody defined is still refused, naming it.
    auto bad = TokenRequest(creds, "workspace:license:read root:everything");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Str(bad.Json(), {"error"}), "invalid_scope");
    EXPECT_NE(Str(bad.Json(), {"error_description"}).find("root:everything"), std::string::npos);
}

TEST_F(StockServerTest, AScopeListLimitedByTheOperatorStillGrantsFedhubRegisterButNothingMore) {
    json::value creds = Registered("limited");
    std::string id = Str(creds, {"workspaceId"});
    auto put = s_->As(op_).Do(
        "PUT",
        "/v1/workspaces/" + id,
        R"({"spec":{"scopes":["workspace:license:read","workspace:client:write","workspace:stats:write"]}})"
    );
    ASSERT_EQ(put.status, 200) << put.body;
    auto ok = TokenRequest(creds, "workspace:license:read fedhub:register");
    EXPECT_EQ(ok.status, 200) << ok.body;
    auto refused = TokenRequest(creds);  // asks for push and marketplace too
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(Str(refused.Json(), {"error"}), "invalid_scope");
    EXPECT_NE(
        Str(refused.Json(), {"error_description"}).find("workspace:push:send"), std::string::npos
    );
}

TEST_F(StockServerTest, CommsThenSyncAsAStockServerDoesWithAnnouncementsDeliveredOnce) {
    json::value creds = Registered("comms");
    std::string id = Str(creds, {"workspaceId"});
    std::string uri = Path(Str(creds, {"registration_client_uri"}));
    ASSERT_EQ(uri, "/api/v2/workspaces/" + id);
    // Announcements: one for everyone, one for another tenant, one for versions below 6.
    auto everyone = Announce(
        "maintenance",
        {{"title", "Maintenance"},
         {"text", "The cloud is updated on Sunday."},
         {"severity", "warning"},
         {"link", {{"url", "https://status.example.com"}, {"label", "Status"}}},
         {"ends_at", InHours(48)}}
    );
    std::string ann = Str(everyone, {"metadata", "id"});
    Announce(
        "others",
        {{"text", "not for acme"},
         {"audience", {{"tenants", json::array{"ten_00000000000000000000"}}}},
         {"ends_at", InHours(48)}}
    );
    Announce(
        "old-versions",
        {{"text", "please upgrade"},
         {"audience", {{"versions", {{"below", "6.0"}}}}},
         {"ends_at", InHours(48)}}
    );
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    std::string data = RegistrationData(creds, "6.14.0");

    // syncWorkspace: comms first.
    auto comms = s_->Anonymous().Do("POST", "/api/v3/comms/workspace", data, Bearer(access));
    ASSERT_EQ(comms.status, 200) << comms.body;
    json::value c = comms.Json();
    EXPECT_EQ(Str(c, {"workspaceId"}), id);
    EXPECT_FALSE(c.as_object().contains("nps")) << "6.x refuses a null nps";
    const json::array& create = c.at("announcements").at("create").as_array();
    ASSERT_EQ(create.size(), 1U) << c;
    EXPECT_TRUE(c.at("announcements").at("delete").as_array().empty());
    // What IBanner's schema (and Banner.create) reads.
    const json::object& b = create[0].as_object();
    EXPECT_EQ(Str(b, {"_id"}), ann);
    EXPECT_EQ(b.at("platform"), (json::array{"web", "mobile"}));
    for (const char* t : {"startAt", "expireAt", "createdAt"}) {
        std::string v = Str(b, {t});
        EXPECT_TRUE(v.size() == 24 && v.back() == 'Z') << t << " " << v << ": ...T..:..:..sssZ";
    }
    EXPECT_LT(Str(b, {"startAt"}), Str(b, {"expireAt"}));
    EXPECT_EQ(Str(b, {"createdBy"}), "cloud");
    EXPECT_EQ(Str(b, {"surface"}), "banner");
    EXPECT_EQ(b.at("selector").at("roles"), (json::array{"admin"}));
    EXPECT_EQ(Str(b, {"view", "viewId"}), ann);
    EXPECT_EQ(Str(b, {"view", "variant"}), "warning");
    EXPECT_NE(
        json::serialize(b.at("view").at("blocks")).find("The cloud is updated"), std::string::npos
    );

    // Then sync: no license a stock server would throw on.
    auto sync = s_->Anonymous().Do("POST", uri + "/sync", data, Bearer(access));
    ASSERT_EQ(sync.status, 200) << sync.body;
    EXPECT_EQ(Str(sync.Json(), {"workspaceId"}), id);
    EXPECT_TRUE(sync.Json().at("license").is_string());
    EXPECT_EQ(Str(sync.Json(), {"license"}), "");
    EXPECT_FALSE(Str(sync.Json(), {"hangarLicense"}).empty());

    // Twelve hours later: nothing new, so nothing again (an older server inserts by _id).
    auto second = s_->Anonymous().Do("POST", "/api/v3/comms/workspace", data, Bearer(access));
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_TRUE(second.Json().at("announcements").at("create").as_array().empty()) << second.body;

    // A user closes the banner: the interaction is counted on the announcement.
    auto closed = s_->Anonymous().Do(
        "POST",
        "/api/v3/comms/workspace/interaction",
        json::serialize(json::object{
            {"type", "viewClosed"},
            {"payload", {{"viewId", ann}, {"isCleared", false}}},
            {"triggerId", "trig-1"},
            {"user", {{"_id", "u1"}, {"username", "ada"}, {"name", "Ada"}}}}),
        {{"Authorization", "Bearer " + access}, {"Content-Type", "text/plain;charset=UTF-8"}}
    );
    ASSERT_EQ(closed.status, 200) << closed.body;
    EXPECT_EQ(Str(closed.Json(), {"serverInteraction", "appId"}), "cloud-announcements-core");
    EXPECT_EQ(Str(closed.Json(), {"serverInteraction", "triggerId"}), "trig-1");
    auto seen = s_->Admin().Do("GET", "/v1/announcements/" + ann);
    EXPECT_EQ(seen.Json().at("status").at("delivered").as_int64(), 1) << seen.body;
    EXPECT_EQ(seen.Json().at("status").at("interactions").at("dismissed").as_int64(), 1)
        << seen.body;

    // Withdrawn: the workspace holding it is told to disable the banner, once.
    auto w = s_->Admin().Do("POST", "/v1/announcements/" + ann + ":withdraw", "");
    ASSERT_EQ(w.status, 200) << w.body;
    auto third = s_->Anonymous().Do("POST", "/api/v3/comms/workspace", data, Bearer(access));
    EXPECT_EQ(third.Json().at("announcements").at("delete"), (json::array{json::value(ann)}))
        << third.body;
    auto fourth = s_->Anonymous().Do("POST", "/api/v3/comms/workspace", data, Bearer(access));
    EXPECT_TRUE(fourth.Json().at("announcements").at("delete").as_array().empty());

    // An old server (5.4) is in the version range of the other announcement.
    json::value old = Registered("old");
    std::string old_access = Str(TokenRequest(old).Json(), {"access_token"});
    auto old_comms = s_->Anonymous().Do(
        "POST", "/api/v3/comms/workspace", RegistrationData(old, "5.4.2"), Bearer(old_access)
    );
    // Its version is known only once it synced: before that no version range matches.
    EXPECT_TRUE(old_comms.Json().at("announcements").at("create").as_array().empty());
    s_->Anonymous().Do(
        "POST",
        Path(Str(old, {"registration_client_uri"})) + "/sync",
        RegistrationData(old, "5.4.2"),
        Bearer(old_access)
    );
    auto after = s_->Anonymous().Do(
        "POST", "/api/v3/comms/workspace", RegistrationData(old, "5.4.2"), Bearer(old_access)
    );
    json::value after_json = after.Json();
    const json::array& got = after_json.at("announcements").at("create").as_array();
    ASSERT_EQ(got.size(), 1U) << after.body;
    EXPECT_NE(json::serialize(got[0]).find("please upgrade"), std::string::npos);
}

TEST_F(StockServerTest, DeviceFlowRegistrationThenTokenSyncAndStatisticsInTheServersOrder) {
    // The wizard's pre-intent, then the intent the server shows its admin a code for.
    std::string record =
        R"({"uniqueId":"stock-device-1","address":"https://dev.acme.test","siteName":"Dev Chat","seats":5,"version":"6.14.0"})";
    ASSERT_EQ(
        s_->Anonymous().Do("POST", "/api/v2/register/workspace/pre-intent", record).status, 200
    );
    auto intent = s_->Anonymous().Do("POST", "/api/v2/register/workspace/intent", record);
    ASSERT_EQ(intent.status, 200) << intent.body;
    std::string device = Str(intent.Json(), {"device_code"});
    std::string user_code = Str(intent.Json(), {"user_code"});
    EXPECT_TRUE(intent.Json().at("interval").is_int64());
    auto waiting = s_->Anonymous().Do("GET", "/api/v2/register/workspace/poll?token=" + device);
    EXPECT_EQ(Str(waiting.Json(), {"status"}), "authorization_pending") << waiting.body;
    // The tenant's operator approves the code; the server's next poll gets its credentials.
    auto approved = s_->As(op_).Do(
        "POST", "/v1/workspaces:approve", json::serialize(json::object{{"user_code", user_code}})
    );
    ASSERT_LT(approved.status, 300) << approved.body;
    auto done = s_->Anonymous().Do("GET", "/api/v2/register/workspace/poll?token=" + device);
    ASSERT_EQ(done.status, 200) << done.body;
    ASSERT_TRUE(done.Json().at("successful").as_bool()) << done.body;
    json::value creds = done.Json().at("payload");
    EXPECT_EQ(Str(creds, {"licenseData", "license"}), "");
    // Then as every registered server: token, comms, sync, and the day's statistics.
    auto t = TokenRequest(creds);
    ASSERT_EQ(t.status, 200) << t.body;
    std::string access = Str(t.Json(), {"access_token"});
    std::string data = RegistrationData(creds, "6.14.0");
    EXPECT_EQ(
        s_->Anonymous().Do("POST", "/api/v3/comms/workspace", data, Bearer(access)).status, 200
    );
    auto sync = s_->Anonymous().Do(
        "POST", Path(Str(creds, {"registration_client_uri"})) + "/sync", data, Bearer(access)
    );
    ASSERT_EQ(sync.status, 200) << sync.body;
    EXPECT_EQ(Str(sync.Json(), {"license"}), "");
    // sendUsageReport: the whole statistics document, Bearer; the answer's statsToken is kept.
    auto stats = s_->Anonymous().Do(
        "POST",
        "/collector",
        R"({"uniqueId":"stock-device-1","version":"6.14.0","totalUsers":5,"activeUsers":3,"totalMessages":120,"deploy":{"method":"docker","platform":"selfinstall"}})",
        Bearer(access)
    );
    ASSERT_EQ(stats.status, 200) << stats.body;
    EXPECT_FALSE(Str(stats.Json(), {"statsToken"}).empty());
    // A message to an Android user: sendGatewayPush, {token, options} with the Bearer token.
    json::object payload{
        {"host", "https://dev.acme.test"},
        {"messageId", "m42"},
        {"notificationType", "message"},
        {"rid", "GENERAL"},
        {"sender", {{"_id", "u1"}, {"username", "ada"}, {"name", "Ada"}}},
        {"type", "c"},
        {"name", "general"},
        {"messageType", ""}};
    json::object push{
        {"token", "fcm-stock-device:APA91b"},
        {"options",
         {{"createdAt", "2026-12-03T10:00:00.000Z"},
          {"createdBy", "<SERVER>"},
          {"sent", false},
          {"sending", 0},
          {"from", "push"},
          {"title", "@ada"},
          {"text", "Standup in 5"},
          {"userId", "u2"},
          {"payload", payload},
          {"badge", 1},
          {"sound", "chime"},
          {"notId", 12},
          {"gcm", {{"style", "inbox"}, {"image", "https://dev.acme.test/avatar/ada"}}},
          {"topic", "chat.rocket.android"},
          {"uniqueId", "stock-device-1"}}}};
    auto before = fake_->Records().size();
    auto pushed =
        s_->Anonymous().Do("POST", "/push/gcm/send", json::serialize(push), Bearer(access));
    ASSERT_EQ(pushed.status, 200) << pushed.body;
    auto records = fake_->Records();
    ASSERT_EQ(records.size(), before + 1);
    EXPECT_EQ(records.back().service, "fcm");
    EXPECT_EQ(records.back().device, "fcm-stock-device:APA91b");
    json::value sent = json::parse(records.back().payload);
    EXPECT_EQ(json::parse(sent.at("data").at("ejson").as_string()), json::value(payload))
        << "the payload reaches the device unchanged";
    EXPECT_EQ(sent.at("data").at("message"), "Standup in 5");
    // Hangar meters its own usage: the push and the statistics report, billed to the tenant.
    EXPECT_GE(MeteredTotal(*s_, "push_notifications", acme_, 1), 1);
    EXPECT_GE(MeteredTotal(*s_, "statistics_reports", acme_, 1), 1);
    // The apps page: the listing, then the daily sync of what it runs (nothing yet).
    Headers both = kEngine;
    both.emplace_back("Authorization", "Bearer " + access);
    EXPECT_EQ(s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", both).status, 200);
    auto mine = s_->Anonymous().Do(
        "GET",
        "/marketplace/v1/workspaces/" + Str(creds, {"workspaceId"}) + "/apps?seats=5",
        "",
        Bearer(access)
    );
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_TRUE(mine.Json().as_array().empty());
}

TEST_F(StockServerTest, TheLegacySyncPathWorksWhenCommsFails) {
    json::value creds = Registered("legacy");
    std::string uri = Path(Str(creds, {"registration_client_uri"}));
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    std::string data = RegistrationData(creds, "6.3.0");
    auto client = s_->Anonymous().Do("POST", uri + "/client", data, Bearer(access));
    ASSERT_EQ(client.status, 200) << client.body;
    EXPECT_EQ(Str(client.Json(), {"workspaceId"}), Str(creds, {"workspaceId"}));
    EXPECT_TRUE(client.Json().at("banners").is_array());
    EXPECT_TRUE(client.Json().at("announcements").at("create").is_array());
    auto license = s_->Anonymous().Do("GET", uri + "/license?version=3", "", Bearer(access));
    ASSERT_EQ(license.status, 200) << license.body;
    json::value license_json = license.Json();
    const json::object& l = license_json.as_object();
    EXPECT_EQ(l.at("version").as_int64(), 3);
    EXPECT_TRUE(l.at("address").is_string());
    EXPECT_EQ(Str(l, {"license"}), "");
    EXPECT_TRUE(l.at("modules").is_string());
    EXPECT_TRUE(l.at("updatedAt").is_string() && l.at("expireAt").is_string());
    auto down = s_->Anonymous().Do("POST", uri + "/client/downgrade", "", Bearer(access));
    EXPECT_EQ(down.status, 200) << down.body;
    // Another workspace's URI with this token: refused.
    json::value other = Registered("legacy-other");
    auto cross = s_->Anonymous().Do(
        "GET",
        Path(Str(other, {"registration_client_uri"})) + "/license?version=3",
        "",
        Bearer(access)
    );
    EXPECT_EQ(cross.status, 403) << cross.body;
}

// "http://x/cb?code=hac_..&state=s" → the value of `key` in its query ("" when absent).
std::string QueryValue(const std::string& url, const std::string& key) {
    size_t q = url.find('?');
    if (q == std::string::npos) {
        return "";
    }
    for (std::string_view rest(url.c_str() + q + 1); !rest.empty();) {
        size_t amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        if (pair.starts_with(key + "=")) {
            std::string out;
            std::string_view v = pair.substr(key.size() + 1);
            for (size_t i = 0; i < v.size(); ++i) {
                if (v[i] == '%' && i + 2 < v.size()) {
                    out.push_back(
                        static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16))
                    );
                    i += 2;
                } else {
                    out.push_back(v[i]);
                }
            }
            return out;
        }
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
    return "";
}

TEST_F(StockServerTest, AUserConnectsTheirAccountRefreshesAndLogsOut) {
    json::value creds = Registered("oauth");
    std::string id = Str(creds, {"workspaceId"});
    const std::string callback = "https://chat.acme.test/admin/cloud/oauth-callback";
    auto user = s_->Admin().Do(
        "POST",
        "/v1/users",
        R"({"metadata":{"name":"ada","tenant":")" + acme_ +
            R"("},"spec":{"email":"ada@acme.test","display_name":"Ada L","role":"viewer"}})"
    );
    ASSERT_EQ(user.status, 201) << user.body;
    auto tok = s_->Admin().Do(
        "POST",
        "/v1/tokens",
        json::serialize(json::object{
            {"tenant", acme_}, {"role", "viewer"}, {"user", Str(user.Json(), {"metadata", "id"})}})
    );
    ASSERT_EQ(tok.status, 201) << tok.body;
    std::string ada = Str(tok.Json(), {"token"});

    // getOAuthAuthorizationUrl: no URL-encoding of its own.
    std::string query = "response_type=code&client_id=" + id + "&redirect_uri=" + callback +
                        "&scope=openid offline_access&state=st4te";
    std::string encoded = "response_type=code&client_id=" + id +
                          "&redirect_uri=" + FormEncode(callback) +
                          "&scope=openid%20offline_access&state=st4te";
    auto page = s_->Anonymous().Do("GET", "/authorize?" + encoded);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("Acme chat"), std::string::npos);
    EXPECT_EQ(page.headers["x-frame-options"], "DENY");
    // The user signs in with their token and approves.
    auto approve = s_->Anonymous().Do(
        "POST",
        "/authorize",
        encoded + "&token=" + FormEncode(ada) + "&decision=approve",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    ASSERT_EQ(approve.status, 303) << approve.body;
    std::string location = approve.headers["location"];
    ASSERT_TRUE(location.starts_with(callback + "?code=hac_")) << location;
    EXPECT_EQ(QueryValue(location, "state"), "st4te");
    std::string code = QueryValue(location, "code");

    // finishOAuthAuthorization: the fields in the query string, not the body.
    auto exchange = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token?client_id=" + id +
            "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
            "&grant_type=authorization_code&scope=openid%20offline_access&code=" +
            FormEncode(code) + "&redirect_uri=" + FormEncode(callback),
        "",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    ASSERT_EQ(exchange.status, 200) << exchange.body;
    json::value t = exchange.Json();
    EXPECT_TRUE(t.at("expires_in").is_int64());
    EXPECT_EQ(Str(t, {"token_type"}), "Bearer");
    EXPECT_EQ(Str(t, {"scope"}), "openid offline_access");
    std::string refresh = Str(t, {"refresh_token"});
    auto me =
        s_->Anonymous().Do("GET", "/api/oauth/userinfo", "", Bearer(Str(t, {"access_token"})));
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(Str(me.Json(), {"email"}), "ada@acme.test");
    // A code works once.
    auto replay = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token?client_id=" + id +
            "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
            "&grant_type=authorization_code&code=" + FormEncode(code),
        "",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    EXPECT_EQ(replay.status, 400) << replay.body;
    EXPECT_EQ(Str(replay.Json(), {"error"}), "invalid_grant");

    // getUserCloudAccessToken: refresh.
    std::string refresh_query = "client_id=" + id +
                                "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
                                "&refresh_token=" + FormEncode(refresh) +
                                "&scope=openid%20offline_access&grant_type=refresh_token"
                                "&redirect_uri=" +
                                FormEncode(callback);
    auto refreshed = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token?" + refresh_query,
        "",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    ASSERT_EQ(refreshed.status, 200) << refreshed.body;
    std::string access2 = Str(refreshed.Json(), {"access_token"});
    EXPECT_EQ(s_->Anonymous().Do("GET", "/api/oauth/userinfo", "", Bearer(access2)).status, 200);
    auto links = s_->As(op_).Do("GET", "/v1/accountlinks");
    ASSERT_EQ(links.status, 200) << links.body;
    EXPECT_NE(links.body.find("\"Connected\""), std::string::npos) << links.body;

    // userLogout: revoke; the refresh token and the access tokens end.
    auto revoke = s_->Anonymous().Do(
        "POST",
        "/api/oauth/revoke?client_id=" + id +
            "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
            "&token=" + FormEncode(refresh) + "&token_type_hint=refresh_token",
        "",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    EXPECT_EQ(revoke.status, 200) << revoke.body;
    auto after = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token?" + refresh_query,
        "",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    EXPECT_EQ(after.status, 400) << after.body;
    EXPECT_EQ(s_->Anonymous().Do("GET", "/api/oauth/userinfo", "", Bearer(access2)).status, 401);
}

TEST_F(StockServerTest, TheAuthorizePageNeverSendsACodeWhereItShouldNot) {
    json::value creds = Registered("oauth-bad");
    std::string id = Str(creds, {"workspaceId"});
    std::string good = FormEncode("https://chat.acme.test/admin/cloud/oauth-callback");
    // A redirect_uri the workspace never registered, outside its address: an error page, no
    // redirect.
    auto evil = s_->Anonymous().Do(
        "GET",
        "/authorize?response_type=code&client_id=" + id +
            "&redirect_uri=" + FormEncode("https://evil.example/steal") + "&scope=openid"
    );
    EXPECT_EQ(evil.status, 400) << evil.body;
    EXPECT_TRUE(evil.headers["location"].empty());
    EXPECT_NE(evil.body.find("redirect_uri"), std::string::npos);
    // A scope beyond a user link's.
    auto wide = s_->Anonymous().Do(
        "GET",
        "/authorize?response_type=code&client_id=" + id + "&redirect_uri=" + good +
            "&scope=workspace%3Apush%3Asend"
    );
    EXPECT_EQ(wide.status, 400) << wide.body;
    // A wrong token: no code, a page that says so. Escaped: the state is never markup.
    auto wrong = s_->Anonymous().Do(
        "POST",
        "/authorize",
        "response_type=code&client_id=" + id + "&redirect_uri=" + good +
            "&state=%3Cscript%3E&token=hgr_nope&decision=approve",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    EXPECT_EQ(wrong.status, 401) << wrong.body;
    EXPECT_TRUE(wrong.headers["location"].empty());
    // A token of no user (a tenant token): refused.
    auto tenant_token = s_->Anonymous().Do(
        "POST",
        "/authorize",
        "response_type=code&client_id=" + id + "&redirect_uri=" + good +
            "&token=" + FormEncode(op_) + "&decision=approve",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    EXPECT_EQ(tenant_token.status, 403) << tenant_token.body;
    // Deny: back to the workspace with access_denied and the state.
    auto deny = s_->Anonymous().Do(
        "POST",
        "/authorize",
        "response_type=code&client_id=" + id + "&redirect_uri=" + good + "&state=s1&decision=deny",
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    ASSERT_EQ(deny.status, 303) << deny.body;
    EXPECT_EQ(QueryValue(deny.headers["location"], "error"), "access_denied");
    EXPECT_EQ(QueryValue(deny.headers["location"], "state"), "s1");
    // A made-up code and a made-up refresh token.
    for (const std::string& grant :
         {std::string("grant_type=authorization_code&code=hac_alk_00000000000000000000.x"),
          std::string("grant_type=refresh_token&refresh_token=junk")}) {
        auto r = s_->Anonymous().Do(
            "POST",
            "/api/oauth/token",
            "client_id=" + id + "&client_secret=" + FormEncode(Str(creds, {"client_secret"})) +
                "&" + grant,
            {{"Content-Type", "application/x-www-form-urlencoded"}}
        );
        EXPECT_EQ(r.status, 400) << grant << " " << r.body;
        EXPECT_EQ(Str(r.Json(), {"error"}), "invalid_grant");
    }
}

TEST_F(StockServerTest, CheckoutAnswersASignedPageThatSaysWhatThePlanCosts) {
    auto plan = s_->Admin().Do(
        "POST",
        "/v1/plans",
        R"({"metadata":{"name":"team"},"spec":{"memory_mb":512,"cpu_millis":500,"display_name":"Team",)"
        R"("price":{"amount_cents":4900,"currency":"EUR","interval":"month"},)"
        R"("entitlements":{"monthly_push_notifications":20000}}})"
    );
    ASSERT_EQ(plan.status, 201) << plan.body;
    json::value creds = Registered("checkout");
    std::string id = Str(creds, {"workspaceId"});
    ASSERT_EQ(
        s_->Admin().Do("PUT", "/v1/workspaces/" + id, R"({"spec":{"plan":"team"}})").status, 200
    );
    // The server syncs first (so the cloud knows its address), then asks with workspace:billing.
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    s_->Anonymous().Do(
        "POST",
        Path(Str(creds, {"registration_client_uri"})) + "/sync",
        RegistrationData(creds, "6.14.0"),
        Bearer(access)
    );
    auto without = s_->Anonymous().Do("POST", "/api/v2/checkout", "{}", Bearer(access));
    EXPECT_EQ(without.status, 403) << "the default token lacks workspace:billing: " << without.body;
    std::string billing = Str(TokenRequest(creds, "workspace:billing").Json(), {"access_token"});
    auto c = s_->Anonymous().Do(
        "POST",
        "/api/v2/checkout",
        R"({"okCallback":"https://chat.acme.test/admin/subscription?subscriptionSuccess=true",)"
        R"("cancelCallback":"https://chat.acme.test/admin/subscription"})",
        Bearer(billing)
    );
    ASSERT_EQ(c.status, 200) << c.body;
    std::string url = Str(c.Json(), {"url"});
    ASSERT_TRUE(url.starts_with(s_->Url() + "/checkout/" + id)) << url;
    auto page = s_->Anonymous().Do("GET", Path(url));
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("49.00 EUR"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("Team"), std::string::npos);
    EXPECT_NE(page.body.find("https://chat.acme.test/admin/subscription"), std::string::npos);
    EXPECT_NE(page.body.find("#/tenants/" + acme_), std::string::npos) << "links to the billing";
    // A changed link is refused; a callback elsewhere is dropped, not linked.
    std::string tampered = Path(url);
    tampered.replace(tampered.find("expires=") + 8, 1, "9");
    EXPECT_EQ(s_->Anonymous().Do("GET", tampered).status, 403);
    auto evil = s_->Anonymous().Do(
        "POST", "/api/v2/checkout", R"({"cancelCallback":"https://evil.example/"})", Bearer(billing)
    );
    EXPECT_EQ(Str(evil.Json(), {"url"}).find("evil"), std::string::npos) << evil.body;
}

TEST_F(StockServerTest, TheLegacyStartAndTheWizardsPreIntentAreAnswered) {
    std::string record = R"({"uniqueId":"legacy-1","address":"https://old.acme.test","seats":3})";
    auto start = s_->Anonymous().Do("POST", "/api/v2/register/workspace?resend=false", record);
    ASSERT_EQ(start.status, 200) << start.body;
    std::string first = Str(start.Json(), {"id"});
    EXPECT_FALSE(first.empty());
    auto again = s_->Anonymous().Do("POST", "/api/v2/register/workspace?resend=true", record);
    EXPECT_EQ(Str(again.Json(), {"id"}), first) << "stable for a server";
    auto pre = s_->Anonymous().Do("POST", "/api/v2/register/workspace/pre-intent", record);
    EXPECT_EQ(pre.status, 200) << pre.body;
    auto bad = s_->Anonymous().Do("POST", "/api/v2/register/workspace/pre-intent", "[]");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Str(bad.Json(), {"error"}), "invalid_request");
}

// An Apps-Engine package built here (never downloaded): app.json, the class file and an icon,
// plus `padding` bytes of incompressible data to make it the size asked for.
std::string SamplePackage(
    const std::string& id,
    const std::string& version,
    const std::string& engine,
    size_t padding = 0,
    const std::string& name = "Poll Bot",
    const std::string& slug = "poll-bot"
) {
    TempDir dir;
    std::string path = dir.path() + "/app.zip";
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    std::vector<std::string> keep;
    keep.push_back(json::serialize(json::object{
        {"id", id},
        {"version", version},
        {"requiredApiVersion", engine},
        {"iconFile", "icon.png"},
        {"author",
         {{"name", "Acme"},
          {"homepage", "https://acme.test"},
          {"support", "https://acme.test/help"}}},
        {"name", name},
        {"nameSlug", slug},
        {"classFile", "PollBotApp.js"},
        {"description", "Polls in any room."},
        {"implements", json::array{"IPostMessageSent"}},
        {"permissions", json::array{json::object{{"name", "message.read"}}}}}));
    keep.push_back("exports.PollBotApp = class {};");
    keep.push_back("\x89PNG\r\n");
    std::string noise(padding, '\0');
    uint32_t x = 2463534242U;
    for (char& c : noise) {
        x ^= x << 13U;
        x ^= x >> 17U;
        x ^= x << 5U;
        c = static_cast<char>(x);
    }
    keep.push_back(noise);
    const char* names[] = {"app.json", "PollBotApp.js", "icon.png", "assets/blob.bin"};
    for (size_t i = 0; i < keep.size(); ++i) {
        zip_source_t* src = zip_source_buffer(z, keep[i].data(), keep[i].size(), 0);
        zip_file_add(z, names[i], src, ZIP_FL_OVERWRITE);
    }
    zip_close(z);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

constexpr const char* kAppId = "c33fa1a6-68a7-491e-bf49-9d7b99671c48";

HttpResponse Publish(LiveServer& s, const std::string& zip, const std::string& query = "") {
    return s.Admin().Do(
        "POST", "/v1/apps:publish" + query, zip, {{"Content-Type", "application/zip"}}
    );
}

// Runs tests/marketplace/validate_listing.mjs (zod, the server's schema) on answers: the
// listings, an info, and extras ({"featured", body}, {"bundle", body}, ...).
void ExpectValidForTheServer(
    const std::string& listings,
    const std::string& info,
    const std::vector<std::pair<std::string, std::string>>& extras
) {
    TempDir dir;
    std::ofstream(dir.path() + "/listings.json") << listings;
    std::ofstream(dir.path() + "/info.json") << info;
    std::vector<std::string> argv = {
        "/usr/bin/node",
        std::string(HANGAR_SOURCE_DIR) + "/tests/marketplace/validate_listing.mjs",
        dir.path() + "/listings.json",
        dir.path() + "/info.json"};
    for (const auto& [what, body] : extras) {
        std::string file = dir.path() + "/" + what + ".json";
        std::ofstream(file) << body;
        argv.push_back(what + "=" + file);
    }
    pid_t pid = SpawnLogged(argv, dir.path() + "/log");
    ASSERT_GT(pid, 0);
    int status = 0;
    waitpid(pid, &status, 0);
    std::ifstream log(dir.path() + "/log");
    std::string said((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said;
}

TEST_F(StockServerTest, MarketplacePublishListDownloadAndInstallAsAStockServerDoes) {
    std::string zip = SamplePackage(kAppId, "1.2.0", "^1.19.0", 5 << 20);  // a 5 MB app
    auto pub = Publish(*s_, zip);
    ASSERT_EQ(pub.status, 201) << pub.body;
    EXPECT_EQ(Str(pub.Json(), {"release", "status", "sha256"}).size(), 64U);
    EXPECT_EQ(Publish(*s_, zip).status, 409) << "a version is published once";
    auto v2 = Publish(*s_, SamplePackage(kAppId, "1.3.0", "^1.46.0"));
    ASSERT_EQ(v2.status, 201) << v2.body;

    json::value creds = Registered("market");
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    Headers both = kEngine;
    both.emplace_back("Authorization", "Bearer " + access);
    // The listing, as fetchMarketplaceApps.ts reads it: the newest version, flagged when this
    // engine is too old for it.
    auto list = s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", both);
    ASSERT_EQ(list.status, 200) << list.body;
    json::value listings = list.Json();
    ASSERT_EQ(listings.as_array().size(), 1U) << list.body;
    const json::object& l = listings.as_array()[0].as_object();
    EXPECT_EQ(Str(l, {"appId"}), kAppId);
    EXPECT_EQ(Str(l, {"latest", "version"}), "1.3.0");
    EXPECT_TRUE(l.at("latest").at("versionIncompatible").as_bool());
    for (const char* k :
         {"internalId",
          "id",
          "name",
          "nameSlug",
          "description",
          "requiredApiVersion",
          "classFile",
          "iconFile",
          "iconFileData",
          "status",
          "createdDate",
          "modifiedDate"}) {
        EXPECT_TRUE(l.at("latest").as_object().contains(k) && l.at("latest").at(k).is_string())
            << k;
    }
    EXPECT_TRUE(l.at("latest").at("categories").is_array());
    EXPECT_TRUE(l.at("latest").at("author").at("support").is_string());
    EXPECT_TRUE(l.at("latest").at("detailedDescription").is_object());
    EXPECT_TRUE(l.at("latest").at("isVisible").is_bool());
    for (const char* k :
         {"isAddon", "isEnterpriseOnly", "isBundle", "isPurchased", "isSubscribed"}) {
        EXPECT_TRUE(l.at(k).is_bool()) << k;
    }
    EXPECT_TRUE(l.at("bundledIn").is_array());
    EXPECT_TRUE(l.at("price").is_number());
    EXPECT_EQ(Str(l, {"purchaseType"}), "");
    // Install: the info (an array of exactly one), then the zip with a fresh download token.
    auto info = s_->Anonymous().Do(
        "GET", std::string("/marketplace/v1/apps/") + kAppId + "?appVersion=1.2.0", "", both
    );
    ASSERT_EQ(info.status, 200) << info.body;
    ASSERT_EQ(info.Json().as_array().size(), 1U);
    EXPECT_EQ(Str(info.Json().as_array()[0], {"version"}), "1.2.0");
    // The server's own schema (zod, from fetchMarketplaceApps.ts), run on these answers.
    ExpectValidForTheServer(list.body, info.body, {});
    auto too_new = s_->Anonymous().Do(
        "GET", std::string("/marketplace/v1/apps/") + kAppId + "?appVersion=1.3.0", "", both
    );
    EXPECT_EQ(too_new.status, 426);
    EXPECT_EQ(Str(too_new.Json(), {"errorMsg"}), "unsupported version");
    std::string download =
        Str(TokenRequest(creds, "marketplace:download").Json(), {"access_token"});
    auto bytes = s_->Anonymous().Do(
        "GET",
        std::string("/marketplace/v2/apps/") + kAppId + "/download/1.2.0?token=" + download,
        "",
        kEngine
    );
    ASSERT_EQ(bytes.status, 200) << bytes.body.substr(0, 200);
    EXPECT_EQ(bytes.headers["content-type"], "application/zip");
    EXPECT_TRUE(bytes.body == zip) << "the bytes published are the bytes served";
    auto again = s_->Anonymous().Do(
        "GET",
        std::string("/marketplace/v2/apps/") + kAppId + "/download/1.2.0?token=" + download,
        "",
        kEngine
    );
    EXPECT_EQ(again.status, 403) << "a download token works once";
    EXPECT_GE(MeteredTotal(*s_, "marketplace_downloads", acme_, 1), 1) << "downloads are metered";
    // Two tokens asked for in the same second are two tokens: installing two apps works.
    std::string t1 = Str(TokenRequest(creds, "marketplace:download").Json(), {"access_token"});
    std::string t2 = Str(TokenRequest(creds, "marketplace:download").Json(), {"access_token"});
    EXPECT_NE(t1, t2);
    for (const std::string& t : {t1, t2}) {
        EXPECT_EQ(
            s_->Anonymous()
                .Do("GET",
                    std::string("/marketplace/v2/apps/") + kAppId + "/download/1.2.0?token=" + t,
                    "",
                    kEngine)
                .status,
            200
        );
    }
    auto no_scope = s_->Anonymous().Do(
        "GET",
        std::string("/marketplace/v2/apps/") + kAppId + "/download/1.2.0?token=" +
            Str(TokenRequest(creds, "marketplace:read").Json(), {"access_token"}),
        "",
        kEngine
    );
    EXPECT_EQ(no_scope.status, 403) << no_scope.body;
    // notifyMarketplace: Bearer, no engine header.
    auto notified = s_->Anonymous().Do(
        "POST",
        std::string("/marketplace/v1/apps/") + kAppId + "/install",
        R"({"action":"install","appName":"Poll Bot","appSlug":"poll-bot","appVersion":"1.2.0","rocketChatVersion":"6.14.0","engineVersion":"1.45.0-alpha","siteUrl":"https://chat.acme.test"})",
        Bearer(access)
    );
    EXPECT_EQ(notified.status, 200) << notified.body;
    // The daily sync: what this workspace runs.
    auto mine = s_->Anonymous().Do(
        "GET",
        "/marketplace/v1/workspaces/" + Str(creds, {"workspaceId"}) + "/apps?seats=42",
        "",
        Bearer(access)
    );
    ASSERT_EQ(mine.status, 200) << mine.body;
    json::value mine_json = mine.Json();
    ASSERT_EQ(mine_json.as_array().size(), 1U) << mine.body;
    EXPECT_EQ(Str(mine_json.as_array()[0], {"latest", "id"}), kAppId);
    EXPECT_EQ(
        s_->Anonymous()
            .Do("GET", "/marketplace/v1/app-request/stats", "", both)
            .Json()
            .at("data")
            .at("totalUnseen")
            .as_int64(),
        0
    );
    auto app = s_->Admin().Do("GET", "/v1/apps");
    EXPECT_NE(app.body.find("\"active_installs\":1"), std::string::npos) << app.body;
    // Installs over time: today's count, for the dashboard's chart.
    std::string today = core::FormatRfc3339(core::SystemClock().Now()).substr(0, 10);
    EXPECT_NE(app.body.find("\"installs_by_day\":{\"" + today + "\":1}"), std::string::npos)
        << app.body;
    // Its own listener answers at the root, as OVERWRITE_INTERNAL_MARKETPLACE_URL points at it.
    std::smatch m;
    std::string log = s_->process().Log();
    ASSERT_TRUE(std::regex_search(
        log, m, std::regex(R"re("msg":"marketplace listening"[^\n]*"port":(\d+))re")
    ));
    Client market("127.0.0.1", std::stoi(m[1]));
    auto root = market.Do("GET", "/v1/categories", "", both);
    EXPECT_EQ(root.status, 200) << root.body;
}

TEST_F(StockServerTest, MarketplaceRefusesBadPackagesEnginesAndOtherTenantsPrivateApps) {
    auto not_zip = Publish(*s_, "this is not a zip");
    EXPECT_EQ(not_zip.status, 400) << not_zip.body;
    EXPECT_NE(not_zip.body.find("not a zip"), std::string::npos);
    auto bad_version =
        Publish(*s_, SamplePackage("0b0c3d5e-1111-4222-8333-944455556666", "one", "^1.0.0"));
    EXPECT_EQ(bad_version.status, 400) << bad_version.body;
    EXPECT_NE(bad_version.body.find("app.json: version"), std::string::npos);
    auto as_json =
        s_->Admin().Do("POST", "/v1/apps:publish", "{}", {{"Content-Type", "application/json"}});
    EXPECT_EQ(as_json.status, 415) << as_json.body;
    EXPECT_EQ(
        s_->As(op_).Do("POST", "/v1/apps:publish", "x", {{"Content-Type", "application/zip"}}
        ).status,
        403
    );
    // A private app: another tenant's workspace does not see it.
    std::string other = s_->Tenant("stock-other");
    auto priv = Publish(
        *s_,
        SamplePackage(
            "7e57ab1e-2222-4333-8444-955566667777",
            "1.0.0",
            "^1.0.0",
            0,
            "Private Bot",
            "private-bot"
        ),
        "?tenant=" + other
    );
    ASSERT_EQ(priv.status, 201) << priv.body;
    json::value creds = Registered("market-private");
    Headers both = kEngine;
    both.emplace_back(
        "Authorization", "Bearer " + Str(TokenRequest(creds).Json(), {"access_token"})
    );
    auto list = s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", both);
    EXPECT_EQ(list.body.find("7e57ab1e"), std::string::npos) << list.body;
    auto direct = s_->Anonymous().Do(
        "GET",
        "/marketplace/v1/apps/7e57ab1e-2222-4333-8444-955566667777?appVersion=1.0.0",
        "",
        both
    );
    EXPECT_EQ(direct.status, 404);
    // An enterprise-only app: refused to a workspace whose plan lacks enterprise apps.
    auto ent = Publish(
        *s_,
        SamplePackage(
            "e17e0000-4444-4555-8666-a77788889999", "1.0.0", "^1.0.0", 0, "Audit Pro", "audit-pro"
        )
    );
    ASSERT_EQ(ent.status, 201) << ent.body;
    std::string app_obj = Str(ent.Json(), {"app", "metadata", "id"});
    ASSERT_EQ(
        s_->Admin()
            .Do("PUT",
                "/v1/apps/" + app_obj,
                R"({"spec":{"enterprise_only":true,"categories":["Compliance"]}})")
            .status,
        200
    );
    auto download = [&](const json::value& c) {
        return s_->Anonymous().Do(
            "GET",
            "/marketplace/v2/apps/e17e0000-4444-4555-8666-a77788889999/download/1.0.0?token=" +
                Str(TokenRequest(c, "marketplace:download").Json(), {"access_token"}),
            "",
            kEngine
        );
    };
    auto refused = download(creds);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_NE(refused.body.find("enterprise"), std::string::npos);
    ASSERT_EQ(
        s_->Admin()
            .Do("POST",
                "/v1/plans",
                R"({"metadata":{"name":"enterprise"},"spec":{"memory_mb":1024,"cpu_millis":1000,"entitlements":{"enterprise_apps":true}}})"
            )
            .status,
        201
    );
    ASSERT_EQ(
        s_->Admin()
            .Do("PUT",
                "/v1/workspaces/" + Str(creds, {"workspaceId"}),
                R"({"spec":{"plan":"enterprise"}})")
            .status,
        200
    );
    auto allowed = download(creds);
    EXPECT_EQ(allowed.status, 200) << allowed.body.substr(0, 200);
    EXPECT_EQ(allowed.headers["content-type"], "application/zip");
    // A tenant whose entitlement to marketplace downloads is used up (here: none granted) is
    // refused the download (metering's entitlements, enforced where the usage happens).
    ASSERT_EQ(
        s_->Admin()
            .Do("POST",
                "/v1/features",
                R"({"metadata":{"name":"marketplace-downloads"},"spec":{"key":"marketplace_downloads","meter_slug":"marketplace_downloads"}})"
            )
            .status,
        201
    );
    auto ent_create = s_->Admin().Do(
        "POST",
        "/api/v1/subjects/" + acme_ + "/entitlements",
        R"({"type":"metered","featureKey":"marketplace_downloads","usagePeriod":{"interval":"MONTH"}})"
    );
    ASSERT_EQ(ent_create.status, 201) << ent_create.body;
    // Entitlements are read again within a second of a change.
    HttpResponse gated;
    for (int i = 0; i < 40; ++i) {
        gated = download(creds);
        if (gated.status == 403) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(gated.status, 403) << gated.body.substr(0, 200);
    EXPECT_NE(gated.body.find("entitlement to marketplace_downloads is used up"), std::string::npos)
        << gated.body.substr(0, 300);
    // An engine header that is not a version: 400 with code 200, as the server maps it.
    auto engine = s_->Anonymous().Do(
        "GET", "/marketplace/v1/apps", "", {{"X-Apps-Engine-Version", "banana"}}
    );
    EXPECT_EQ(engine.status, 400);
    EXPECT_EQ(engine.Json().at("code").as_int64(), 200);
}

std::string Base64(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t n = (static_cast<uint8_t>(in[i]) << 16U) |
                     (static_cast<uint8_t>(in[i + 1]) << 8U) | static_cast<uint8_t>(in[i + 2]);
        for (int k = 18; k >= 0; k -= 6) {
            out.push_back(kAlphabet[(n >> k) & 63U]);
        }
    }
    if (i < in.size()) {
        uint32_t n = static_cast<uint8_t>(in[i]) << 16U;
        if (i + 1 < in.size()) {
            n |= static_cast<uint8_t>(in[i + 1]) << 8U;
        }
        out.push_back(kAlphabet[(n >> 18U) & 63U]);
        out.push_back(kAlphabet[(n >> 12U) & 63U]);
        out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6U) & 63U] : '=');
        out.push_back('=');
    }
    return out;
}

TEST_F(StockServerTest, BundlesFeaturedSectionsScreenshotsAndPricingPlansReachTheServer) {
    constexpr const char* kChess = "c4e55000-1111-4222-8333-944455550001";
    auto pub =
        Publish(*s_, SamplePackage(kChess, "2.0.0", "^1.0.0", 0, "Chess Club", "chess-club"));
    ASSERT_EQ(pub.status, 201) << pub.body;
    std::string app_obj = Str(pub.Json(), {"app", "metadata", "id"});
    auto priced = s_->Admin().Do(
        "PUT",
        "/v1/apps/" + app_obj,
        R"({"spec":{"categories":["Games"],"purchase_type":"subscription","price":4,
            "pricing_plans":[{"strategy":"monthly","price":4,"trial_days":14,"per_seat":true,
                              "tiers":[{"minimum":1,"maximum":100,"price":4},{"minimum":101,"maximum":1000,"price":3}]},
                             {"strategy":"yearly","price":40}],
            "screenshots":[{"file_name":"board.png","url":"https://cdn.acme.test/board.png"}]}})"
    );
    ASSERT_EQ(priced.status, 200) << priced.body;
    auto bad_plan = s_->Admin().Do(
        "PUT",
        "/v1/apps/" + app_obj,
        R"({"spec":{"purchase_type":"subscription","pricing_plans":[{"strategy":"weekly","price":1}]}})"
    );
    EXPECT_EQ(bad_plan.status, 400);
    EXPECT_NE(bad_plan.body.find("spec.pricing_plans[0].strategy"), std::string::npos)
        << bad_plan.body;
    auto no_plan = s_->Admin().Do(
        "PUT", "/v1/apps/" + app_obj, R"({"spec":{"purchase_type":"subscription"}})"
    );
    EXPECT_EQ(no_plan.status, 400) << no_plan.body;
    auto bad_shot = s_->Admin().Do(
        "PUT",
        "/v1/apps/" + app_obj,
        R"j({"spec":{"screenshots":[{"file_name":"x.png","url":"javascript:alert(1)"}]}})j"
    );
    EXPECT_EQ(bad_shot.status, 400) << bad_shot.body;
    auto bundle = s_->Admin().Do(
        "POST",
        "/v1/appbundles",
        fmt::format(
            R"({{"metadata":{{"name":"games-pack"}},"spec":{{"title":"Games pack","apps":["{}"]}}}})",
            kChess
        )
    );
    ASSERT_EQ(bundle.status, 201) << bundle.body;
    std::string bundle_id = Str(bundle.Json(), {"metadata", "id"});
    auto section = s_->Admin().Do(
        "POST",
        "/v1/appsections",
        fmt::format(
            R"({{"metadata":{{"name":"editors-pick"}},"spec":{{"label":"Editors' pick","order":1,"apps":["{}","no-such-app"]}}}})",
            kChess
        )
    );
    ASSERT_EQ(section.status, 201) << section.body;
    EXPECT_EQ(
        s_->Admin()
            .Do("POST", "/v1/appsections", R"({"metadata":{"name":"x"},"spec":{"apps":[]}})")
            .status,
        400
    ) << "a section needs its label";

    json::value creds = Registered("market-extras");
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    Headers both = kEngine;
    both.emplace_back("Authorization", "Bearer " + access);
    auto list = s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", both);
    ASSERT_EQ(list.status, 200);
    const json::object* chess = nullptr;
    json::value listings = list.Json();
    for (const auto& l : listings.as_array()) {
        if (Str(l, {"appId"}) == kChess) {
            chess = &l.as_object();
        }
    }
    ASSERT_NE(chess, nullptr) << list.body;
    EXPECT_EQ(Str(*chess, {"purchaseType"}), "subscription");
    const json::array& plans = chess->at("pricingPlans").as_array();
    ASSERT_EQ(plans.size(), 2U);
    EXPECT_EQ(Str(plans[0], {"strategy"}), "monthly");
    EXPECT_EQ(plans[0].at("trialDays").as_int64(), 14);
    EXPECT_TRUE(plans[0].at("isPerSeat").as_bool());
    EXPECT_EQ(plans[0].at("tiers").as_array().size(), 2U);
    ASSERT_EQ(chess->at("bundledIn").as_array().size(), 1U);
    EXPECT_EQ(Str(chess->at("bundledIn").as_array()[0], {"bundleId"}), bundle_id);
    EXPECT_EQ(Str(chess->at("bundledIn").as_array()[0], {"bundleName"}), "Games pack");
    // The bundle's apps: Bearer, no engine header (rest.ts bundles/:id/apps).
    auto in_bundle = s_->Anonymous().Do(
        "GET", "/marketplace/v1/bundles/" + bundle_id + "/apps", "", Bearer(access)
    );
    ASSERT_EQ(in_bundle.status, 200) << in_bundle.body;
    ASSERT_EQ(in_bundle.Json().as_array().size(), 1U);
    EXPECT_EQ(
        s_->Anonymous()
            .Do("GET", "/marketplace/v1/bundles/abn_nope/apps", "", Bearer(access))
            .status,
        404
    );
    auto featured = s_->Anonymous().Do("GET", "/marketplace/v1/featured-apps", "", both);
    ASSERT_EQ(featured.status, 200) << featured.body;
    json::value featured_json = featured.Json();
    const json::array& sections = featured_json.at("sections").as_array();
    ASSERT_EQ(sections.size(), 1U) << featured.body;
    EXPECT_EQ(Str(sections[0], {"slug"}), "editors-pick");
    EXPECT_EQ(Str(sections[0], {"i18nLabel"}), "Editors' pick");
    EXPECT_EQ(sections[0].at("apps").as_array().size(), 1U) << "an unknown app id is left out";
    // Screenshots: no Bearer, no engine (rest.ts :id/screenshots).
    auto shots =
        s_->Anonymous().Do("GET", std::string("/marketplace/v1/apps/") + kChess + "/screenshots");
    ASSERT_EQ(shots.status, 200) << shots.body;
    ASSERT_EQ(shots.Json().as_array().size(), 1U);
    EXPECT_EQ(Str(shots.Json().as_array()[0], {"accessUrl"}), "https://cdn.acme.test/board.png");
    auto info = s_->Anonymous().Do(
        "GET", std::string("/marketplace/v1/apps/") + kChess + "?appVersion=2.0.0", "", both
    );
    ExpectValidForTheServer(
        list.body,
        info.body,
        {{"featured", featured.body}, {"bundle", in_bundle.body}, {"screenshots", shots.body}}
    );
}

TEST_F(StockServerTest, AppRequestsAreTakenCountedSeenAndNotifiedAsTheServerAsks) {
    constexpr const char* kTodo = "70d00000-1111-4222-8333-944455550002";
    ASSERT_EQ(Publish(*s_, SamplePackage(kTodo, "1.0.0", "^1.0.0", 0, "Todo", "todo")).status, 201);
    json::value creds = Registered("market-requests");
    std::string ws = Str(creds, {"workspaceId"});
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    // buildExternalAppRequest: the page's URL, the requester and admins as base64 JSON.
    std::string requester = Base64(
        R"({"id":"u1","username":"ada","name":"Ada L","nickname":null,"emails":["ada@acme.test"]})"
    );
    std::string admins = Base64(R"([{"id":"a1","username":"boss","name":"Boss"}])");
    std::string page_path = std::string("/marketplace/apps/") + kTodo +
                            "/requestAccess?workspaceId=" + FormEncode(ws) +
                            "&frameworkVersion=1.45.0&requester=" + FormEncode(requester) +
                            "&admins=" + FormEncode(admins);
    auto page = s_->Anonymous().Do("GET", page_path);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("Request Todo"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
    EXPECT_EQ(page.headers.count("x-frame-options"), 0U) << "the server shows it in a frame";
    auto form = "workspaceId=" + FormEncode(ws) + "&requester=" + FormEncode(requester) +
                "&admins=" + FormEncode(admins) + "&message=" + FormEncode("we need <todo> lists");
    auto sent = s_->Anonymous().Do(
        "POST",
        std::string("/marketplace/apps/") + kTodo + "/requestAccess",
        form,
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    ASSERT_EQ(sent.status, 200) << sent.body;
    EXPECT_NE(sent.body.find("Request sent"), std::string::npos);
    // Asking again renews the one request; another user makes a second.
    ASSERT_EQ(
        s_->Anonymous()
            .Do("POST",
                std::string("/marketplace/apps/") + kTodo + "/requestAccess",
                form,
                {{"Content-Type", "application/x-www-form-urlencoded"}})
            .status,
        200
    );
    std::string other_user = Base64(R"({"id":"u2","username":"bob","name":"Bob"})");
    ASSERT_EQ(
        s_->Anonymous()
            .Do("POST",
                std::string("/marketplace/apps/") + kTodo + "/requestAccess",
                "workspaceId=" + FormEncode(ws) + "&requester=" + FormEncode(other_user),
                {{"Content-Type", "application/x-www-form-urlencoded"}})
            .status,
        200
    );
    // Bad pages: not base64, no requester id, no such workspace, no such app.
    for (const auto& [query, why] : std::vector<std::pair<std::string, std::string>>{
             {"workspaceId=" + FormEncode(ws) + "&requester=not*base64", "requester"},
             {"workspaceId=" + FormEncode(ws) + "&requester=" + FormEncode(Base64("{}")),
              "requester.id"},
             {"workspaceId=wks_nope&requester=" + FormEncode(requester), "workspace"}}) {
        auto bad = s_->Anonymous().Do(
            "GET", std::string("/marketplace/apps/") + kTodo + "/requestAccess?" + query
        );
        EXPECT_EQ(bad.status, 400) << query;
        EXPECT_NE(bad.body.find(why), std::string::npos) << bad.body;
    }
    EXPECT_EQ(
        s_->Anonymous()
            .Do("GET",
                "/marketplace/apps/no-such-app/requestAccess?workspaceId=" + FormEncode(ws) +
                    "&requester=" + FormEncode(requester))
            .status,
        400
    );
    // The admin's side, as rest.ts app-request calls it: list, stats, seen.
    auto listed = s_->Anonymous().Do(
        "GET",
        std::string("/marketplace/v1/app-request?appId=") + kTodo + "&q=&sort=&limit=25&offset=0",
        "",
        Bearer(access)
    );
    ASSERT_EQ(listed.status, 200) << listed.body;
    json::value page_json = listed.Json();
    ASSERT_EQ(page_json.at("data").as_array().size(), 2U) << listed.body;
    EXPECT_EQ(page_json.at("meta").at("total").as_int64(), 2);
    std::string ada_request;
    for (const auto& r : page_json.at("data").as_array()) {
        if (Str(r, {"requester", "username"}) == "ada") {
            ada_request = Str(r, {"id"});
            EXPECT_EQ(Str(r, {"mesage"}), "we need <todo> lists");
            EXPECT_EQ(r.at("requester").at("emails").as_array().size(), 1U);
            EXPECT_EQ(Str(r.at("admins").as_array()[0], {"username"}), "boss");
        }
    }
    ASSERT_FALSE(ada_request.empty()) << listed.body;
    ExpectValidForTheServer(
        s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", kEngine).body,
        s_->Anonymous()
            .Do("GET",
                std::string("/marketplace/v1/apps/") + kTodo + "?appVersion=1.0.0",
                "",
                kEngine)
            .body,
        {{"requests", listed.body}}
    );
    auto stats = [&] {
        return s_->Anonymous()
            .Do("GET", "/marketplace/v1/app-request/stats", "", Bearer(access))
            .Json()
            .at("data");
    };
    EXPECT_EQ(stats().at("totalUnseen").as_int64(), 2);
    auto seen = s_->Anonymous().Do(
        "POST",
        "/marketplace/v1/app-request/markAsSeen",
        R"({"ids":[")" + ada_request + R"("]})",
        Bearer(access)
    );
    ASSERT_EQ(seen.status, 200) << seen.body;
    EXPECT_TRUE(seen.Json().at("success").as_bool());
    EXPECT_EQ(stats().at("totalSeen").as_int64(), 1);
    EXPECT_EQ(stats().at("totalUnseen").as_int64(), 1);
    EXPECT_EQ(
        s_->Anonymous()
            .Do("POST", "/marketplace/v1/app-request/markAsSeen", R"({"ids":"x"})", Bearer(access))
            .status,
        400
    );
    EXPECT_EQ(
        s_->Anonymous()
            .Do("GET", "/marketplace/v1/app-request?q=banana", "", Bearer(access))
            .status,
        400
    );
    EXPECT_EQ(s_->Anonymous().Do("GET", "/marketplace/v1/app-request/stats").status, 401);
    // The twice-daily cron: which installed apps have requesters to tell, then mark them told.
    auto pending =
        s_->Anonymous().Do("GET", "/marketplace/v1/app-request/sent/pending", "", Bearer(access));
    ASSERT_EQ(pending.status, 200) << pending.body;
    ASSERT_EQ(pending.Json().at("data").as_array().size(), 1U) << pending.body;
    EXPECT_EQ(pending.Json().at("data").as_array()[0].as_string(), kTodo);
    auto not_sent = s_->Anonymous().Do(
        "GET",
        std::string("/marketplace/v1/app-request?appId=") + kTodo +
            "&q=notification-not-sent&limit=100&offset=0",
        "",
        Bearer(access)
    );
    EXPECT_EQ(not_sent.Json().at("meta").at("total").as_int64(), 2);
    ASSERT_EQ(
        s_->Anonymous()
            .Do("POST",
                std::string("/marketplace/v1/app-request/markAsSent/") + kTodo,
                "",
                Bearer(access))
            .status,
        200
    );
    EXPECT_EQ(
        s_->Anonymous()
            .Do("GET", "/marketplace/v1/app-request/sent/pending", "", Bearer(access))
            .Json()
            .at("data")
            .as_array()
            .size(),
        0U
    );
    // Another workspace sees none of these.
    json::value other = Registered("market-requests-2");
    auto theirs = s_->Anonymous().Do(
        "GET",
        "/marketplace/v1/app-request/stats",
        "",
        Bearer(Str(TokenRequest(other).Json(), {"access_token"}))
    );
    EXPECT_EQ(theirs.Json().at("data").at("totalUnseen").as_int64(), 0) << theirs.body;
    // The tenant's operators see their workspaces' requests through the API.
    auto api = s_->As(op_).Do("GET", "/v1/apprequests");
    ASSERT_EQ(api.status, 200) << api.body;
    EXPECT_EQ(api.Json().at("items").as_array().size(), 2U) << api.body;
}

TEST_F(StockServerTest, TheCliPublishesListsAndYanksApps) {
    TempDir dir;
    std::string file = dir.path() + "/dice.zip";
    {
        std::ofstream out(file, std::ios::binary);
        out << SamplePackage(
            "d1ced1ce-3333-4444-8555-a66677778888", "0.9.1", "^1.0.0", 0, "Dice", "dice"
        );
    }
    std::string out, err;
    std::vector<std::string> base = {"--server", s_->Url(), "--token", s_->process().AdminToken()};
    auto run = [&](std::vector<std::string> args) {
        std::vector<std::string> full = base;
        full.insert(full.end(), args.begin(), args.end());
        return RunCli(full, out, err);
    };
    ASSERT_EQ(run({"app", "publish", file}), 0) << err;
    EXPECT_NE(out.find("dice"), std::string::npos) << out;
    EXPECT_NE(out.find("0.9.1"), std::string::npos) << out;
    EXPECT_NE(run({"app", "publish", file}), 0) << "published twice: " << out;
    EXPECT_NE(err.find("already published"), std::string::npos) << err;
    ASSERT_EQ(run({"app", "versions", "dice"}), 0) << err;
    EXPECT_NE(out.find("0.9.1"), std::string::npos) << out;
    // One version withdrawn: the newest left is listed.
    {
        std::ofstream out2(dir.path() + "/dice2.zip", std::ios::binary);
        out2 << SamplePackage(
            "d1ced1ce-3333-4444-8555-a66677778888", "0.9.2", "^1.0.0", 0, "Dice", "dice"
        );
    }
    ASSERT_EQ(run({"app", "publish", dir.path() + "/dice2.zip"}), 0) << err;
    ASSERT_EQ(run({"app", "yank", "dice", "--version", "0.9.2"}), 0) << err;
    auto after_one = s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", kEngine);
    EXPECT_NE(after_one.body.find(R"("version":"0.9.1")"), std::string::npos) << after_one.body;
    EXPECT_EQ(after_one.body.find(R"("version":"0.9.2")"), std::string::npos) << after_one.body;
    EXPECT_NE(run({"app", "yank", "dice", "--version", "7.0.0"}), 0);
    ASSERT_EQ(run({"app", "yank", "dice"}), 0) << err;
    auto list = s_->Anonymous().Do("GET", "/marketplace/v1/apps", "", kEngine);
    EXPECT_EQ(list.body.find("d1ced1ce"), std::string::npos) << "a yanked app is not listed";
    ASSERT_EQ(run({"app", "list"}), 0) << err;
    EXPECT_NE(out.find("dice"), std::string::npos);
}

TEST_F(StockServerTest, BadAnnouncementsAndInteractionsAreRefusedWithTheField) {
    const std::pair<json::object, std::string> bad[] = {
        {{{"text", "x"}}, "spec.ends_at"},
        {{{"text", ""}, {"ends_at", InHours(1)}}, "spec.text"},
        {{{"text", "x"}, {"ends_at", InHours(1)}, {"severity", "loud"}}, "spec.severity"},
        {{{"text", "x"}, {"ends_at", InHours(1)}, {"starts_at", InHours(2)}}, "spec.ends_at"},
        {{{"text", "x"}, {"ends_at", InHours(1)}, {"link", {{"url", "javascript:alert(1)"}}}},
         "spec.link.url"},
        {{{"text", "x"},
          {"ends_at", InHours(1)},
          {"audience", {{"versions", {{"min", "7"}, {"below", "6"}}}}}},
         "spec.audience.versions"},
        {{{"text", "x"}, {"ends_at", InHours(1)}, {"platforms", json::array{"tv"}}},
         "spec.platforms[0]"},
    };
    for (const auto& [spec, field] : bad) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/announcements",
            json::serialize(json::object{{"metadata", {{"name", "bad"}}}, {"spec", spec}})
        );
        EXPECT_EQ(r.status, 400) << json::serialize(spec) << " " << r.body;
        EXPECT_EQ(Str(r.Json(), {"error", "details", "field"}), field) << r.body;
    }
    // Only platform admins write them.
    auto op = s_->As(op_).Do(
        "POST",
        "/v1/announcements",
        R"({"metadata":{"name":"mine"},"spec":{"text":"x","ends_at":")" + InHours(1) + R"("}})"
    );
    EXPECT_EQ(op.status, 403) << op.body;

    json::value creds = Registered("bad-interactions");
    std::string access = Str(TokenRequest(creds).Json(), {"access_token"});
    for (const std::string& body :
         {std::string("not json"),
          std::string(R"({"type":"viewClosed","payload":{"viewId":"nope"}})"),
          std::string(R"({"type":"somethingElse"})"),
          std::string(R"([1,2])")}) {
        auto r =
            s_->Anonymous().Do("POST", "/api/v3/comms/workspace/interaction", body, Bearer(access));
        EXPECT_EQ(r.status, 400) << body << " " << r.body;
        EXPECT_EQ(Str(r.Json(), {"error"}), "invalid_request");
    }
    auto gone = s_->Anonymous().Do(
        "POST",
        "/api/v3/comms/workspace/interaction",
        R"({"type":"viewClosed","payload":{"viewId":"ann_00000000000000000000"}})",
        Bearer(access)
    );
    EXPECT_EQ(gone.status, 404) << gone.body;
    auto unauth = s_->Anonymous().Do("POST", "/api/v3/comms/workspace", "{}");
    EXPECT_EQ(unauth.status, 401);
}

}  // namespace
}  // namespace hangar::testing
