#include "hangar/store/selector.hpp"

#include <gtest/gtest.h>

namespace hangar::store {

TEST(Selector, MatchesEveryOperator) {
    Labels l{{"env", "prod"}, {"tier", "web"}, {"team", "a"}};
    auto yes = [&](const char* s) {
        auto sel = Selector::Parse(s);
        EXPECT_TRUE(sel) << s;
        return sel && sel->Matches(l);
    };
    EXPECT_TRUE(yes(""));
    EXPECT_TRUE(yes("env=prod"));
    EXPECT_TRUE(yes("env==prod"));
    EXPECT_FALSE(yes("env=dev"));
    EXPECT_TRUE(yes("env!=dev"));
    EXPECT_FALSE(yes("env!=prod"));
    EXPECT_TRUE(yes("team in (a,b)"));
    EXPECT_FALSE(yes("team notin (a,b)"));
    EXPECT_TRUE(yes("tier"));
    EXPECT_FALSE(yes("!tier"));
    EXPECT_TRUE(yes("!canary"));
    EXPECT_TRUE(yes("env=prod, tier=web,team in (a)"));
    EXPECT_FALSE(yes("env=prod,tier=db"));
    EXPECT_TRUE(yes("missing!=x"));
}

TEST(Selector, RejectsMalformedSelectors) {
    for (const char* bad :
         {"env=prod,",
          ",",
          "team in a,b",
          "team in (a,b",
          "bad key=1",
          "env=pr od",
          "-x=1",
          "team (a)",
          "k=v)"}) {
        EXPECT_FALSE(Selector::Parse(bad)) << bad;
    }
}

TEST(Labels, KeysAndValuesFollowKubernetesRules) {
    EXPECT_TRUE(IsValidLabelKey("app"));
    EXPECT_TRUE(IsValidLabelKey("hangar.dev/tier"));
    EXPECT_FALSE(IsValidLabelKey(""));
    EXPECT_FALSE(IsValidLabelKey("-app"));
    EXPECT_FALSE(IsValidLabelKey(std::string(64, 'a')));
    EXPECT_TRUE(IsValidLabelValue(""));
    EXPECT_TRUE(IsValidLabelValue("v1.2_3-rc"));
    EXPECT_FALSE(IsValidLabelValue("has space"));
}

}  // namespace hangar::store
