// Money and charges against values worked out by hand: exact decimals (0.1 + 0.2 is 0.3),
// rounding half away from zero, prorations, and each charge model on Stripe's and Lago's
// documented examples.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/billing/charges.hpp"
#include "hangar/billing/money.hpp"

namespace hangar::billing {
namespace {

namespace json = boost::json;

Decimal D(std::string_view s) {
    auto d = Decimal::Parse(s);
    EXPECT_TRUE(d) << s;
    return d.value_or(Decimal());
}

TEST(DecimalTest, SumsAreExactAndRoundingIsHalfAwayFromZero) {
    EXPECT_EQ(D("0.1").Plus(D("0.2"))->ToString(), "0.3");
    EXPECT_EQ(*Decimal::FromDouble(0.1), D("0.1"));
    EXPECT_EQ(D("2.675").Round(2).ToString(2), "2.68");  // a double would give 2.67
    EXPECT_EQ(D("-2.675").Round(2).ToString(2), "-2.68");
    EXPECT_EQ(D("2.665").Round(2).ToString(2), "2.67");
    EXPECT_EQ(D("1234.5").ToString(0), "1235");
    EXPECT_EQ(D("0.000000001").ToString(), "0.000000001");
    EXPECT_EQ(D("19.99").Times(D("3"))->ToString(2), "59.97");
    // A proration: 30.00 a month, 12 of 31 days.
    EXPECT_EQ(D("30").TimesFraction(12, 31)->Round(2).ToString(2), "11.61");
    EXPECT_FALSE(Decimal::Parse("1e3"));
    EXPECT_FALSE(Decimal::Parse("1.0000000001")) << "more digits than money keeps";
    EXPECT_FALSE(Decimal::Parse("."));
    EXPECT_FALSE(Decimal::Parse("123456789012345678901")) << "21 integer digits";
    EXPECT_FALSE(D("99999999999999999999").Times(D("99999999999999999999"))) << "overflow fails";
    EXPECT_EQ(MinorDigits("JPY"), 0);
    EXPECT_EQ(MinorDigits("KWD"), 3);
    EXPECT_EQ(MinorDigits("EUR"), 2);
}

Charge Read(const std::string& text) {
    auto c = ReadCharge(json::parse(text).as_object(), "spec.charges[0]");
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c.value_or(Charge{});
}

std::string Cost(const Charge& c, std::string_view q) {
    auto p = Price(c, D(q));
    EXPECT_TRUE(p);
    return p ? p->amount.ToString(2) : "?";
}

TEST(ChargeTest, EachModelPricesAQuantityAsWorkedOutByHand) {
    EXPECT_EQ(Cost(Read(R"({"model":"flat","amount":"49"})"), "1000"), "49.00");
    EXPECT_EQ(
        Cost(Read(R"({"model":"per_unit","meter":"m","amount":"0.0004"})"), "1234567"), "493.83"
    );
    // Graduated (Stripe's example): 1-5 at 5.00, 6-10 at 4.00, beyond at 3.00 -> 12 units:
    // 5×5 + 5×4 + 2×3 = 51.
    auto graduated = Read(
        R"({"model":"graduated","meter":"m","tiers":[{"up_to":5,"unit_price":"5"},{"up_to":10,"unit_price":"4"},{"unit_price":"3","flat_fee":"1"}]})"
    );
    EXPECT_EQ(Cost(graduated, "12"), "52.00") << "51 + the last tier's flat fee";
    EXPECT_EQ(Cost(graduated, "5"), "25.00");
    EXPECT_EQ(Cost(graduated, "0"), "0.00");
    EXPECT_EQ(Cost(graduated, "7.5"), "35.00") << "fractional units: 5×5 + 2.5×4";
    // Volume: the tier of the whole quantity prices every unit: 12 units at 3.00 + 1.
    auto volume = Read(
        R"({"model":"volume","meter":"m","tiers":[{"up_to":5,"unit_price":"5"},{"up_to":10,"unit_price":"4"},{"unit_price":"3","flat_fee":"1"}]})"
    );
    EXPECT_EQ(Cost(volume, "12"), "37.00");
    EXPECT_EQ(Cost(volume, "10"), "40.00") << "up_to is inclusive";
    // Package: 5.00 per 100 units after 50 free: 251 units -> 201 billable -> 3 packages.
    auto package =
        Read(R"({"model":"package","meter":"m","amount":"5","package_size":100,"free_units":50})");
    EXPECT_EQ(Cost(package, "251"), "15.00");
    EXPECT_EQ(Cost(package, "250"), "10.00");
    EXPECT_EQ(Cost(package, "40"), "0.00");
    EXPECT_EQ(Cost(package, "0.5"), "0.00");
}

TEST(ChargeTest, BadChargesNameTheField) {
    auto bad = [](const std::string& text, std::string_view field) {
        auto c = ReadCharge(json::parse(text).as_object(), "spec.charges[0]");
        ASSERT_FALSE(c) << text;
        EXPECT_NE(c.error().message.find(field), std::string::npos)
            << text << " -> " << c.error().message;
    };
    bad(R"({"model":"bulk","amount":"1"})", "model");
    bad(R"({"model":"per_unit","amount":"1"})", "meter");
    bad(R"({"model":"per_unit","meter":"m","amount":"-1"})", "amount");
    bad(R"({"model":"per_unit","meter":"m","amount":"0.0000000001"})", "amount");
    bad(R"({"model":"graduated","meter":"m","tiers":[]})", "tiers");
    bad(R"({"model":"graduated","meter":"m","tiers":[{"up_to":10,"unit_price":"1"},{"up_to":5,"unit_price":"1"},{"unit_price":"1"}]})",
        "tiers[1].up_to");
    bad(R"({"model":"volume","meter":"m","tiers":[{"up_to":10,"unit_price":"1"}]})", "open");
    bad(R"({"model":"package","meter":"m","amount":"1","package_size":0})", "package_size");
    bad(R"({"model":"flat","amount":"1","tiers":[]})", "tiers");
    bad(R"({"model":"flat","amount":"1","colour":"red"})", "colour");
}

}  // namespace
}  // namespace hangar::billing
