// The workspace cloud services against protocols/workspace-cloud.md: registration by token and
// by device code, OAuth client credentials, sync with a signed license, the statistics
// collector (on /collector and on a listener of its own), the sample workspace doing all of it,
// and a table of bad requests with the statuses the contract requires.

#include <filesystem>
#include <fstream>
#include <regex>

#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>

#include "fixture.hpp"
#include "prometheus_process.hpp"

namespace hangar::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers Bearer(const std::string& t) {
    return {{"Authorization", "Bearer " + t}};
}
const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

// The payload of "<b64url(payload)>.<b64url(sig)>" when the Ed25519 signature checks out against
// the standard-base64 public key; "" otherwise.
std::string Verified(const std::string& signed_text, const std::string& public_b64) {
    if (sodium_init() < 0) {
        return "";
    }
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t len = 0;
    if (sodium_base642bin(
            pk,
            sizeof pk,
            public_b64.data(),
            public_b64.size(),
            nullptr,
            &len,
            nullptr,
            sodium_base64_VARIANT_ORIGINAL
        ) != 0) {
        return "";
    }
    auto dot = signed_text.find('.');
    auto decode = [](const std::string& in) {
        std::string out(in.size(), '\0');
        size_t n = 0;
        if (sodium_base642bin(
                reinterpret_cast<unsigned char*>(out.data()),
                out.size(),
                in.data(),
                in.size(),
                nullptr,
                &n,
                nullptr,
                sodium_base64_VARIANT_URLSAFE_NO_PADDING
            ) != 0) {
            return std::string();
        }
        out.resize(n);
        return out;
    };
    if (dot == std::string::npos) {
        return "";
    }
    std::string payload = decode(signed_text.substr(0, dot)),
                sig = decode(signed_text.substr(dot + 1));
    if (sig.size() != crypto_sign_BYTES ||
        crypto_sign_verify_detached(
            reinterpret_cast<const unsigned char*>(sig.data()),
            reinterpret_cast<const unsigned char*>(payload.data()),
            payload.size(),
            pk
        ) != 0) {
        return "";
    }
    return payload;
}

// The port the collector's own listener took (from the server's log).
int CollectorPort(const ServerProcess& p) {
    std::smatch m;
    std::string log = p.Log();
    static const std::regex re(R"re("msg":"collector listening"[^\n]*"port":(\d+))re");
    return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

class WorkspaceCloudTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--collector-listen",
             "127.0.0.1:0",
             "--public-rate",
             "1000"}
        );
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
        acme_ = s_->Tenant("acme");
        beta_ = s_->Tenant("beta");
        op_ = s_->Token(acme_, "operator");
        viewer_ = s_->Token(acme_, "viewer");
        beta_op_ = s_->Token(beta_, "operator");
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }

    // A workspace in acme and its one-time registration token.
    static std::pair<std::string, std::string> NewWorkspace(const std::string& name) {
        auto c = s_->As(op_).Do(
            "POST",
            "/v1/workspaces",
            json::serialize(json::object{{"metadata", {{"name", name}}}, {"spec", json::object{}}})
        );
        EXPECT_EQ(c.status, 201) << c.body;
        std::string id = Str(c.Json(), {"metadata", "id"});
        auto t = s_->As(op_).Do("POST", "/v1/workspaces/" + id + ":registration-token", "");
        EXPECT_EQ(t.status, 201) << t.body;
        return {id, Str(t.Json(), {"token"})};
    }
    // Registers with the token; returns the credentials the contract answers.
    static json::value Register(const std::string& token) {
        auto r = s_->Anonymous().Do(
            "POST",
            "/api/oauth/clients",
            R"({"email":"admin@acme.test","client_name":"Acme chat","redirect_uris":["https://chat.acme.test/cb"]})",
            Bearer(token)
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.Json();
    }
    static std::string AccessToken(const json::value& creds, const std::string& scope) {
        auto r = s_->Anonymous().Do(
            "POST",
            "/api/oauth/token",
            "client_id=" + Str(creds, {"client_id"}) +
                "&client_secret=" + Str(creds, {"client_secret"}) + "&scope=" + scope +
                "&grant_type=client_credentials&redirect_uri=",
            kForm
        );
        EXPECT_EQ(r.status, 200) << r.body;
        return r.status == 200 ? Str(r.Json(), {"access_token"}) : "";
    }

    static LiveServer* s_;
    static std::string acme_, beta_, op_, viewer_, beta_op_;
};
LiveServer* WorkspaceCloudTest::s_ = nullptr;
std::string WorkspaceCloudTest::acme_, WorkspaceCloudTest::beta_, WorkspaceCloudTest::op_,
    WorkspaceCloudTest::viewer_, WorkspaceCloudTest::beta_op_;

TEST_F(WorkspaceCloudTest, RegistrationTokenTokenGrantSyncAndSignedLicense) {
    auto [id, token] = NewWorkspace("chat");
    ASSERT_TRUE(token.starts_with("hwr_")) << token;
    json::value creds = Register(token);
    EXPECT_EQ(Str(creds, {"workspaceId"}), id);
    EXPECT_EQ(Str(creds, {"client_id"}), id);
    EXPECT_EQ(Str(creds, {"client_name"}), "Acme chat");
    EXPECT_EQ(Str(creds, {"registration_client_uri"}), s_->Url() + "/api/v2/workspaces/" + id);
    EXPECT_GT(
        creds.at("client_secret_expires_at").as_int64(), std::time(nullptr) + 80LL * 24 * 3600
    );
    EXPECT_EQ(creds.at("redirect_uris").as_array().size(), 1U);
    std::string pk = Str(creds, {"publicKey"});
    EXPECT_EQ(Str(creds.at("licenseData"), {"license"}), "")
        << "a stock server throws on any license not signed by Rocket.Chat";
    std::string license = Verified(Str(creds.at("licenseData"), {"hangarLicense"}), pk);
    ASSERT_FALSE(license.empty()) << "the license data must verify with the publicKey";
    EXPECT_EQ(Str(json::parse(license), {"workspaceId"}), id);
    EXPECT_EQ(Str(json::parse(license), {"tenant"}), acme_);

    // One-time: the token is spent.
    auto again = s_->Anonymous().Do("POST", "/api/oauth/clients", "{}", Bearer(token));
    EXPECT_EQ(again.status, 401) << again.body;
    EXPECT_EQ(Str(again.Json(), {"error"}), "invalid_token");

    // Client credentials with scopes.
    auto t = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token",
        "client_id=" + id + "&client_secret=" + Str(creds, {"client_secret"}) +
            "&scope=workspace%3Alicense%3Aread+workspace%3Astats%3Awrite&grant_type=client_"
            "credentials&redirect_uri=",
        kForm
    );
    ASSERT_EQ(t.status, 200) << t.body;
    EXPECT_EQ(Str(t.Json(), {"token_type"}), "Bearer");
    EXPECT_EQ(Str(t.Json(), {"scope"}), "workspace:license:read workspace:stats:write");
    EXPECT_EQ(t.Json().at("expires_in").as_int64(), 3600);
    std::string access = Str(t.Json(), {"access_token"});

    // Sync records what the workspace says, keeps unknown fields, and answers a signed license.
    json::object record{
        {"uniqueId", "acme-chat-1"},
        {"workspaceId", id},
        {"address", "https://chat.acme.test"},
        {"seats", 57},
        {"version", "6.12.1"},
        {"deploymentMethod", "docker"},
        {"deploymentPlatform", "linux"},
        {"MAC", 3},
        {"setupComplete", true},
        {"connectionDisable", false},
        {"wizardCountry", "de"}};
    auto sync = s_->Anonymous().Do(
        "POST", "/api/v2/workspaces/" + id + "/sync", json::serialize(record), Bearer(access)
    );
    ASSERT_EQ(sync.status, 200) << sync.body;
    EXPECT_EQ(Str(sync.Json(), {"workspaceId"}), id);
    EXPECT_EQ(Str(sync.Json(), {"publicKey"}), pk);
    EXPECT_EQ(Str(sync.Json(), {"license"}), "");
    EXPECT_FALSE(Verified(Str(sync.Json(), {"hangarLicense"}), pk).empty());
    auto ws = s_->As(viewer_).Do("GET", "/v1/workspaces/" + id);
    ASSERT_EQ(ws.status, 200);
    EXPECT_EQ(Str(ws.Json(), {"status", "registration"}), "Registered");
    EXPECT_EQ(ws.Json().at("status").at("seats").as_int64(), 57);
    EXPECT_EQ(Str(ws.Json(), {"status", "version"}), "6.12.1");
    EXPECT_EQ(Str(ws.Json(), {"status", "address"}), "https://chat.acme.test");
    EXPECT_EQ(Str(ws.Json(), {"status", "record", "wizardCountry"}), "de");
    // Seats over time, as a series in the tenant's metrics.
    auto q = s_->As(viewer_).Do("GET", "/api/v1/query?query=hangar_workspace_seats");
    ASSERT_EQ(q.status, 200) << q.body;
    EXPECT_NE(q.body.find("\"57\""), std::string::npos) << q.body;
    // A token for a scope the call does not need is refused.
    auto wrong = s_->Anonymous().Do(
        "POST",
        "/api/v2/workspaces/" + id + "/sync",
        json::serialize(record),
        Bearer(AccessToken(creds, "workspace:stats:write"))
    );
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(Str(wrong.Json(), {"error"}), "insufficient_scope");

    // Audit: the registration and the token issue are recorded.
    auto audit = s_->Admin().Do("GET", "/v1/audit?action=workspace.register");
    EXPECT_NE(audit.body.find(id), std::string::npos) << audit.body;
}

TEST_F(WorkspaceCloudTest, CollectorStoresWholeDocumentsOnceAndFeedsTheFleetView) {
    auto [id, token] = NewWorkspace("stats");
    json::value creds = Register(token);
    std::string access = AccessToken(creds, "workspace:stats:write");
    json::object doc{
        {"uniqueId", "acme-stats-1"},
        {"version", "6.12.1"},
        {"totalUsers", 300},
        {"activeUsers", 120},
        {"totalMessages", 98765},
        {"installedAt", "2025-01-01T00:00:00.000Z"},
        {"deploy", {{"method", "snap"}, {"platform", "ubuntu"}}},
        {"push", 12},
        {"host", "https://stats.acme.test"},
        {"nested", {{"deep", {{"deeper", json::array{1, 2, 3}}}}}}};
    std::string body = json::serialize(doc);
    auto first = s_->Anonymous().Do("POST", "/collector", body, Bearer(access));
    ASSERT_EQ(first.status, 200) << first.body;
    std::string stats_token = Str(first.Json(), {"statsToken"});
    std::string payload = Verified(stats_token, Str(creds, {"publicKey"}));
    ASSERT_FALSE(payload.empty()) << "the statsToken must verify with the publicKey";
    EXPECT_EQ(Str(json::parse(payload), {"workspace"}), id);

    // The same document again, and on the collector's own listener at "/": stored once, same token.
    auto resent = s_->Anonymous().Do("POST", "/collector", body, Bearer(access));
    EXPECT_EQ(Str(resent.Json(), {"statsToken"}), stats_token);
    int cport = CollectorPort(s_->process());
    ASSERT_GT(cport, 0) << s_->process().Log();
    auto own = Client("127.0.0.1", cport).Do("POST", "/", body, Bearer(access));
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_EQ(Str(own.Json(), {"statsToken"}), stats_token);

    auto hist = s_->As(viewer_).Do("GET", "/v1/workspaces/" + id + "/statistics");
    ASSERT_EQ(hist.status, 200) << hist.body;
    json::value hist_json = hist.Json();
    const auto& items = hist_json.at("items").as_array();
    ASSERT_EQ(items.size(), 1U) << hist.body;
    EXPECT_EQ(items[0].at("active_users").as_int64(), 120);
    EXPECT_EQ(items[0].at("total_messages").as_int64(), 98765);
    EXPECT_EQ(Str(items[0], {"deploy_method"}), "snap");
    EXPECT_EQ(Str(items[0], {"version"}), "6.12.1");
    EXPECT_LT(items[0].at("compressed_bytes").as_int64(), items[0].at("bytes").as_int64());
    // The whole document comes back as it was sent.
    auto whole = s_->As(viewer_).Do("GET", "/v1/statistics/reports/" + Str(items[0], {"id"}));
    ASSERT_EQ(whole.status, 200);
    EXPECT_EQ(json::parse(whole.body), json::value(doc));
    // Other tenants see none of it.
    EXPECT_EQ(
        s_->As(beta_op_).Do("GET", "/v1/statistics/reports/" + Str(items[0], {"id"})).status, 404
    );
    EXPECT_EQ(s_->As(beta_op_).Do("GET", "/v1/workspaces/" + id + "/statistics").status, 404);

    // A new day's document is a second report.
    doc["activeUsers"] = 130;
    ASSERT_EQ(
        s_->Anonymous().Do("POST", "/collector", json::serialize(doc), Bearer(access)).status, 200
    );
    json::value hist2 = s_->As(viewer_).Do("GET", "/v1/workspaces/" + id + "/statistics").Json();
    // The newest report reaches the workspace (and the fleet view) within the collector's flush.
    WaitFor(
        s_->As(viewer_),
        "/v1/workspaces/" + id,
        [](const json::value& v) {
            const auto* st = v.at("status").as_object().if_contains("statistics");
            return st != nullptr && st->as_object().contains("active_users") &&
                   st->at("active_users").as_int64() == 130;
        },
        100
    );
    ASSERT_EQ(hist2.at("items").as_array().size(), 2U);
    EXPECT_EQ(hist2.at("items").as_array()[0].at("active_users").as_int64(), 130);

    auto fleet = s_->As(viewer_).Do("GET", "/v1/statistics/fleet");
    ASSERT_EQ(fleet.status, 200) << fleet.body;
    bool found = false;
    json::value fleet_json = fleet.Json();
    for (const auto& w : fleet_json.at("workspaces").as_array()) {
        if (Str(w, {"id"}) == id) {
            found = true;
            EXPECT_EQ(w.at("active_users").as_int64(), 130);
            EXPECT_EQ(Str(w, {"deploy_method"}), "snap");
        }
    }
    EXPECT_TRUE(found) << fleet.body;
    EXPECT_NE(fleet.body.find(R"({"value":"snap","workspaces":1})"), std::string::npos)
        << fleet.body;
    EXPECT_EQ(s_->As(beta_op_).Do("GET", "/v1/statistics/fleet").body.find(id), std::string::npos);
    auto series = s_->As(viewer_).Do("GET", "/api/v1/query?query=hangar_workspace_active_users");
    EXPECT_NE(series.body.find("\"130\""), std::string::npos) << series.body;

    // An unregistered server may report too; platform admins see it.
    auto anon = s_->Anonymous().Do(
        "POST",
        "/collector",
        R"({"uniqueId":"self-hosted-9","version":"6.0.0","deploy":{"method":"docker"}})"
    );
    EXPECT_EQ(anon.status, 200) << anon.body;
    ASSERT_EQ(
        s_->Anonymous()
            .Do("POST",
                "/collector",
                R"({"uniqueId":"self-hosted-9","version":"6.1.0","deploy":{"method":"docker"},"activeUsers":4})"
            )
            .status,
        200
    );
    auto platform = s_->Admin().Do("GET", "/v1/statistics/fleet").Json();
    int rows = 0;
    for (const auto& w : platform.at("workspaces").as_array()) {
        if (Str(w, {"id"}) == "self-hosted-9") {
            ++rows;
            EXPECT_EQ(Str(w, {"registration"}), "Anonymous");
            EXPECT_EQ(Str(w, {"version"}), "6.1.0") << "its newest report";
            EXPECT_EQ(w.at("active_users").as_int64(), 4);
        }
    }
    EXPECT_EQ(rows, 1) << json::serialize(platform);
    EXPECT_NE(
        json::serialize(platform.at("versions")).find(R"({"value":"6.1.0","workspaces":1})"),
        std::string::npos
    ) << json::serialize(platform);
    EXPECT_EQ(json::serialize(platform.at("versions")).find("6.0.0"), std::string::npos)
        << "one server, counted once";
    EXPECT_EQ(
        s_->As(viewer_).Do("GET", "/v1/statistics/fleet").body.find("self-hosted-9"),
        std::string::npos
    ) << "a tenant sees only its own";
}

TEST_F(WorkspaceCloudTest, DeviceCodeFlowApprovedWithTheCli) {
    json::object record{
        {"uniqueId", "beta-site-1"},
        {"siteName", "Beta Team Chat"},
        {"address", "https://chat.beta.test"},
        {"contactEmail", "it@beta.test"},
        {"seats", 9},
        {"version", "6.11.0"},
        {"somethingNew", {{"x", 1}}}};
    auto intent =
        s_->Anonymous().Do("POST", "/api/v2/register/workspace/intent", json::serialize(record));
    ASSERT_EQ(intent.status, 200) << intent.body;
    std::string device = Str(intent.Json(), {"device_code"}),
                user = Str(intent.Json(), {"user_code"});
    EXPECT_TRUE(std::regex_match(user, std::regex("[B-Z]{4}-[B-Z]{4}"))) << user;
    EXPECT_EQ(intent.Json().at("interval").as_int64(), 5);
    EXPECT_EQ(intent.Json().at("expires_in").as_int64(), 900);
    EXPECT_NE(Str(intent.Json(), {"verification_url"}).find(user), std::string::npos);

    auto pending = s_->Anonymous().Do("GET", "/api/v2/register/workspace/poll?token=" + device);
    ASSERT_EQ(pending.status, 200) << pending.body;
    EXPECT_EQ(Str(pending.Json(), {"status"}), "authorization_pending");
    // Platform admins see what waits; a viewer may not approve.
    EXPECT_NE(s_->Admin().Do("GET", "/v1/workspaces:pending").body.find(user), std::string::npos);
    EXPECT_EQ(
        s_->As(viewer_)
            .Do("POST", "/v1/workspaces:approve", json::serialize(json::object{{"user_code", user}})
            )
            .status,
        403
    );

    std::string out, err;
    std::string lower = user;
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(c));
    }
    ASSERT_EQ(
        RunCli(
            {"--server", s_->Url(), "--token", beta_op_, "workspace", "approve", lower}, out, err
        ),
        0
    ) << err;
    EXPECT_NE(out.find("beta-team-chat"), std::string::npos) << out;
    EXPECT_NE(
        RunCli(
            {"--server", s_->Url(), "--token", beta_op_, "workspace", "approve", user}, out, err
        ),
        0
    ) << "approved twice";

    auto done = s_->Anonymous().Do("GET", "/api/v2/register/workspace/poll?token=" + device);
    ASSERT_EQ(done.status, 200) << done.body;
    json::value done_json = done.Json();
    ASSERT_TRUE(done_json.at("successful").as_bool());
    const json::value& p = done_json.at("payload");
    for (const char* k :
         {"workspaceId",
          "client_name",
          "client_id",
          "client_secret",
          "client_secret_expires_at",
          "redirect_uris",
          "publicKey",
          "registration_client_uri",
          "licenseData"}) {
        EXPECT_TRUE(p.as_object().contains(k)) << k;
    }
    for (const char* k : {"version", "address", "license", "updatedAt", "modules", "expireAt"}) {
        EXPECT_TRUE(p.at("licenseData").as_object().contains(k)) << k;
    }
    EXPECT_TRUE(p.at("licenseData").at("modules").is_string()) << "the server reads a string";
    EXPECT_EQ(p.at("licenseData").at("license"), "");
    std::string ws_id = Str(p, {"workspaceId"});
    // The credentials are handed out once.
    auto twice = s_->Anonymous().Do("GET", "/api/v2/register/workspace/poll?token=" + device);
    EXPECT_EQ(twice.status, 400);
    EXPECT_EQ(Str(twice.Json(), {"error"}), "invalid_grant");
    // The workspace is beta's, with what it told us.
    auto ws = s_->As(beta_op_).Do("GET", "/v1/workspaces/" + ws_id);
    ASSERT_EQ(ws.status, 200) << ws.body;
    EXPECT_EQ(Str(ws.Json(), {"status", "registration"}), "Registered");
    EXPECT_EQ(Str(ws.Json(), {"status", "address"}), "https://chat.beta.test");
    EXPECT_EQ(s_->As(op_).Do("GET", "/v1/workspaces/" + ws_id).status, 404);
    EXPECT_FALSE(AccessToken(p, "workspace:license:read").empty());

    // A rejected registration answers access_denied.
    auto second =
        s_->Anonymous().Do("POST", "/api/v2/register/workspace/intent", R"({"uniqueId":"evil"})");
    ASSERT_EQ(second.status, 200);
    ASSERT_EQ(
        RunCli(
            {"--server",
             s_->Url(),
             "--token",
             beta_op_,
             "workspace",
             "reject",
             Str(second.Json(), {"user_code"})},
            out,
            err
        ),
        0
    ) << err;
    auto denied = s_->Anonymous().Do(
        "GET", "/api/v2/register/workspace/poll?token=" + Str(second.Json(), {"device_code"})
    );
    EXPECT_EQ(denied.status, 400);
    EXPECT_EQ(Str(denied.Json(), {"error"}), "access_denied");
}

TEST_F(WorkspaceCloudTest, SecretRotationKeepsTheOldSecretForAGracePeriod) {
    auto [id, token] = NewWorkspace("rotating");
    json::value creds = Register(token);
    std::string out, err;
    ASSERT_EQ(
        RunCli(
            {"--server", s_->Url(), "--token", op_, "-o", "json", "workspace", "rotate", id},
            out,
            err
        ),
        0
    ) << err;
    json::value rotated = json::parse(out);
    std::string fresh = Str(rotated, {"client_secret"});
    ASSERT_FALSE(fresh.empty());
    EXPECT_NE(fresh, Str(creds, {"client_secret"}));
    EXPECT_FALSE(AccessToken(json::object{{"client_id", id}, {"client_secret", fresh}}, "").empty()
    );
    EXPECT_FALSE(AccessToken(creds, "").empty())
        << "the previous secret works during the grace period";
    // Another tenant cannot rotate it, and a viewer may not.
    EXPECT_EQ(s_->As(beta_op_).Do("POST", "/v1/workspaces/" + id + ":rotate-secret").status, 404);
    EXPECT_EQ(s_->As(viewer_).Do("POST", "/v1/workspaces/" + id + ":rotate-secret").status, 403);
    // Deleting the workspace ends its tokens.
    std::string access = AccessToken(creds, "");
    ASSERT_EQ(s_->As(op_).Do("DELETE", "/v1/workspaces/" + id).status, 200);
    auto gone = s_->Anonymous().Do(
        "POST", "/api/v2/workspaces/" + id + "/sync", R"({"uniqueId":"x"})", Bearer(access)
    );
    EXPECT_EQ(gone.status, 401);
    auto creds_gone = s_->Anonymous().Do(
        "POST",
        "/api/oauth/token",
        "client_id=" + id + "&client_secret=" + fresh + "&grant_type=client_credentials",
        kForm
    );
    EXPECT_EQ(creds_gone.status, 401);
    EXPECT_EQ(Str(creds_gone.Json(), {"error"}), "oauth_invalid_client_credentials");
}

TEST_F(WorkspaceCloudTest, BadRequestsGetTheStatusTheContractRequires) {
    auto [id, token] = NewWorkspace("table");
    json::value creds = Register(token);
    std::string access = AccessToken(creds, "workspace:license:read");
    std::string secret = Str(creds, {"client_secret"});
    std::string big_record =
        json::serialize(json::object{{"uniqueId", std::string(70 * 1024, 'x')}});
    std::string tampered = access;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    struct Case {
        std::string name, method, path, body;
        Headers headers;
        int status;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"token: wrong secret",
         "POST",
         "/api/oauth/token",
         "client_id=" + id + "&client_secret=nope&grant_type=client_credentials",
         kForm,
         401,
         "oauth_invalid_client_credentials"},
        {"token: unknown client",
         "POST",
         "/api/oauth/token",
         "client_id=wks_aaaaaaaaaaaaaaaaaaaa&client_secret=x&grant_type=client_credentials",
         kForm,
         401,
         "oauth_invalid_client_credentials"},
        {"token: missing secret",
         "POST",
         "/api/oauth/token",
         "client_id=" + id + "&grant_type=client_credentials",
         kForm,
         400,
         "invalid_request"},
        {"token: other grant",
         "POST",
         "/api/oauth/token",
         "client_id=" + id + "&client_secret=" + secret + "&grant_type=password",
         kForm,
         400,
         "unsupported_grant_type"},
        {"token: unknown scope",
         "POST",
         "/api/oauth/token",
         "client_id=" + id + "&client_secret=" + secret +
             "&grant_type=client_credentials&scope=root",
         kForm,
         400,
         "invalid_scope"},
        {"token: JSON body",
         "POST",
         "/api/oauth/token",
         R"({"client_id":"x"})",
         {},
         400,
         "invalid_request"},
        {"token: bad escape",
         "POST",
         "/api/oauth/token",
         "client_id=%zz",
         kForm,
         400,
         "invalid_request"},
        {"clients: no token", "POST", "/api/oauth/clients", "{}", {}, 401, "invalid_token"},
        {"clients: made-up token",
         "POST",
         "/api/oauth/clients",
         "{}",
         Bearer("hwr_" + id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
         401,
         "invalid_token"},
        {"clients: malformed JSON",
         "POST",
         "/api/oauth/clients",
         "{\"email\":",
         Bearer("hwr_" + id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
         400,
         "invalid_request"},
        {"intent: malformed JSON",
         "POST",
         "/api/v2/register/workspace/intent",
         "[1,",
         {},
         400,
         "invalid_request"},
        {"intent: seats not a number",
         "POST",
         "/api/v2/register/workspace/intent",
         R"({"seats":"many"})",
         {},
         400,
         "invalid_request"},
        {"intent: address not a URL",
         "POST",
         "/api/v2/register/workspace/intent",
         R"j({"address":"javascript:alert(1)"})j",
         {},
         400,
         "invalid_request"},
        {"intent: oversize record",
         "POST",
         "/api/v2/register/workspace/intent",
         big_record,
         {},
         413,
         "payload_too_large"},
        {"poll: no token",
         "GET",
         "/api/v2/register/workspace/poll",
         "",
         {},
         400,
         "invalid_request"},
        {"poll: garbage",
         "GET",
         "/api/v2/register/workspace/poll?token=garbage",
         "",
         {},
         400,
         "invalid_grant"},
        {"sync: no token",
         "POST",
         "/api/v2/workspaces/" + id + "/sync",
         "{}",
         {},
         401,
         "invalid_token"},
        {"sync: tampered token",
         "POST",
         "/api/v2/workspaces/" + id + "/sync",
         "{}",
         Bearer(tampered),
         401,
         "invalid_token"},
        {"sync: another workspace",
         "POST",
         "/api/v2/workspaces/wks_aaaaaaaaaaaaaaaaaaaa/sync",
         "{}",
         Bearer(access),
         403,
         "forbidden"},
        {"sync: malformed JSON",
         "POST",
         "/api/v2/workspaces/" + id + "/sync",
         "{",
         Bearer(access),
         400,
         "invalid_request"},
        {"sync: oversize record",
         "POST",
         "/api/v2/workspaces/" + id + "/sync",
         big_record,
         Bearer(access),
         413,
         "payload_too_large"},
        {"collector: wrong scope",
         "POST",
         "/collector",
         R"({"uniqueId":"a"})",
         Bearer(access),
         403,
         "insufficient_scope"},
        {"collector: bad token",
         "POST",
         "/collector",
         R"({"uniqueId":"a"})",
         Bearer("hwa_x.y"),
         401,
         "invalid_token"},
        {"collector: not JSON", "POST", "/collector", "uniqueId=a", {}, 400, "invalid_request"},
        {"collector: no uniqueId",
         "POST",
         "/collector",
         R"({"version":"1"})",
         {},
         400,
         "invalid_request"},
        {"collector: an array", "POST", "/collector", "[]", {}, 400, "invalid_request"},
    };
    for (const auto& c : cases) {
        auto r = s_->Anonymous().Do(c.method, c.path, c.body, c.headers);
        EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
        EXPECT_EQ(Str(r.Json(), {"error"}), c.error) << c.name << ": " << r.body;
    }
    // Over the body limit the server refuses before any handler: still 413.
    auto huge = s_->Anonymous().Do("POST", "/collector", std::string(2 << 20, ' '));
    EXPECT_EQ(huge.status, 413);
    // Operator side: a name that is not a DNS label, a missing user code, an unknown code.
    EXPECT_EQ(
        s_->As(op_)
            .Do("POST", "/v1/workspaces:approve", R"({"user_code":"BCDF-GHJK","name":"Not OK"})")
            .status,
        400
    );
    EXPECT_EQ(s_->As(op_).Do("POST", "/v1/workspaces:approve", R"({})").status, 400);
    EXPECT_EQ(
        s_->As(op_).Do("POST", "/v1/workspaces:approve", R"({"user_code":"BCDF-GHJK"})").status, 404
    );
    EXPECT_EQ(
        s_->As(op_)
            .Do("POST", "/v1/workspaces/" + id + ":registration-token", R"({"ttl":"5s"})")
            .status,
        400
    );
    EXPECT_EQ(
        s_->As(op_)
            .Do("POST", "/v1/workspaces", R"({"metadata":{"name":"x"},"spec":{"scopes":["root"]}})")
            .status,
        400
    );
    // The server is still fine.
    EXPECT_EQ(s_->Anonymous().Do("GET", "/healthz").status, 200);
}

TEST_F(WorkspaceCloudTest, SampleWorkspaceRegistersSyncsAndReports) {
    auto [id, token] = NewWorkspace("sample");
    TempDir dir;
    std::string bin =
        (std::filesystem::path(HangarBinary()).parent_path() / "hangar-workspace").string();
    int port = FreeLoopbackPort();
    pid_t pid = SpawnLogged(
        {bin, "--port", std::to_string(port), "--data-dir", dir.path()},
        dir.path() + "/log",
        {{"HANGAR_CLOUD_URL", s_->Url()},
         {"HANGAR_REGISTRATION_TOKEN", token},
         {"WORKSPACE_UNIQUE_ID", "sample-1"},
         {"WORKSPACE_VERSION", "1.1.0"}}
    );
    ASSERT_GT(pid, 0);
    json::value state;
    for (int i = 0; i < 300; ++i) {
        auto r = Client("127.0.0.1", port).Do("GET", "/cloud");
        if (r.status == 200) {
            state = r.Json();
            if (Str(state, {"state"}) == "registered" || Str(state, {"state"}) == "error") {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    ASSERT_EQ(Str(state, {"state"}), "registered") << json::serialize(state);
    EXPECT_EQ(Str(state, {"workspace_id"}), id);
    EXPECT_TRUE(state.at("license_verified").as_bool());
    EXPECT_TRUE(state.at("stats_token_verified").as_bool());
    json::value wsj = WaitFor(
        s_->As(viewer_),
        "/v1/workspaces/" + id,
        [](const json::value& v) { return v.at("status").as_object().contains("statistics"); },
        100
    );
    HttpResponse ws;
    ws.status = 200;
    ws.body = json::serialize(wsj);
    EXPECT_EQ(Str(ws.Json(), {"status", "version"}), "1.1.0");
    EXPECT_EQ(ws.Json().at("status").at("seats").as_int64(), 42);
    EXPECT_EQ(ws.Json().at("status").at("statistics").at("active_users").as_int64(), 42);
    EXPECT_GT(ws.Json().at("status").at("statistics").at("reports").as_int64(), 0);
}

// Short lifetimes: an access token and then the client secret expire.
TEST(WorkspaceExpiryTest, AccessTokensAndClientSecretsExpire) {
    LiveServer s(
        {"--provisioner",
         "simulated",
         "--workspace-token-ttl",
         "1s",
         "--workspace-secret-ttl",
         "3s",
         "--public-rate",
         "1"}
    );
    ASSERT_TRUE(s.Start()) << s.process().Log();
    std::string tenant = s.Tenant("acme");
    std::string op = s.Token(tenant, "operator");
    auto c = s.As(op).Do("POST", "/v1/workspaces", R"({"metadata":{"name":"short"},"spec":{}})");
    std::string id = Str(c.Json(), {"metadata", "id"});
    std::string token =
        Str(s.As(op).Do("POST", "/v1/workspaces/" + id + ":registration-token").Json(), {"token"});
    auto reg = s.Anonymous().Do("POST", "/api/oauth/clients", "{}", Bearer(token));
    ASSERT_EQ(reg.status, 201) << reg.body;
    std::string form = "client_id=" + id + "&client_secret=" + Str(reg.Json(), {"client_secret"}) +
                       "&grant_type=client_credentials";
    auto t = s.Anonymous().Do("POST", "/api/oauth/token", form, kForm);
    ASSERT_EQ(t.status, 200) << t.body;
    std::string access = Str(t.Json(), {"access_token"});
    HttpResponse r;
    for (int i = 0; i < 60; ++i) {  // bounded: the token lives one second
        r = s.Anonymous().Do(
            "POST", "/api/v2/workspaces/" + id + "/sync", R"({"uniqueId":"u"})", Bearer(access)
        );
        if (r.status != 200) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(Str(r.Json(), {"error_description"}).find("expired"), std::string::npos) << r.body;
    for (int i = 0; i < 80; ++i) {  // bounded: the secret lives three seconds
        r = s.Anonymous().Do("POST", "/api/oauth/token", form, kForm);
        if (r.status != 200) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(r.Json(), {"error"}), "oauth_invalid_client_credentials");
    EXPECT_NE(Str(r.Json(), {"error_description"}).find("expired"), std::string::npos) << r.body;
    // --public-rate 1: anonymous calls from one address are limited (bursts of 2).
    int limited = 0;
    for (int i = 0; i < 6; ++i) {
        auto a = s.Anonymous().Do("POST", "/collector", R"({"uniqueId":"flood"})");
        if (a.status == 429) {
            ++limited;
            EXPECT_EQ(Str(a.Json(), {"error"}), "slow_down");
            EXPECT_FALSE(a.headers["retry-after"].empty());
        }
    }
    EXPECT_GT(limited, 0);
}

}  // namespace
}  // namespace hangar::testing
