#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "hangar/server/runtime.hpp"
#include "hangar/server/settings.hpp"

namespace hangar::server {
namespace {

TEST(Runtime, StopsInTheReverseOfStartOnce) {
    std::vector<std::string> log;
    {
        Runtime rt;
        for (std::string n : {"store", "controllers", "rules"}) {
            rt.Add(
                n,
                [&log, n] { log.push_back("start " + n); },
                [&log, n] { log.push_back("stop " + n); }
            );
        }
        rt.Start();
        rt.Stop();
        rt.Stop();  // a second stop (the destructor's too) does nothing
    }
    EXPECT_EQ(
        log,
        (std::vector<std::string>{
            "start store",
            "start controllers",
            "start rules",
            "stop rules",
            "stop controllers",
            "stop store"})
    );
}

TEST(Settings, EveryDefaultIsValidAndNamesAreUnique) {
    Config c = Defaults();  // throws on a bad default
    EXPECT_EQ(c.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.resync, std::chrono::minutes(5));
    EXPECT_EQ(c.body_limit, 1u << 20);
    std::set<std::string> flags;
    for (const Setting& s : Settings()) {
        EXPECT_TRUE(flags.insert(s.Flag()).second) << s.Flag();
        EXPECT_FALSE(s.help.empty()) << s.Flag();
    }
    const Setting& backoff =
        *std::find_if(Settings().begin(), Settings().end(), [](const Setting& s) {
            return s.name == "restart_backoff";
        });
    EXPECT_EQ(backoff.Flag(), "--restart-backoff");
    EXPECT_EQ(backoff.Env(), "HANGAR_RESTART_BACKOFF");
}

// Each kind of setting with a value it takes and values it refuses, and the advice given.
TEST(Settings, ValuesAreCheckedAgainstTheirTypeAndBounds) {
    struct Case {
        std::string_view name, text;
        std::string error;  // empty: accepted
    };
    for (const auto& [name, text, error] : std::initializer_list<Case>{
             {"resync", "30s", ""},
             {"resync",
              "10ms",
              "--resync \"10ms\": use a duration of at least 1s, such as 30s or 5m"},
             {"resync",
              "soon",
              "--resync \"soon\": use a duration of at least 1s, such as 30s or 5m"},
             {"push_deadline",
              "61s",
              "--push-deadline \"61s\": use a duration from 100ms to 1m, such as 5s"},
             {"request_timeout", "0s", "--request-timeout \"0s\": use a duration such as 30s"},
             {"workers", "0", "--workers \"0\": use a whole number from 1 to 1024"},
             {"workers", "8", ""},
             {"workers", "8x", "--workers \"8x\": use a whole number from 1 to 1024"},
             {"tenant_rate", "2.5", ""},
             {"tenant_rate", "nan", "--tenant-rate \"nan\": use a number from 0 to 1000000000"},
             {"log_level", "loud", "--log-level \"loud\": use one of debug, info, warn, error"},
             {"apns_url",
              "http://x",
              "--apns-url \"http://x\": providers speak HTTP/2 over TLS; use an https:// URL"},
             {"smtp_url",
              "mail.example.com",
              "--smtp-url \"mail.example.com\": use smtp://host:port or smtps://host:port"},
             {"remote_write_url", "", ""},
         }) {
        const Setting& s = *std::find_if(
            Settings().begin(), Settings().end(), [&](const Setting& x) { return x.name == name; }
        );
        Config c = Defaults();
        auto r = Assign(s, text, s.Flag(), c);
        EXPECT_EQ(r ? "" : r.error().message, error) << name << " " << text;
    }
}

// docs/operations.md documents the table: every setting has its row, and no row names a setting
// the table does not have.
TEST(Settings, TheOperationsGuideListsEverySettingAndNoOther) {
    std::ifstream in(std::string(HANGAR_SOURCE_DIR) + "/docs/operations.md");
    ASSERT_TRUE(in) << "docs/operations.md";
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::set<std::string> flags;
    for (const Setting& s : Settings()) {
        flags.insert(s.Flag());
        EXPECT_NE(
            doc.find("| `" + s.Flag() + "` | `" + s.Env() + "` | `" + std::string(s.name) + "` |"),
            std::string::npos
        ) << s.Flag()
          << " has no row in docs/operations.md";
    }
    std::regex row(R"(\n\| `(--[a-z0-9-]+)` \|)");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
         ++it) {
        std::string flag = (*it)[1];
        EXPECT_TRUE(flag == "--config" || flags.contains(flag))
            << flag << " is documented but not a setting";
    }
}

TEST(Settings, RollupsAreKeptAtLeastAsLongAsSamples) {
    Config c = Defaults();
    EXPECT_TRUE(CheckTogether(c));
    c.metrics_rollup_retention = std::chrono::hours(1);
    EXPECT_FALSE(CheckTogether(c));
}

}  // namespace
}  // namespace hangar::server
