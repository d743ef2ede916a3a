#include "hangar/core/json.hpp"

#include <limits>

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

// Each refusal names the field, so a client knows what to fix.
TEST(ParseJson, RefusesWhatCouldNotBeStoredOrReadBack) {
    auto message = [](std::string_view text) {
        auto r = ParseJson(text);
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(
        message(R"({"config":{"x":-1e999}})"),
        "config.x: is a number too large for a double (the largest is about 1.8e308)"
    );
    EXPECT_EQ(
        message(R"({"a":[1,2,1e400]})"),
        "a[2]: is a number too large for a double (the largest is about 1.8e308)"
    );
    EXPECT_EQ(
        message(R"({"metadata":{"name":"a"},"metadata":{"name":"b"}})"),
        "metadata: appears twice in one object (duplicate keys are refused)"
    );
    EXPECT_EQ(
        message(R"({"a":{"b":1,"c":2,"b":3}})"),
        "a.b: appears twice in one object (duplicate keys are refused)"
    );
    EXPECT_EQ(message("{\"name\":\"a\\u0000b\"}"), "name: a string holds a NUL character");
    EXPECT_EQ(
        message(std::string(70, '[') + std::string(70, ']')),
        "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
        "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
        "[0][0][0][0]: nests deeper than 64 levels"
    );
    EXPECT_EQ(message("{} x"), "malformed JSON at byte 3: more text after the document");
    // Huge integers that still fit a double are numbers, and tiny ones round to zero.
    EXPECT_EQ(message(R"({"n":123456789012345678901234567890,"t":1e-999})"), "accepted");
    // The same key in two objects is no duplicate.
    EXPECT_EQ(message(R"({"a":{"k":1},"b":{"k":1}})"), "accepted");

    JsonLimits small{.max_depth = 8, .max_elements = 5, .max_string = 4};
    auto limited = [&](std::string_view text) {
        auto r = ParseJson(text, small);
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(limited("[1,2,3,4,5]"), "[4]: the document holds more than 5 values");
    EXPECT_EQ(limited(R"({"k":"12345"})"), "k: a string is longer than 4 bytes");
    EXPECT_EQ(limited(R"({"k":"1234"})"), "accepted");
}

TEST(FindNonFinite, NamesThePathOfTheFirstNonFiniteNumber) {
    json::object o{{"a", json::array{1, 2, std::numeric_limits<double>::infinity()}}, {"b", 1.5}};
    EXPECT_EQ(FindNonFinite(o, "spec"), "spec.a[2]");
    o["a"] = json::array{1};
    EXPECT_EQ(FindNonFinite(o, "spec"), std::nullopt);
}

TEST(ErrorToJson, HasCodeMessageAndDetails) {
    Error e = MakeError(ErrorCode::kNotFound, "gone fishing");
    e.With("field", "x");
    auto j = ErrorToJson(e);
    EXPECT_EQ(
        ToJson(j),
        R"({"error":{"code":"not_found","message":"gone fishing","details":{"field":"x"}}})"
    );
}

TEST(ToValidUtf8, KeepsValidTextAndReplacesTheRest) {
    EXPECT_EQ(ToValidUtf8("plain ascii"), "plain ascii");
    EXPECT_EQ(ToValidUtf8("caf\xC3\xA9 \xF0\x9F\x9A\x80"), "caf\xC3\xA9 \xF0\x9F\x9A\x80");
    EXPECT_EQ(ToValidUtf8("\xFF"), "\xEF\xBF\xBD");
    EXPECT_EQ(
        ToValidUtf8(std::string("a\0b", 3)),
        "a\xEF\xBF\xBD"
        "b"
    );
    EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong '/'";
    EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
    EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "truncated";
    auto parsed =
        ParseJson(ToJson(ErrorToJson(MakeError(ErrorCode::kNotFound, "id \xFF\xFE not found"))));
    EXPECT_TRUE(parsed) << "an error echoing junk is still valid JSON";
}

}  // namespace hangar::core
