#include "hangar/core/error.hpp"

#include <set>

#include <gtest/gtest.h>

namespace hangar::core {

TEST(ErrorCode, EveryCodeHasADistinctStringAStatusAndAnExitCode) {
    std::set<std::string_view> seen;
    for (ErrorCode c : kAllErrorCodes) {
        std::string_view s = CodeString(c);
        EXPECT_FALSE(s.empty());
        EXPECT_TRUE(seen.insert(s).second) << "duplicate code string " << s;
        int status = HttpStatus(c);
        EXPECT_GE(status, 400) << s;
        EXPECT_LT(status, 600) << s;
        EXPECT_GT(ExitCode(c), 2) << s
                                  << " must not collide with usage (1) or connection (2) exits";
        EXPECT_EQ(CodeFromString(s), c) << s;
    }
    EXPECT_EQ(seen.size(), std::size(kAllErrorCodes));
}

TEST(ErrorCode, StatusesAreTheConventionalOnes) {
    EXPECT_EQ(HttpStatus(ErrorCode::kInvalidArgument), 400);
    EXPECT_EQ(HttpStatus(ErrorCode::kUnauthenticated), 401);
    EXPECT_EQ(HttpStatus(ErrorCode::kForbidden), 403);
    EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
    EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
    EXPECT_EQ(HttpStatus(ErrorCode::kGone), 410);
    EXPECT_EQ(HttpStatus(ErrorCode::kPayloadTooLarge), 413);
    EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
    EXPECT_EQ(CodeFromString("no-such-code"), ErrorCode::kInternal);
}

}  // namespace hangar::core
