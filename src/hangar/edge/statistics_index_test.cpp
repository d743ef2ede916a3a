#include "hangar/edge/statistics_index.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace hangar::edge {
namespace {

namespace json = boost::json;

TEST(StatisticsIndex, TakesTheIndexedFieldsAndSkipsTheRest) {
    auto idx = IndexStatistics(
        R"({"uniqueId":"u-1","version":"6.3.0","totalUsers":120,"activeUsers":42.9,"push":true,
        "rooms":[{"version":"nested, not this"},{"totalUsers":1}],"deploy":{"method":"docker","extra":{"method":"no"},"platform":"linux"},
        "installedAt":"2026-01-01T00:00:00Z","host":"chat.example.test","pushQueue":"7","totalMessages":18446744073709551615,
        "settings":{"uniqueId":"inner"}})"
    );
    ASSERT_TRUE(idx) << idx.error().message;
    json::object want{
        {"unique_id", "u-1"},
        {"version", "6.3.0"},
        {"total_users", 120},
        {"active_users", 42},
        {"deploy_method", "docker"},
        {"deploy_platform", "linux"},
        {"installed_at", "2026-01-01T00:00:00Z"},
        {"host", "chat.example.test"}};
    EXPECT_EQ(*idx, want) << json::serialize(*idx
    );  // push (a bool), pushQueue (a string) and the huge number are skipped
}

TEST(StatisticsIndex, CutsLongStringsUnescapesAndTakesTheLastOfATwiceGivenKey) {
    std::string longer(300, 'v');
    auto idx = IndexStatistics(
        R"({"uniqueId":"first","uniqueId":"a\"b\u00e9","version":")" + longer +
        R"(","deploy":{"method":")" + longer + R"("}})"
    );
    ASSERT_TRUE(idx) << idx.error().message;
    EXPECT_EQ(idx->at("unique_id").as_string(), "a\"b\xc3\xa9");
    EXPECT_EQ(idx->at("version").as_string().size(), 256U);
    EXPECT_EQ(idx->at("deploy_method").as_string().size(), 64U);
}

TEST(StatisticsIndex, RefusesWhatIsNotOneJsonObject) {
    for (std::string_view bad :
         {"", "[]", "\"text\"", "42", "{\"a\":1", "{\"a\":1} {}", "{\"a\":tru}", "{'a':1}"}) {
        EXPECT_FALSE(IndexStatistics(bad)) << bad;
    }
    EXPECT_TRUE(IndexStatistics("  {}  "));
}

}  // namespace
}  // namespace hangar::edge
