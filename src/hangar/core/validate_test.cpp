#include "hangar/core/validate.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace hangar::core {
namespace {

TEST(Validate, DnsLabels) {
    struct Case {
        std::string_view in;
        bool ok;
    };
    for (auto [in, ok] : std::initializer_list<Case>{
             {"a", true},
             {"acme-prod-1", true},
             {"0day", true},
             {std::string_view("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"),
              true},
             {std::string_view("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"),
              false},
             {"", false},
             {"-a", false},
             {"a-", false},
             {"Acme", false},
             {"a_b", false},
             {"a.b", false},
             {"caf\xc3\xa9", false}}) {
        EXPECT_EQ(IsDnsLabel(in), ok) << in;
    }
}

TEST(Validate, EmailAddresses) {
    struct Case {
        std::string_view in;
        bool ok;
    };
    for (auto [in, ok] : std::initializer_list<Case>{
             {"ops@example.com", true},
             {"a@b", true},
             {"@example.com", false},
             {"ops@", false},
             {"ops", false},
             {"a@b@c", false},
             {"ops @example.com", false},
             {"ops@example.com\r\nBcc: x@y", false},
             {"<ops@example.com>", false},
             {"a@b,c@d", false}}) {
        EXPECT_EQ(IsEmailAddress(in), ok) << in;
    }
    EXPECT_FALSE(IsEmailAddress(std::string(250, 'a') + "@b.com"));
}

TEST(Validate, HttpUrls) {
    struct Case {
        std::string_view in;
        bool https_only;
        std::optional<std::string> problem;
    };
    for (const auto& [in, https_only, problem] : std::initializer_list<Case>{
             {"https://hooks.example.com/x", false, std::nullopt},
             {"http://127.0.0.1:9000/", false, std::nullopt},
             {"http://example.com", true, "must be an https:// URL"},
             {"ftp://example.com", false, "must be an http:// or https:// URL"},
             {"https://", false, "must name a host"},
             {"https:///path", false, "must name a host"},
             {"https://a b", false, "must not contain spaces or control characters"},
             {"example.com", false, "must be an http:// or https:// URL"}}) {
        EXPECT_EQ(HttpUrlProblem(in, https_only), problem) << in;
    }
    EXPECT_EQ(
        HttpUrlProblem("https://x/" + std::string(2048, 'a')), "must be at most 2048 characters"
    );
}

// Each reader helper on one document, with the error it leaves (empty: none).
TEST(Validate, ReadersNameTheFieldTheyRefuse) {
    struct Case {
        std::string doc;
        std::function<void(ObjectReader&)> read;
        std::string error;
    };
    std::vector<Case> cases = {
        {R"({"n":"abc"})", [](ObjectReader& r) { ReadBoundedString(r, "n", 3); }, ""},
        {R"({"n":"abcd"})",
         [](ObjectReader& r) { ReadBoundedString(r, "n", 3); },
         "spec.n: must be at most 3 characters"},
        {R"({})",
         [](ObjectReader& r) { ReadDnsLabel(r, "n", true); },
         "spec.n: is required (a string)"},
        {R"({"n":"Bad"})",
         [](ObjectReader& r) { ReadDnsLabel(r, "n"); },
         "spec.n: must be 1-63 lowercase letters, digits or '-', starting and ending with a letter "
         "or digit"},
        {R"({"e":"x"})",
         [](ObjectReader& r) { ReadEmail(r, "e"); },
         "spec.e: must be an email address"},
        {R"({"u":"http://x"})",
         [](ObjectReader& r) { ReadHttpUrl(r, "u", true); },
         "spec.u: must be an https:// URL"},
        {R"({"i":5})", [](ObjectReader& r) { ReadIntInRange(r, "i", 1, 5); }, ""},
        {R"({"i":6})",
         [](ObjectReader& r) { ReadIntInRange(r, "i", 1, 5); },
         "spec.i: must be from 1 to 5"},
        {R"({"i":"6"})",
         [](ObjectReader& r) { ReadIntInRange(r, "i", 1, 5); },
         "spec.i: must be an integer"},
        {R"({"d":"5m"})",
         [](ObjectReader& r) {
             ReadDuration(r, "d", std::chrono::seconds(60), std::chrono::hours(1));
         },
         ""},
        {R"({"d":"2h"})",
         [](ObjectReader& r) {
             ReadDuration(r, "d", std::chrono::seconds(60), std::chrono::hours(1));
         },
         "spec.d: must be from 1m to 1h"},
        {R"({"d":"soon"})",
         [](ObjectReader& r) {
             ReadDuration(r, "d", std::chrono::seconds(1), std::chrono::hours(1));
         },
         "spec.d: must be a duration such as 90s, 5m or 2h"},
        {R"({"a":[{"x":1},{"x":2}]})",
         [](ObjectReader& r) {
             ReadObjectArray(r, "a", 1, 2, [](ObjectReader& i, size_t) { i.Int("x"); });
         },
         ""},
        {R"({"a":[{"x":1},{"x":2},{"x":3}]})",
         [](ObjectReader& r) {
             ReadObjectArray(r, "a", 1, 2, [](ObjectReader& i, size_t) { i.Int("x"); });
         },
         "spec.a: must have from 1 to 2 elements"},
        {R"({"a":[{"x":1},7]})",
         [](ObjectReader& r) {
             ReadObjectArray(r, "a", 0, 9, [](ObjectReader& i, size_t) { i.Int("x"); });
         },
         "spec.a[1]: must be an object"},
        {R"({"a":[{"x":1},{"y":2}]})",
         [](ObjectReader& r) {
             ReadObjectArray(r, "a", 0, 9, [](ObjectReader& i, size_t) { i.Int("x"); });
         },
         "spec.a[1].y: unknown field"},
    };
    for (const auto& c : cases) {
        json::object doc = boost::json::parse(c.doc).as_object();
        ObjectReader r(doc, "spec");
        c.read(r);
        auto done = r.Finish();
        std::string got = done ? "" : done.error().message;
        EXPECT_EQ(got, c.error) << c.doc;
    }
}

}  // namespace
}  // namespace hangar::core
