// Instance usage per minute: only Running instances, with their plan's memory, billed to their
// tenant, under an id that makes a minute reported twice count once.

#include "hangar/fleet/usage_reporter.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"

#include "server_process.hpp"

namespace hangar::fleet {
namespace {

namespace json = boost::json;

struct Recorded {
    std::string type, subject, id;
    json::object data;
};
class RecordingSink final : public core::UsageSink {
public:
    void Record(
        std::string_view type,
        std::string_view subject,
        json::object data,
        std::string_view id
    ) override {
        got.push_back({std::string(type), std::string(subject), std::string(id), std::move(data)});
    }
    std::vector<Recorded> got;
};

TEST(UsageReporterTest, EachRunningInstanceReportsItsMinuteWithItsPlan) {
    testing::TempDir dir;
    auto st = store::Store::Open("sqlite:" + dir.path() + "/h.db", {});
    ASSERT_TRUE(st);
    store::Store& s = **st;
    core::FakeClock clock(core::TimePoint(std::chrono::seconds(1780000000)));
    std::string now = core::FormatRfc3339(clock.Now());
    store::Object plan = store::NewSystemObject("Plan", "pln", "", now);
    plan.name = "small";
    plan.spec = json::object{{"memory_mb", 512}, {"cpu_millis", 250}};
    ASSERT_TRUE(s.Create(plan, std::nullopt, store::SystemAudit(now, "t", "", plan.id)));
    for (const char* phase : {"Running", "Pending", "Running"}) {
        store::Object o = store::NewSystemObject("Instance", "ins", "ten_a", now);
        o.spec = json::object{{"product", "chat"}, {"plan", "small"}};
        o.status = json::object{{"phase", phase}};
        ASSERT_TRUE(s.Create(o, std::nullopt, store::SystemAudit(now, "t", "ten_a", o.id)));
    }
    RecordingSink sink;
    UsageReporter r(s, clock, sink);
    EXPECT_EQ(r.ReportMinute(1780000020), 2) << "only Running instances";
    ASSERT_EQ(sink.got.size(), 2U);
    const Recorded& e = sink.got[0];
    EXPECT_EQ(e.type, "hangar.instance.usage");
    EXPECT_EQ(e.subject, "ten_a");
    EXPECT_EQ(core::StrAt(e.data, "plan"), "small");
    EXPECT_EQ(core::StrAt(e.data, "product"), "chat");
    EXPECT_EQ(core::IntAt(e.data, "memory_mb"), 512);
    EXPECT_DOUBLE_EQ(e.data.at("hours").as_double(), 1.0 / 60);
    EXPECT_DOUBLE_EQ(e.data.at("memory_gib_hours").as_double(), 0.5 / 60);
    EXPECT_NE(e.id.find(":1780000020"), std::string::npos) << e.id;
    r.ReportMinute(1780000020);
    EXPECT_EQ(sink.got[2].id, sink.got[0].id) << "the same minute has the same id";
}

}  // namespace
}  // namespace hangar::fleet
