#include "hangar/metrics/labels.hpp"

#include <gtest/gtest.h>

namespace hangar::metrics {
namespace {

TEST(LabelsTest, NormalizeSortsDropsEmptyValuesAndRejectsBadNames) {
    std::vector<LabelView> l = {{"job", "api"}, {"__name__", "up"}, {"empty", ""}, {"a", "1"}};
    ASSERT_TRUE(NormalizeLabels(l));
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[0].name, "__name__");
    EXPECT_EQ(l[1].name, "a");
    EXPECT_EQ(l[2].name, "job");

    std::vector<LabelView> dup = {{"__name__", "up"}, {"a", "1"}, {"a", "2"}};
    EXPECT_EQ(NormalizeLabels(dup).error().message, "label \"a\" appears twice");
    std::vector<LabelView> bad = {{"__name__", "up"}, {"1a", "1"}};
    EXPECT_EQ(NormalizeLabels(bad).error().message, "invalid label name \"1a\"");
    std::vector<LabelView> noname = {{"a", "1"}};
    EXPECT_EQ(
        NormalizeLabels(noname).error().message, "series has no metric name (label __name__)"
    );
    std::vector<LabelView> badname = {{"__name__", "a-b"}};
    EXPECT_EQ(NormalizeLabels(badname).error().message, "invalid metric name \"a-b\"");
    std::vector<LabelView> utf = {{"__name__", "up"}, {"x", "\xff"}};
    EXPECT_FALSE(NormalizeLabels(utf));
}

TEST(LabelsTest, Utf8Validation) {
    EXPECT_TRUE(ValidUtf8("plain"));
    EXPECT_TRUE(ValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(ValidUtf8("\xc3"));
    EXPECT_FALSE(ValidUtf8("\xe2\x82"));
    EXPECT_FALSE(ValidUtf8("\x80"));
}

TEST(LabelsTest, EqualSetsHashEqualAndBoundariesMatter) {
    Labels a = {{"__name__", "up"}, {"ab", "c"}};
    Labels b = {{"__name__", "up"}, {"a", "bc"}};
    EXPECT_NE(HashLabels(a), HashLabels(b));
    std::vector<LabelView> v = {{"__name__", "up"}, {"ab", "c"}};
    EXPECT_EQ(HashLabels(a), HashLabels(v));
    EXPECT_TRUE(SameLabels(a, v));
    EXPECT_EQ(
        FormatLabels({{"__name__", "up"}, {"job", "a\"b\\c\nd"}}), "up{job=\"a\\\"b\\\\c\\nd\"}"
    );
}

TEST(LabelsTest, MatchersAreAnchoredRe2AndAbsentLabelsMatchEmpty) {
    auto re = Matcher::Make(MatchOp::kRegex, "job", "api|web");
    ASSERT_TRUE(re);
    EXPECT_TRUE(re->Matches("api"));
    EXPECT_FALSE(re->Matches("api2")) << "fully anchored, as in Prometheus";
    auto any = Matcher::Make(MatchOp::kRegex, "x", ".*");
    EXPECT_TRUE(any->Matches(""));
    auto ne = Matcher::Make(MatchOp::kNotEqual, "env", "prod");
    Labels l = {{"__name__", "up"}};
    EXPECT_TRUE(MatchesAll(l, std::vector<Matcher>{*ne}));
    auto dot = Matcher::Make(MatchOp::kRegex, "x", "a.b");
    EXPECT_TRUE(dot->Matches("a\nb")) << "dot matches newline, as Prometheus's (?s)";
    auto bad = Matcher::Make(MatchOp::kRegex, "x", "(");
    ASSERT_FALSE(bad);
    EXPECT_NE(
        bad.error().message.find("invalid regular expression \"(\" for label x"), std::string::npos
    );
}

TEST(LabelsTest, LiteralAlternationsMatchAsSetsWithTheRegexMeaning) {
    auto set = Matcher::Make(MatchOp::kRegex, "instance", "i7|i1|i10");
    ASSERT_TRUE(set);
    ASSERT_NE(set->Literals(), nullptr);
    EXPECT_EQ(*set->Literals(), (std::vector<std::string>{"i1", "i10", "i7"}));
    EXPECT_TRUE(set->Matches("i10"));
    EXPECT_FALSE(set->Matches("i100"));
    EXPECT_FALSE(set->Matches("i"));
    EXPECT_FALSE(set->Matches(""));
    auto with_empty = Matcher::Make(MatchOp::kRegex, "x", "a|");
    EXPECT_TRUE(with_empty->Matches(""));
    auto not_set = Matcher::Make(MatchOp::kNotRegex, "x", "a|b");
    EXPECT_FALSE(not_set->Matches("a"));
    EXPECT_TRUE(not_set->Matches("c"));
    EXPECT_EQ(Matcher::Make(MatchOp::kRegex, "x", "a.|b")->Literals(), nullptr)
        << "a metacharacter: RE2";
    EXPECT_EQ(Matcher::Make(MatchOp::kRegex, "x", "a\\|b")->Literals(), nullptr);
}

}  // namespace
}  // namespace hangar::metrics
