// The pager's escalation on a fake clock: steps in order, a repeat of the whole policy, then
// silence; acknowledgement stops it; a trigger for an open dedup key opens no second page.

#include "hangar/oncall/pager.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server_process.hpp"

namespace hangar::oncall {
namespace {

namespace json = boost::json;
using std::chrono::minutes;

class PagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto st = store::Store::Open("sqlite:" + dir_.path() + "/h.db", {});
        ASSERT_TRUE(st);
        store_ = std::move(*st);
        for (const char* u : {"ann", "ben"}) {
            Put("User", u, json::object{{"email", std::string(u) + "@t.test"}, {"role", "operator"}}
            );
        }
        // ann, then ben, each waiting 10 minutes; the whole policy once more.
        Put("EscalationPolicy",
            "default",
            json::object{
                {"steps",
                 json::array{
                     json::object{{"targets", {json::object{{"user", "ann"}}}}, {"wait", "10m"}},
                     json::object{{"targets", {json::object{{"user", "ben"}}}}, {"wait", "10m"}}}},
                {"repeat", 1}});
    }
    void Put(const std::string& kind, const std::string& name, json::object spec) {
        std::string now = core::FormatRfc3339(clock_.Now());
        store::Object o = store::NewSystemObject(kind, "obj", "ten_t", now);
        o.name = name;
        o.spec = std::move(spec);
        ASSERT_TRUE(store_->Create(o, std::nullopt, store::SystemAudit(now, "test", "ten_t", o.id))
        );
    }
    PageRequest Request() const {
        return PageRequest{
            "ten_t",
            "group-1",
            "[P1] disk full",
            "FIRING disk full",
            "P1",
            "default",
            json::array{},
            ""};
    }
    // Who each notification went to, in order.
    std::vector<std::string> Notified(const std::string& id) {
        std::vector<std::string> out;
        auto page = store_->Get(id);
        for (const auto& e : page->status.at("history").as_array()) {
            if (e.at("event") == "notified") {
                out.emplace_back(e.at("user").as_string());
            }
        }
        return out;
    }
    std::string State(const std::string& id) {
        return std::string(store_->Get(id)->status.at("state").as_string());
    }
    hangar::testing::TempDir dir_;
    core::FakeClock clock_{*core::ParseRfc3339("2026-11-23T10:00:00Z")};
    std::unique_ptr<store::Store> store_;
    Notifier notifier_{NotifierOptions{}, nullptr};  // not started: messages only queue
};

TEST_F(PagerTest, EscalatesStepByStepRepeatsThePolicyOnceThenStops) {
    Pager pager(*store_, notifier_, clock_, "http://hangar.test");
    auto id = pager.Trigger(Request());
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(Notified(*id), (std::vector<std::string>{"ann"}));
    clock_.Advance(minutes(9));
    pager.Tick();
    EXPECT_EQ(Notified(*id).size(), 1u) << "not yet";
    for (int i = 0; i < 4; ++i) {  // ben; ann and ben again (the repeat); then nothing more
        clock_.Advance(minutes(10));
        pager.Tick();
    }
    EXPECT_EQ(Notified(*id), (std::vector<std::string>{"ann", "ben", "ann", "ben"}));
    EXPECT_EQ(store_->Get(*id)->status.at("next_escalation_at").as_string(), "");
    EXPECT_EQ(State(*id), "triggered") << "a spent policy leaves the page open";
    // Another trigger for the same group updates the open page; it opens no second one.
    auto again = pager.Trigger(Request());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *id);
}

TEST_F(PagerTest, AcknowledgingStopsEscalationAndResolvingClosesTheKey) {
    Pager pager(*store_, notifier_, clock_, "http://hangar.test");
    auto id = pager.Trigger(Request());
    ASSERT_TRUE(id);
    std::string now = core::FormatRfc3339(clock_.Now());
    ASSERT_TRUE(pager.Acknowledge(*id, "ann", store::SystemAudit(now, "test", "ten_t", *id)));
    EXPECT_FALSE(pager.Acknowledge(*id, "ann", store::SystemAudit(now, "test", "ten_t", *id)))
        << "only a triggered page";
    clock_.Advance(minutes(60));
    pager.Tick();
    EXPECT_EQ(Notified(*id), (std::vector<std::string>{"ann"}));
    EXPECT_EQ(State(*id), "acknowledged");
    pager.ResolveKey("ten_t", "group-1", "alerts resolved");
    EXPECT_EQ(State(*id), "resolved");
    EXPECT_FALSE(pager.OpenPage("ten_t", "group-1"));
    auto fresh = pager.Trigger(Request());
    ASSERT_TRUE(fresh);
    EXPECT_NE(*fresh, *id) << "after resolution the group pages anew";
    // Reassigning notifies the new owner at once.
    ASSERT_TRUE(
        pager.Reassign(*fresh, "ben", "ann", store::SystemAudit(now, "test", "ten_t", *fresh))
    );
    EXPECT_EQ(Notified(*fresh), (std::vector<std::string>{"ann", "ben"}));
    EXPECT_FALSE(
        pager.Reassign(*fresh, "nobody", "ann", store::SystemAudit(now, "test", "ten_t", *fresh))
    );
}

}  // namespace
}  // namespace hangar::oncall
