#include "hangar/core/json.hpp"

#include <gtest/gtest.h>

namespace hangar::core {

namespace {
std::string Field(const Error& e) {
    for (const auto& [k, v] : e.details) {
        if (k == "field") {
            return v;
        }
    }
    return "";
}
}  // namespace

TEST(ObjectReader, ReadsKnownFieldsAndRejectsUnknownOnesByPath) {
    auto obj = ParseJsonObject(R"({"name":"a","n":3,"ok":true,"extra":1})");
    ASSERT_TRUE(obj);
    ObjectReader r(*obj, "spec");
    EXPECT_EQ(r.String("name"), "a");
    EXPECT_EQ(r.Int("n"), 3);
    EXPECT_EQ(r.Bool("ok"), true);
    auto res = r.Finish();
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(Field(res.error()), "spec.extra");
}

TEST(ObjectReader, WrongTypesNameTheField) {
    auto obj = ParseJsonObject(R"({"name":5,"labels":{"a":1}})");
    ObjectReader r(*obj, "");
    r.String("name");
    auto res = r.Finish();
    ASSERT_FALSE(res);
    EXPECT_EQ(Field(res.error()), "name");
    EXPECT_NE(res.error().message.find("must be a string"), std::string::npos);

    ObjectReader r2(*obj, "metadata");
    r2.Any("name");
    r2.StringMap("labels");
    auto res2 = r2.Finish();
    ASSERT_FALSE(res2);
    EXPECT_EQ(Field(res2.error()), "metadata.labels.a");
}

TEST(ObjectReader, RequiredFieldsAreReported) {
    auto obj = ParseJsonObject("{}");
    ObjectReader r(*obj, "spec");
    r.String("email", /*required=*/true);
    auto res = r.Finish();
    ASSERT_FALSE(res);
    EXPECT_EQ(Field(res.error()), "spec.email");
}

TEST(ParseJson, RejectsMalformedAndTooDeepInput) {
    EXPECT_FALSE(ParseJson("{"));
    EXPECT_FALSE(ParseJson("{\"a\":}"));
    EXPECT_FALSE(ParseJsonObject("[1,2]"));
    EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']')));
    EXPECT_TRUE(ParseJson(R"({"a":[1,2,{"b":null}]})"));
}

TEST(ErrorToJson, HasCodeMessageAndDetails) {
    Error e = MakeError(ErrorCode::kNotFound, "gone fishing");
    e.With("field", "x");
    auto j = ErrorToJson(e);
    EXPECT_EQ(ToJson(j), R"({"error":{"code":"not_found","message":"gone fishing","details":{"field":"x"}}})");
}

}  // namespace hangar::core
