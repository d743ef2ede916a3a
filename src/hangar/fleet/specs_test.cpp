#include "hangar/fleet/specs.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hangar::fleet {
namespace {

json::object Json(std::string_view text) {
    return json::parse(text).as_object();
}

// Each row: a spec as a client sends it. The typed form's ToJson must be exactly what the
// validator stores (the store's copy is what every reader sees).
struct Valid {
    const char* kind;
    const char* spec;
};

json::object Stored(std::string_view kind, const json::object& spec) {
    auto v = kind == "Plan"      ? ValidatePlanSpec(spec)
             : kind == "Product" ? ValidateProductSpec(spec)
                                 : ValidateInstanceSpec(spec);
    EXPECT_TRUE(v) << v.error().message;
    return v ? *v : json::object();
}

json::object Typed(std::string_view kind, const json::object& spec) {
    if (kind == "Plan") {
        auto p = PlanSpec::Parse(spec);
        EXPECT_TRUE(p) << p.error().message;
        return p ? p->ToJson() : json::object();
    }
    if (kind == "Product") {
        auto p = ProductSpec::Parse(spec);
        EXPECT_TRUE(p) << p.error().message;
        return p ? p->ToJson() : json::object();
    }
    auto p = InstanceSpec::Parse(spec);
    EXPECT_TRUE(p) << p.error().message;
    return p ? p->ToJson() : json::object();
}

TEST(FleetSpecs, TheTypedFormWritesExactlyWhatTheValidatorStores) {
    const Valid rows[] = {
        {"Plan", R"({"memory_mb":256,"cpu_millis":500})"},
        {"Plan",
         R"({"memory_mb":1024,"cpu_millis":1000,"display_name":"Team",
             "entitlements":{"max_instances":3,"monthly_push_notifications":1000,"enterprise_apps":true},
             "price":{"amount_cents":4900,"currency":"EUR","interval":"month"},
             "sla":{"target_percent":99.5,"credits":[{"below_percent":99.5,"credit_percent":10}]}})"},
        {"Plan", R"({"memory_mb":64,"cpu_millis":100,"sla":{"target_percent":99,"credits":[]}})"},
        {"Product", R"({"versions":[{"version":"1.0","run":{"simulated":{}}}]})"},
        {"Product",
         R"({"display_name":"Chat","default_version":"1.0","workspace":{"services":["push"]},
             "versions":[{"version":"1.0","run":{"process":{"command":["/bin/true"]}},
                          "health":{"http":{"path":"/h","expected_status":204},"interval_seconds":5},
                          "metrics_path":"/metrics","config_schema":{"type":"object"},
                          "backup_command":["tar","c","."]},
                         {"version":"2.0","run":{"simulated":{}},"backup_command":[]}]})"},
        {"Instance", R"({"product":"chat","plan":"small"})"},
        {"Instance",
         R"({"product":"chat","plan":"small","version":"2.0","config":{"a":1},"domain":"x.example",
             "release_channel":"canary","deletion_protection":true,"suspended":true,
             "restart_nonce":3,"maintenance_window":{"day":"sun","start":"02:30","duration_minutes":60}})"},
    };
    for (const auto& row : rows) {
        json::object spec = Json(row.spec);
        json::object stored = Stored(row.kind, spec);
        json::object typed = Typed(row.kind, spec);
        EXPECT_EQ(json::serialize(typed), json::serialize(stored)) << row.kind << " " << row.spec;
        // And reading the stored form back gives the same again.
        EXPECT_EQ(json::serialize(Typed(row.kind, stored)), json::serialize(stored)) << row.spec;
    }
}

TEST(FleetSpecs, ParseIsStrictAndNamesTheField) {
    const std::pair<const char*, const char*> plans[] = {
        {R"({"memory_mb":0,"cpu_millis":1})", "spec.memory_mb"},
        {R"({"memory_mb":1,"cpu_millis":1,"colour":"red"})", "spec.colour"},
        {R"({"memory_mb":1,"cpu_millis":1,"entitlements":{"max_instances":-1}})",
         "spec.entitlements.max_instances"},
        {R"({"memory_mb":1,"cpu_millis":1,"sla":{"target_percent":101}})",
         "spec.sla.target_percent"},
    };
    for (const auto& [text, field] : plans) {
        auto p = PlanSpec::Parse(Json(text));
        ASSERT_FALSE(p) << text;
        EXPECT_NE(p.error().message.find(field), std::string::npos) << p.error().message;
    }
    auto product = ProductSpec::Parse(Json(R"({"versions":[{"version":"1.0","run":{"vm":{}}}]})"));
    ASSERT_FALSE(product);
    EXPECT_NE(product.error().message.find("spec.versions[0].run.vm"), std::string::npos)
        << product.error().message;
    auto instance =
        InstanceSpec::Parse(Json(R"({"product":"chat","plan":"small","release_channel":"beta"})"));
    ASSERT_FALSE(instance);
    EXPECT_NE(instance.error().message.find("spec.release_channel"), std::string::npos)
        << instance.error().message;
}

TEST(FleetSpecs, StoredSpecsReadWithTheirDefaults) {
    InstanceSpec i = InstanceSpec::FromStored(Json(R"({"product":"chat","plan":"small"})"));
    EXPECT_EQ(i.release_channel, "stable");
    EXPECT_FALSE(i.suspended);
    EXPECT_FALSE(i.restart_nonce);
    EXPECT_TRUE(i.version.empty());

    ProductSpec p = ProductSpec::FromStored(Json(
        R"({"default_version":"2.0","versions":[{"version":"1.0","run":{"process":{"command":["a"]}}},
            {"version":"2.0","run":{"simulated":{"start_ms":5}}}]})"
    ));
    ASSERT_NE(p.Find("2.0"), nullptr);
    EXPECT_EQ(p.Find("3.0"), nullptr);
    EXPECT_EQ(json::serialize(p.Find("2.0")->RecipeFor("simulated")), R"({"start_ms":5})");
    EXPECT_TRUE(p.Find("2.0")->RecipeFor("process").empty());

    PlanSpec plan = PlanSpec::FromStored(Json(R"({"memory_mb":512,"cpu_millis":250})"));
    EXPECT_EQ(plan.memory_mb, 512);
    EXPECT_FALSE(plan.entitlements);
    EXPECT_FALSE(plan.sla);
}

}  // namespace
}  // namespace hangar::fleet
