#include "hangar/marketplace/kinds.hpp"

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::marketplace {

namespace json = boost::json;

namespace {

// A price: a number from 0 to 10^9 (a missing one is 0).
double ReadPrice(core::ObjectReader& r, std::string_view key) {
    const json::value* p = r.Any(key);
    if (p == nullptr) {
        return 0;
    }
    if (!p->is_number() || p->to_number<double>() < 0 || p->to_number<double>() > 1e9) {
        r.SetError(r.PathOf(key), "must be a number from 0 to 1000000000");
        return 0;
    }
    return p->to_number<double>();
}

// pricing_plans: [{strategy: once|monthly|yearly, price, trial_days?, per_seat?, enabled?,
//                  tiers?: [{per_unit?, minimum, maximum, price}]}], at most 10.
json::array ReadPricingPlans(core::ObjectReader& r) {
    json::array plans;
    core::ReadObjectArray(r, "pricing_plans", 0, 10, [&](core::ObjectReader& p, size_t) {
        std::string strategy = p.String("strategy", true).value_or("");
        if (p.ok() && strategy != "once" && strategy != "monthly" && strategy != "yearly") {
            p.SetError(p.PathOf("strategy"), "must be once, monthly or yearly");
        }
        json::object plan{
            {"strategy", strategy},
            {"price", ReadPrice(p, "price")},
            {"trial_days", core::ReadIntInRange(p, "trial_days", 0, 365).value_or(0)},
            {"per_seat", p.Bool("per_seat").value_or(false)},
            {"enabled", p.Bool("enabled").value_or(true)}};
        json::array tiers;
        core::ReadObjectArray(p, "tiers", 0, 10, [&](core::ObjectReader& t, size_t) {
            int64_t min = core::ReadIntInRange(t, "minimum", 0, 1000000000, true).value_or(0);
            int64_t max = core::ReadIntInRange(t, "maximum", 0, 1000000000, true).value_or(0);
            if (t.ok() && max < min) {
                t.SetError(t.PathOf("maximum"), "must not be below minimum");
            }
            tiers.push_back(json::object{
                {"per_unit", t.Bool("per_unit").value_or(true)},
                {"minimum", min},
                {"maximum", max},
                {"price", ReadPrice(t, "price")}});
        });
        plan["tiers"] = std::move(tiers);
        plans.push_back(std::move(plan));
    });
    return plans;
}

// screenshots: [{file_name, url, thumbnail_url?}], http(s) URLs, at most 20.
json::array ReadScreenshots(core::ObjectReader& r) {
    json::array shots;
    core::ReadObjectArray(r, "screenshots", 0, 20, [&](core::ObjectReader& s, size_t) {
        std::string url = core::ReadHttpUrl(s, "url", false, true).value_or("");
        std::string thumb = core::ReadHttpUrl(s, "thumbnail_url").value_or(url);
        shots.push_back(json::object{
            {"file_name", core::ReadBoundedString(s, "file_name", 200, true).value_or("")},
            {"url", url},
            {"thumbnail_url", thumb}});
    });
    return shots;
}

// A list of up to `max` marketplace app ids (the UUIDs in app.json).
json::array ReadAppIds(core::ObjectReader& r, std::string_view key, size_t max) {
    json::array ids;
    const json::array* list = r.Array(key, true);
    if (list == nullptr) {
        return ids;
    }
    if (list->size() > max) {
        r.SetError(r.PathOf(key), fmt::format("holds at most {} apps", max));
        return ids;
    }
    for (size_t i = 0; i < list->size(); ++i) {
        const json::value& v = (*list)[i];
        if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 64) {
            r.SetError(fmt::format("{}[{}]", r.PathOf(key), i), "must be an app id");
            return ids;
        }
        ids.push_back(v);
    }
    return ids;
}

// AppBundle: {title, description?, apps: [app ids]}: apps sold together (/v1/bundles/<id>/apps).
core::Result<json::object> ValidateBundleSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out{
        {"title", core::ReadBoundedString(r, "title", 120, true).value_or("")},
        {"description", core::ReadBoundedString(r, "description", 2000).value_or("")},
        {"apps", ReadAppIds(r, "apps", 100)}};
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

// AppSection: {label, order?, apps: [app ids]}: a featured section (/v1/featured-apps).
core::Result<json::object> ValidateSectionSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out{
        {"label", core::ReadBoundedString(r, "label", 120, true).value_or("")},
        {"order", core::ReadIntInRange(r, "order", 0, 1000).value_or(0)},
        {"apps", ReadAppIds(r, "apps", 50)}};
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

// App: {categories?: [..20 names], purchase_type?: ""|buy|subscription, price?: >= 0,
//       pricing_plans?, screenshots?, enterprise_only?, tenant? (private to it), yanked?}
core::Result<json::object> ValidateAppSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out;
    json::array categories;
    if (const json::array* cs = r.Array("categories")) {
        if (cs->size() > 20) {
            r.SetError("spec.categories", "holds at most 20 categories");
        }
        for (size_t i = 0; i < cs->size() && r.ok(); ++i) {
            const json::value& c = (*cs)[i];
            if (!c.is_string() || c.as_string().empty() || c.as_string().size() > 64) {
                r.SetError(
                    fmt::format("spec.categories[{}]", i), "must be a name of 1-64 characters"
                );
            } else {
                categories.push_back(c);
            }
        }
    }
    out["categories"] = std::move(categories);
    std::string purchase = r.String("purchase_type").value_or("");
    if (!purchase.empty() && purchase != "buy" && purchase != "subscription") {
        r.SetError("spec.purchase_type", "must be \"\", buy or subscription");
    }
    out["purchase_type"] = purchase;
    out["price"] = ReadPrice(r, "price");
    out["pricing_plans"] = ReadPricingPlans(r);
    if (r.ok() && purchase == "subscription" && out["pricing_plans"].as_array().empty()) {
        r.SetError("spec.pricing_plans", "a subscription app needs at least one pricing plan");
    }
    out["screenshots"] = ReadScreenshots(r);
    out["enterprise_only"] = r.Bool("enterprise_only").value_or(false);
    if (auto t = r.String("tenant"); t && !t->empty()) {
        if (!core::IsValidId(*t, "ten")) {
            r.SetError("spec.tenant", "must be a tenant id (ten_...)");
        }
        out["tenant"] = *t;
    }
    out["yanked"] = r.Bool("yanked").value_or(false);
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

}  // namespace

void RegisterKinds(registry::Registry& registry) {
    registry.Add({
        .name = "App",
        .plural = "apps",
        .prefix = "app",
        .module = "marketplace",
        .summary = "An app in the marketplace: its categories, price and who may see it",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateAppSpec,
        .actions =
            {
                {"yank",
                 [](json::object& spec) {
                     spec["yanked"] = true;
                 }},
            },
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"APP ID", "status.app_id"},
             {"PRICE", "spec.price"},
             {"YANKED", "spec.yanked"},
             {"INSTALLS", "status.active_installs"}},
    });
    registry.Add({
        .name = "AppBundle",
        .plural = "appbundles",
        .prefix = "abn",
        .module = "marketplace",
        .summary = "Apps offered together; each listing names the bundles it is in",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateBundleSpec,
        .columns = {{"ID", "metadata.id"}, {"NAME", "metadata.name"}, {"TITLE", "spec.title"}},
    });
    registry.Add({
        .name = "AppSection",
        .plural = "appsections",
        .prefix = "asc",
        .module = "marketplace",
        .summary = "A featured section of the marketplace: a label and the apps in it, in order",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateSectionSpec,
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"LABEL", "spec.label"},
             {"ORDER", "spec.order"}},
    });
    registry.Add({
        .name = "AppRequest",
        .plural = "apprequests",
        .prefix = "arq",
        .module = "marketplace",
        .summary = "A workspace user's request that an admin install an app",
        .scope = registry::Scope::kTenant,
        .write_role = auth::Role::kAdmin,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"APP", "spec.app_id"},
             {"WORKSPACE", "spec.workspace"},
             {"REQUESTER", "spec.requester.username"},
             {"SEEN", "status.seen"},
             {"SENT", "status.notification_sent"}},
    });
    registry.Add({
        .name = "AppRelease",
        .plural = "appreleases",
        .prefix = "apr",
        .module = "marketplace",
        .summary = "One published version of an app, its package kept with its SHA-256",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"APP", "spec.name_slug"},
             {"VERSION", "spec.version"},
             {"ENGINE", "spec.required_api_version"},
             {"SIZE", "status.size"},
             {"DOWNLOADS", "status.downloads"}},
    });
}

}  // namespace hangar::marketplace
