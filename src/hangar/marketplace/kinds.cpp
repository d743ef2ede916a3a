#include "hangar/marketplace/kinds.hpp"

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::marketplace {

namespace json = boost::json;

namespace {

// App: {categories?: [..20 names], purchase_type?: ""|buy|subscription, price?: >= 0,
//       enterprise_only?, tenant? (private to it), yanked?}
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
    double price = 0;
    if (const json::value* p = r.Any("price")) {
        if (!p->is_number() || p->to_number<double>() < 0 || p->to_number<double>() > 1e9) {
            r.SetError("spec.price", "must be a number from 0");
        } else {
            price = p->to_number<double>();
        }
    }
    out["price"] = price;
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
