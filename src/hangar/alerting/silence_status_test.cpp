// A silence's status on a fake clock: pending until its start, active until its end, then
// expired; each run asks to come back exactly when the state next changes.

#include "hangar/alerting/silence_status.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"

#include "server_process.hpp"

namespace hangar::alerting {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::minutes;

class SilenceStatusTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto st = store::Store::Open("sqlite:" + dir_.path() + "/h.db", {});
        ASSERT_TRUE(st);
        store_ = std::move(*st);
    }
    std::string Put(core::TimePoint start, core::TimePoint end) {
        std::string now = core::FormatRfc3339(clock_.Now());
        store::Object o = store::NewSystemObject("Silence", "sil", "ten_t", now);
        o.name = "maintenance";
        o.spec = json::object{
            {"matchers", json::array{"job=\"x\""}},
            {"starts_at", core::FormatRfc3339(start)},
            {"ends_at", core::FormatRfc3339(end)}};
        auto c = store_->Create(o, std::nullopt, store::SystemAudit(now, "test", "ten_t", o.id));
        EXPECT_TRUE(c);
        return o.id;
    }
    std::string State(const std::string& id) {
        return core::StrAt(store_->Get(id)->status, "state");
    }

    ::hangar::testing::TempDir dir_;
    core::FakeClock clock_{*core::ParseRfc3339("2026-12-03T10:00:00Z")};
    std::unique_ptr<store::Store> store_;
};

TEST(SilenceState, PendingActiveExpiredWithTheNextChange) {
    auto t0 = *core::ParseRfc3339("2026-12-03T10:00:00Z");
    SilenceTimes times{t0 + minutes(10), t0 + minutes(70)};
    EXPECT_EQ(SilenceStateAt(times, t0).state, SilenceState::kPending);
    EXPECT_EQ(SilenceStateAt(times, t0).next_change, times.start);
    EXPECT_EQ(SilenceStateAt(times, times.start).state, SilenceState::kActive);
    EXPECT_EQ(SilenceStateAt(times, times.start).next_change, times.end);
    EXPECT_EQ(SilenceStateAt(times, times.end).state, SilenceState::kExpired);
    EXPECT_FALSE(SilenceStateAt(times, times.end).next_change);
}

TEST_F(SilenceStatusTest, TheStatusFollowsTheClockAndEachRunAsksForTheNextChange) {
    auto t0 = clock_.Now();
    std::string id = Put(t0 + minutes(10), t0 + minutes(70));
    SilenceStatusWriter writer(*store_, clock_);

    auto first = writer.Reconcile(id);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(State(id), "pending");
    EXPECT_EQ(first->requeue_after, milliseconds(10 * 60 * 1000 + 1));
    EXPECT_EQ(first->wrote_revision, store_->Get(id)->revision);

    auto again = writer.Reconcile(id);  // nothing changed: no write
    ASSERT_TRUE(again);
    EXPECT_EQ(again->wrote_revision, 0);

    clock_.Advance(minutes(10));
    ASSERT_TRUE(writer.Reconcile(id));
    EXPECT_EQ(State(id), "active");
    EXPECT_EQ(
        core::StrAt(store_->Get(id)->status, "changed_at"), core::FormatRfc3339(clock_.Now())
    );

    clock_.Advance(minutes(60));
    auto last = writer.Reconcile(id);
    ASSERT_TRUE(last);
    EXPECT_EQ(State(id), "expired");
    EXPECT_FALSE(last->requeue_after) << "an expired silence never changes again";
}

TEST_F(SilenceStatusTest, ADeletedSilenceIsNothingToDo) {
    SilenceStatusWriter writer(*store_, clock_);
    auto r = writer.Reconcile("sil_gone");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->requeue_after);
}

}  // namespace
}  // namespace hangar::alerting
