// The CLI as a person uses it: tables, -o json|yaml, exit codes, messages that say what to do.

#include <filesystem>
#include <fstream>

#include "fixture.hpp"

namespace hangar::testing {
namespace {

class CliTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_ = new LiveServer();
        ASSERT_TRUE(s_->Start()) << s_->process().Log();
    }
    static void TearDownTestSuite() {
        delete s_;
        s_ = nullptr;
    }
    int Run(std::vector<std::string> args, std::string token = "admin") {
        std::vector<std::string> full = {"--server", s_->Url()};
        if (!token.empty()) {
            full.push_back("--token");
            full.push_back(token == "admin" ? s_->process().AdminToken() : token);
        }
        full.insert(full.end(), args.begin(), args.end());
        return RunCli(full, out_, err_);
    }
    static LiveServer* s_;
    std::string out_, err_;
};
LiveServer* CliTest::s_ = nullptr;

TEST_F(CliTest, TenantCreateAndListInEveryOutputFormat) {
    ASSERT_EQ(
        Run({"tenant", "create", "cli-acme", "--display-name", "Acme Corp", "-l", "tier=gold"}), 0
    ) << err_;
    EXPECT_NE(out_.find("NAME"), std::string::npos);
    EXPECT_NE(out_.find("cli-acme"), std::string::npos);
    EXPECT_NE(out_.find("Acme Corp"), std::string::npos);
    ASSERT_EQ(Run({"-o", "json", "tenant", "list", "-l", "tier=gold"}), 0) << err_;
    auto v = json::parse(out_);
    ASSERT_EQ(v.at("items").as_array().size(), 1U);
    EXPECT_EQ(Str(v.at("items").as_array()[0], {"metadata", "name"}), "cli-acme");
    ASSERT_EQ(Run({"-o", "yaml", "get", "tenants"}), 0) << err_;
    EXPECT_NE(out_.find("name: cli-acme"), std::string::npos) << out_;
    EXPECT_NE(out_.find("kind: TenantList"), std::string::npos) << out_;
}

TEST_F(CliTest, TokensCreateUseAndRevoke) {
    ASSERT_EQ(Run({"-o", "json", "tenant", "create", "cli-tok"}), 0) << err_;
    std::string tenant = Str(json::parse(out_), {"metadata", "id"});
    ASSERT_EQ(
        Run(
            {"token",
             "create",
             "--role",
             "viewer",
             "--tenant",
             tenant,
             "--name",
             "ci",
             "--expires",
             "1d"}
        ),
        0
    ) << err_;
    auto pos = out_.find("secret (shown only now): ");
    ASSERT_NE(pos, std::string::npos) << out_;
    std::string secret = out_.substr(pos + 25);
    secret = secret.substr(0, secret.find('\n'));
    ASSERT_EQ(Run({"-o", "json", "get", "tenants"}, secret), 0) << err_;
    EXPECT_EQ(json::parse(out_).at("items").as_array().size(), 1U)
        << "a tenant token sees only its tenant";
    EXPECT_EQ(Run({"tenant", "create", "nope"}, secret), 5) << "forbidden";
    EXPECT_NE(err_.find("only platform admins"), std::string::npos) << err_;
    ASSERT_EQ(Run({"-o", "json", "token", "list", "--tenant", tenant}), 0) << err_;
    std::string id = Str(json::parse(out_).at("items").as_array()[0], {"id"});
    EXPECT_EQ(out_.find(secret), std::string::npos);
    ASSERT_EQ(Run({"token", "revoke", id}), 0) << err_;
    EXPECT_EQ(Run({"get", "tenants"}, secret), 4);
    EXPECT_NE(err_.find("revoked"), std::string::npos) << err_;
}

TEST_F(CliTest, GetOneDeleteAndNotFound) {
    ASSERT_EQ(Run({"-o", "json", "tenant", "create", "cli-del"}), 0) << err_;
    std::string id = Str(json::parse(out_), {"metadata", "id"});
    ASSERT_EQ(Run({"get", "tenant", id}), 0) << err_;
    EXPECT_NE(out_.find("cli-del"), std::string::npos);
    ASSERT_EQ(Run({"delete", "tenant", id}), 0) << err_;
    EXPECT_EQ(Run({"get", "tenant", id}), 6);
    EXPECT_NE(err_.find("not found"), std::string::npos) << err_;
    EXPECT_EQ(Run({"get", "widgets"}), 3);
    EXPECT_NE(err_.find("known kinds"), std::string::npos) << err_;
}

// The CLI knows kinds from the server (GET /v1/kinds), not from a list of its own.
TEST_F(CliTest, KindsComeFromTheServer) {
    ASSERT_EQ(Run({"-o", "json", "kinds"}), 0) << err_;
    auto kinds = json::parse(out_).at("items").as_array();
    std::vector<std::string> names;
    for (const auto& k : kinds) {
        names.emplace_back(k.at("kind").as_string());
    }
    for (const char* want : {"Tenant", "Instance", "Rollout", "AlertRule", "Page", "Workspace"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
    ASSERT_EQ(Run({"kinds"}), 0) << err_;
    EXPECT_NE(out_.find("MODULE"), std::string::npos) << out_;
    EXPECT_NE(out_.find("escalationpolicies"), std::string::npos) << out_;
    // Singular, plural, prefix and the kind's own name all name it; its table is the server's.
    for (const char* alias : {"instance", "instances", "ins", "Instance"}) {
        ASSERT_EQ(Run({"get", alias}), 0) << alias << ": " << err_;
        EXPECT_NE(out_.find("PHASE"), std::string::npos) << alias << ": " << out_;
    }
    EXPECT_EQ(Run({"get", "gizmos"}), 3);
    EXPECT_NE(err_.find("known kinds: tokens, tenants, users"), std::string::npos) << err_;
}

TEST_F(CliTest, AuditListAndVerify) {
    ASSERT_EQ(Run({"tenant", "create", "cli-audit"}), 0) << err_;
    ASSERT_EQ(Run({"audit", "list", "--action", "tenant.create"}), 0) << err_;
    EXPECT_NE(out_.find("tenant.create"), std::string::npos);
    EXPECT_NE(out_.find("OUTCOME"), std::string::npos);
    ASSERT_EQ(Run({"-o", "json", "audit", "verify"}), 0) << err_;
    EXPECT_EQ(json::parse(out_).at("ok").as_bool(), true);
}

TEST_F(CliTest, UsageListsMetersQueriesOneAndChecksAnEntitlement) {
    ASSERT_EQ(Run({"usage"}), 0) << err_;
    EXPECT_NE(out_.find("instance_hours"), std::string::npos) << out_;
    EXPECT_NE(out_.find("AGGREGATION"), std::string::npos) << out_;
    auto posted = s_->Admin().Do(
        "POST",
        "/api/v1/events",
        R"([{"specversion":"1.0","id":"c1","source":"cli","type":"hangar.push.sent","subject":"ten_cli","time":"2026-06-01T10:00:00Z","data":{"service":"gcm"}},
            {"specversion":"1.0","id":"c2","source":"cli","type":"hangar.push.sent","subject":"ten_cli","time":"2026-06-02T10:00:00Z","data":{"service":"apn"}}])",
        {{"Content-Type", "application/cloudevents-batch+json"}}
    );
    ASSERT_EQ(posted.status, 204) << posted.body;
    ASSERT_EQ(
        Run(
            {"usage",
             "push_notifications",
             "--from",
             "2026-06-01T00:00:00Z",
             "--to",
             "2026-06-03T00:00:00Z",
             "--window",
             "DAY",
             "--group-by",
             "service"}
        ),
        0
    ) << err_;
    EXPECT_NE(out_.find("WINDOW START"), std::string::npos) << out_;
    EXPECT_NE(out_.find("service=gcm"), std::string::npos) << out_;
    EXPECT_NE(out_.find("service=apn"), std::string::npos) << out_;
    EXPECT_NE(out_.find("2026-06-02T00:00:00"), std::string::npos) << out_;
    EXPECT_EQ(Run({"usage", "no_such_meter"}), 6) << "not found: " << err_;
    EXPECT_NE(err_.find("meter not found"), std::string::npos) << err_;
    ASSERT_EQ(Run({"entitlement", "check", "sso", "--subject", "ten_cli"}), 0) << err_;
    EXPECT_NE(out_.find("false"), std::string::npos) << "no entitlement, no access: " << out_;
}

TEST_F(CliTest, ErrorsSayWhatToDoAndExitWithMeaningfulCodes) {
    EXPECT_EQ(Run({"get", "tenants"}, ""), 4);
    EXPECT_NE(err_.find("HANGAR_TOKEN"), std::string::npos) << err_;
    EXPECT_EQ(
        RunCli({"--server", "http://127.0.0.1:1", "--token", "x", "get", "tenants"}, out_, err_), 2
    );
    EXPECT_NE(err_.find("cannot reach http://127.0.0.1:1"), std::string::npos) << err_;
    EXPECT_EQ(RunCli({"tenant"}, out_, err_), 1) << "a missing subcommand is a usage error";
    EXPECT_EQ(RunCli({"token", "create", "--role", "god"}, out_, err_), 1);
    EXPECT_EQ(Run({"tenant", "create", "Bad_Name"}), 3);
    EXPECT_NE(err_.find("metadata.name"), std::string::npos) << err_;
}

TEST_F(CliTest, ConfigFileAndEnvironmentProvideServerAndToken) {
    TempDir home;
    std::filesystem::create_directories(home.path() + "/.config/hangar");
    std::ofstream(home.path() + "/token") << s_->process().AdminToken() << "\n";
    std::ofstream(home.path() + "/.config/hangar/config.yaml")
        << "server: " << s_->Url() << "\ntoken_file: " << home.path() << "/token\n";
    EXPECT_EQ(RunCli({"get", "tenants"}, out_, err_, {{"HOME", home.path()}}), 0) << err_;
    EXPECT_EQ(
        RunCli(
            {"get", "tenants"},
            out_,
            err_,
            {{"HANGAR_SERVER", s_->Url()}, {"HANGAR_TOKEN", s_->process().AdminToken()}}
        ),
        0
    ) << err_;
}

}  // namespace
}  // namespace hangar::testing
