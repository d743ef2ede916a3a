// Subscriptions as periods and phases, and the invoice of a closed period, against amounts
// worked out by hand.

#include "hangar/billing/subscription.hpp"

#include <map>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/billing/invoice.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"

namespace hangar::billing {
namespace {

namespace json = boost::json;

int64_t T(std::string_view rfc3339) {
    return core::UnixSeconds(*core::ParseRfc3339(rfc3339));
}

PlanPrice Price(std::string plan, std::string_view json_charges) {
    json::object spec{{"plan", plan}, {"currency", "EUR"}, {"charges", json::parse(json_charges)}};
    auto v = ValidatePlanPriceSpec(spec);
    EXPECT_TRUE(v) << v.error().message;
    return *PlanPriceFromSpec(*v);
}

struct Fixture {
    std::map<std::string, PlanPrice> prices{
        {"basic", Price("basic", R"([{"model":"flat","amount":"30"},
             {"model":"per_unit","meter":"instance_hours","amount":"0.02"}])")},
        {"pro", Price("pro", R"([{"model":"flat","amount":"90"},
             {"model":"per_unit","meter":"instance_hours","amount":"0.015"}])")},
    };
    // instance_hours: 100 in the first half of October, 200 in the second.
    UsageOf usage = [](const std::string& meter, int64_t from, int64_t to
                    ) -> core::Result<Decimal> {
        EXPECT_EQ(meter, "instance_hours");
        int64_t mid = T("2026-10-16T00:00:00Z");
        Decimal d;
        if (from < mid) {
            d = *d.Plus(Decimal::FromInt(100));
        }
        if (to > mid) {
            d = *d.Plus(Decimal::FromInt(200));
        }
        return d;
    };
    PriceOf price_of = [this](const std::string& plan) -> core::Result<PlanPrice> {
        return prices.at(plan);
    };
};

TEST(SubscriptionTest, PeriodsAreCalendarMonthsAndTheFirstStartsWithTheSubscription) {
    Subscription s = StartSubscription("basic", T("2026-10-10T08:30:45Z"), 0);
    EXPECT_EQ(s.period_start, T("2026-10-10T08:30:00Z")) << "floored to the minute";
    EXPECT_EQ(s.period_end, T("2026-11-01T00:00:00Z"));
    EXPECT_FALSE(CloseDue(s, T("2026-10-31T23:59:59Z")));
    // Two months late: each period closes in turn.
    auto first = CloseDue(s, T("2026-12-05T00:00:00Z"));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->start, T("2026-10-10T08:30:00Z"));
    EXPECT_EQ(first->end, T("2026-11-01T00:00:00Z"));
    auto second = CloseDue(s, T("2026-12-05T00:00:00Z"));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->start, T("2026-11-01T00:00:00Z"));
    EXPECT_EQ(second->end, T("2026-12-01T00:00:00Z"));
    EXPECT_FALSE(CloseDue(s, T("2026-12-05T00:00:00Z")));
    EXPECT_EQ(s.period_end, T("2027-01-01T00:00:00Z"));
}

TEST(SubscriptionTest, AMidMonthPlanChangeProratesBothFlatFeesAndSplitsTheUsage) {
    Fixture f;
    Subscription s = StartSubscription("basic", T("2026-10-01T00:00:00Z"), 0);
    ASSERT_TRUE(ChangePlan(s, "pro", T("2026-10-16T00:00:00Z")));
    EXPECT_FALSE(ChangePlan(s, "pro", T("2026-10-17T00:00:00Z"))) << "already on pro";
    EXPECT_FALSE(ChangePlan(s, "basic", T("2026-11-02T00:00:00Z"))) << "outside the period";
    auto closed = CloseDue(s, T("2026-11-01T00:00:00Z"));
    ASSERT_TRUE(closed);
    ASSERT_EQ(closed->phases.size(), 2U);
    InvoiceInput in{"sub_1", *closed, 0, std::nullopt, std::nullopt, "basic"};
    in.sla = SlaCredit{*Decimal::Parse("10"), "2026-10", "/v1/tenants/t/sla?month=2026-10", {}, {}};
    in.tax = TaxRate{"DE", *Decimal::Parse("19"), "VAT"};
    auto inv = BuildInvoice(in, f.price_of, f.usage);
    ASSERT_TRUE(inv) << inv.error().message;
    const json::array& lines = inv->at("lines").as_array();
    ASSERT_EQ(lines.size(), 5U) << json::serialize(*inv);
    // 30 × 15/31 = 14.516… ; 100 h × 0.02 ; 90 × 16/31 = 46.451… ; 200 h × 0.015
    EXPECT_EQ(core::StrAt(lines[0].as_object(), "amount"), "14.52");
    EXPECT_EQ(core::StrAt(lines[1].as_object(), "amount"), "2.00");
    EXPECT_EQ(core::StrAt(lines[1].as_object(), "quantity"), "100");
    EXPECT_EQ(core::StrAt(lines[2].as_object(), "amount"), "46.45");
    EXPECT_EQ(core::StrAt(lines[2].as_object(), "plan"), "pro");
    EXPECT_EQ(core::StrAt(lines[3].as_object(), "amount"), "3.00");
    EXPECT_EQ(core::StrAt(*inv, "subtotal"), "65.97");
    // 10% of 65.97 = 6.597 → 6.60; 19% of 59.37 = 11.2803 → 11.28.
    EXPECT_EQ(core::StrAt(lines[4].as_object(), "type"), "credit");
    EXPECT_EQ(core::StrAt(lines[4].as_object(), "amount"), "-6.60");
    EXPECT_EQ(core::StrAt(*inv, "credits"), "6.60");
    EXPECT_EQ(core::StrAt(inv->at("tax").as_object(), "amount"), "11.28");
    EXPECT_EQ(core::StrAt(*inv, "total"), "70.65");
}

TEST(SubscriptionTest, ATrialMakesTheFlatFeeFreeButNotTheUsage) {
    Fixture f;
    Subscription s = StartSubscription("basic", T("2026-10-10T00:00:00Z"), 14);
    EXPECT_EQ(s.state, SubState::kTrialing);
    auto closed = CloseDue(s, T("2026-11-01T00:00:00Z"));
    ASSERT_TRUE(closed);
    EXPECT_EQ(s.state, SubState::kActive);
    auto inv = BuildInvoice(
        {"sub_1", *closed, T("2026-10-24T00:00:00Z"), {}, {}, "basic"}, f.price_of, f.usage
    );
    ASSERT_TRUE(inv) << inv.error().message;
    // The trial ends on the 24th: 8 of 31 days pay, 30 × 8/31 = 7.741… ; usage 300 h × 0.02.
    EXPECT_EQ(core::StrAt(inv->at("lines").as_array()[0].as_object(), "amount"), "7.74");
    EXPECT_EQ(core::StrAt(inv->at("lines").as_array()[1].as_object(), "amount"), "6.00");
    EXPECT_EQ(core::StrAt(*inv, "total"), "13.74");
}

TEST(SubscriptionTest, APauseChargesNothingForItsStretch) {
    Fixture f;
    Subscription s = StartSubscription("basic", T("2026-10-01T00:00:00Z"), 0);
    ASSERT_TRUE(Pause(s, T("2026-10-16T00:00:00Z")));
    EXPECT_FALSE(Pause(s, T("2026-10-17T00:00:00Z"))) << "already paused";
    EXPECT_EQ(s.state, SubState::kPaused);
    auto closed = CloseDue(s, T("2026-11-01T00:00:00Z"));
    ASSERT_TRUE(closed);
    EXPECT_EQ(s.state, SubState::kPaused) << "the next period starts paused";
    auto inv = BuildInvoice({"sub_1", *closed, 0, {}, {}, "basic"}, f.price_of, f.usage);
    ASSERT_TRUE(inv);
    EXPECT_EQ(core::StrAt(*inv, "total"), "16.52");  // 14.52 + 2.00
    ASSERT_TRUE(Resume(s, T("2026-11-11T00:00:00Z")));
    EXPECT_EQ(s.state, SubState::kActive);
}

TEST(SubscriptionTest, CancelNowEndsThePeriodAndCancelAtPeriodEndEndsItLater) {
    Subscription now = StartSubscription("basic", T("2026-10-01T00:00:00Z"), 0);
    ASSERT_TRUE(Cancel(now, T("2026-10-11T00:00:00Z"), false));
    EXPECT_EQ(now.state, SubState::kCanceled);
    auto last = CloseDue(now, T("2026-10-11T00:00:00Z"));
    ASSERT_TRUE(last);
    EXPECT_TRUE(last->last);
    EXPECT_EQ(last->end, T("2026-10-11T00:00:00Z"));
    EXPECT_FALSE(CloseDue(now, T("2026-12-01T00:00:00Z")));
    EXPECT_FALSE(ChangePlan(now, "pro", T("2026-10-11T00:00:00Z")));

    Subscription later = StartSubscription("basic", T("2026-10-01T00:00:00Z"), 0);
    ASSERT_TRUE(Cancel(later, T("2026-10-11T00:00:00Z"), true));
    EXPECT_EQ(later.state, SubState::kActive);
    auto end = CloseDue(later, T("2026-11-01T00:00:00Z"));
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->last);
    EXPECT_EQ(later.state, SubState::kCanceled);
}

TEST(SubscriptionTest, StatusRoundTrips) {
    Subscription s = StartSubscription("basic", T("2026-10-01T00:00:00Z"), 7);
    ASSERT_TRUE(ChangePlan(s, "pro", T("2026-10-05T00:00:00Z")));
    auto back = SubscriptionFromStatus(SubscriptionToStatus(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(
        json::serialize(SubscriptionToStatus(*back)), json::serialize(SubscriptionToStatus(s))
    );
    EXPECT_FALSE(SubscriptionFromStatus(json::object{{"state", "weird"}}));
}

TEST(PlanPriceTest, BadSpecsNameTheField) {
    auto bad = [](std::string_view spec) {
        auto r = ValidatePlanPriceSpec(json::parse(spec).as_object());
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_NE(
        bad(R"({"plan":"p","currency":"eur","charges":[{"model":"flat","amount":1}]})")
            .find("spec.currency"),
        std::string::npos
    );
    EXPECT_NE(
        bad(R"({"plan":"p","currency":"EUR","charges":[]})").find("spec.charges"), std::string::npos
    );
    EXPECT_NE(
        bad(R"({"plan":"p","currency":"EUR","charges":[{"model":"per_unit","amount":1}]})")
            .find("spec.charges[0].meter"),
        std::string::npos
    );
    EXPECT_NE(
        bad(R"({"plan":"p","currency":"EUR","charges":[1]})").find("spec.charges[0]"),
        std::string::npos
    );
    EXPECT_NE(bad(R"({"currency":"EUR","charges":[]})").find("spec.plan"), std::string::npos);
}

}  // namespace
}  // namespace hangar::billing
