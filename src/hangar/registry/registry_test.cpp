#include "hangar/registry/registry.hpp"

#include <gtest/gtest.h>

namespace hangar::registry {
namespace {

Kind Sample(std::string name, std::string plural, std::string prefix) {
    return Kind{
        .name = std::move(name),
        .plural = std::move(plural),
        .prefix = std::move(prefix),
        .module = "test",
        .validate = [](const boost::json::object& spec) -> core::Result<boost::json::object> {
            return spec;
        }};
}

TEST(Registry, FindsKindsByNameAndPluralInRegistrationOrder) {
    Registry r;
    r.Add(Sample("Widget", "widgets", "wdg"));
    r.Add(Sample("Gadget", "gadgets", "gdg"));
    ASSERT_NE(r.ByPlural("gadgets"), nullptr);
    EXPECT_EQ(r.ByPlural("gadgets")->name, "Gadget");
    EXPECT_EQ(r.ByName("Widget")->plural, "widgets");
    EXPECT_EQ(r.ByName("widgets"), nullptr);
    ASSERT_EQ(r.All().size(), 2u);
    EXPECT_EQ(r.All()[0]->name, "Widget");
}

TEST(Registry, RefusesARegistrationThatCollidesOrIsIncomplete) {
    Registry r;
    r.Add(Sample("Widget", "widgets", "wdg"));
    EXPECT_THROW(r.Add(Sample("Widget", "others", "oth")), std::logic_error);
    EXPECT_THROW(r.Add(Sample("Other", "widgets", "oth")), std::logic_error);
    EXPECT_THROW(r.Add(Sample("Other", "others", "wdg")), std::logic_error);
    EXPECT_THROW(r.Add(Sample("other", "others", "oth")), std::logic_error);
    EXPECT_THROW(r.Add(Sample("Other", "others", "ot")), std::logic_error);
    Kind no_validator = Sample("Other", "others", "oth");
    no_validator.validate = nullptr;
    EXPECT_THROW(r.Add(no_validator), std::logic_error);
    no_validator.system_managed = true;
    EXPECT_NO_THROW(r.Add(no_validator));
}

TEST(Registry, DescribesKindsForClients) {
    Registry r;
    Kind k = Sample("Widget", "widgets", "wdg");
    k.scope = Scope::kPlatform;
    k.admin_creates = true;
    k.write_role = auth::Role::kOperator;
    k.actions = {{"spin", [](boost::json::object&) {
                  }}};
    k.apply_order = 10;
    r.Add(std::move(k));
    boost::json::object d = r.Describe().at(0).as_object();
    EXPECT_EQ(d.at("kind"), "Widget");
    EXPECT_EQ(d.at("scope"), "platform");
    EXPECT_EQ(d.at("create_role"), "admin");
    EXPECT_EQ(d.at("update_role"), "operator");
    EXPECT_EQ(d.at("actions").as_array().at(0), "spin");
    EXPECT_EQ(d.at("apply_order"), 10);
    // A kind without columns of its own gets the default table.
    EXPECT_EQ(d.at("columns").as_array().at(0).at("header"), "ID");
}

}  // namespace
}  // namespace hangar::registry
