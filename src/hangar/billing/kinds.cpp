#include "hangar/billing/kinds.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/billing/invoice.hpp"
#include "hangar/billing/money.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::billing {

namespace json = boost::json;
using core::Fail;
using core::ObjectReader;

namespace {

// A percentage from 0 to 100 as a decimal string ("19", "7.7").
std::optional<std::string> ReadPercent(ObjectReader& r, std::string_view key) {
    const json::value* v = r.Any(key);
    std::optional<Decimal> d;
    if (v != nullptr && v->is_string()) {
        d = Decimal::Parse(v->as_string());
    } else if (v != nullptr && v->is_int64()) {
        d = Decimal::FromInt(v->as_int64());
    } else if (v != nullptr && v->is_double()) {
        d = Decimal::FromDouble(v->as_double());
    }
    if (!d || d->IsNegative() || *d > Decimal::FromInt(100)) {
        r.SetError(r.PathOf(key), "is required: a percentage from 0 to 100, such as \"19\"");
        return std::nullopt;
    }
    return d->ToString();
}

core::Result<json::object> ValidateTaxRate(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto c = r.String("country", true)) {
        if (c->size() != 2 ||
            !std::all_of(c->begin(), c->end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
            r.SetError("spec.country", "must be an ISO 3166 alpha-2 code such as DE");
        }
        out["country"] = *c;
    }
    if (auto p = ReadPercent(r, "percent")) {
        out["percent"] = *p;
    }
    out["name"] = core::ReadBoundedString(r, "name", 40).value_or("VAT");
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateUnitCost(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    if (auto res = r.String("resource", true)) {
        if (std::find(std::begin(kCostResources), std::end(kCostResources), *res) ==
            std::end(kCostResources)) {
            r.SetError(
                "spec.resource",
                "must be cpu_hour, memory_gib_hour, storage_gib_month or notification"
            );
        }
        out["resource"] = *res;
    }
    const json::value* amount = r.Any("amount");
    std::optional<Decimal> d;
    if (amount != nullptr && amount->is_string()) {
        d = Decimal::Parse(amount->as_string());
    } else if (amount != nullptr && amount->is_number()) {
        d = Decimal::FromDouble(amount->to_number<double>());
    }
    if (!d || d->IsNegative()) {
        r.SetError("spec.amount", "is required: a non-negative decimal such as \"0.012\"");
    } else {
        out["amount"] = d->ToString();
    }
    if (auto c = r.String("currency", true)) {
        if (!IsCurrencyCode(*c)) {
            r.SetError("spec.currency", "must be an ISO 4217 code such as EUR or USD");
        }
        out["currency"] = *c;
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

// An object named after a field of its spec: one per plan, country or resource.
std::function<core::Result<registry::AdmissionHold>(store::Object&)>
NamedAfter(std::string field, bool lower) {
    return [field, lower](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
        std::string want = core::StrAt(candidate.spec, field);
        for (char& c : want) {
            c = lower ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                      : (c == '_' ? '-' : c);
        }
        if (candidate.name != want) {
            return Fail(
                core::FieldError("metadata.name", fmt::format("must be {} (spec.{})", want, field))
            );
        }
        return registry::AdmissionHold{};
    };
}

}  // namespace

void RegisterKinds(registry::Registry& registry, store::Store& store) {
    registry.Add({
        .name = "PlanPrice",
        .plural = "planprices",
        .prefix = "ppr",
        .module = "billing",
        .summary = "What a plan charges each month: flat fees and usage charges, in a currency",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 22,
        .validate = ValidatePlanPriceSpec,
        .admit = [&store](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
            std::string plan = core::StrAt(candidate.spec, "plan");
            if (candidate.name != plan) {
                return Fail(core::FieldError(
                    "metadata.name", fmt::format("must be {} (the plan it prices)", plan)
                ));
            }
            if (!store.FindByName("Plan", "", plan)) {
                return Fail(
                    core::FieldError("spec.plan", fmt::format("plan {} does not exist", plan))
                );
            }
            return registry::AdmissionHold{};
        },
        .columns = {{"ID", "metadata.id"}, {"PLAN", "spec.plan"}, {"CURRENCY", "spec.currency"}},
    });
    registry.Add({
        .name = "TaxRate",
        .plural = "taxrates",
        .prefix = "tax",
        .module = "billing",
        .summary = "The tax rate invoices of tenants in a country carry",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 24,
        .validate = ValidateTaxRate,
        .admit = NamedAfter("country", true),
        .columns =
            {{"ID", "metadata.id"},
             {"COUNTRY", "spec.country"},
             {"NAME", "spec.name"},
             {"PERCENT", "spec.percent"}},
    });
    registry.Add({
        .name = "UnitCost",
        .plural = "unitcosts",
        .prefix = "uco",
        .module = "billing",
        .summary = "What a unit of a resource costs the platform (for margins)",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 26,
        .validate = ValidateUnitCost,
        .admit = NamedAfter("resource", false),
        .columns =
            {{"ID", "metadata.id"},
             {"RESOURCE", "spec.resource"},
             {"AMOUNT", "spec.amount"},
             {"CURRENCY", "spec.currency"}},
    });
    registry.Add({
        .name = "Subscription",
        .plural = "subscriptions",
        .prefix = "sub",
        .module = "billing",
        .summary = "A tenant's subscription to a plan: its periods, phases and state",
        .scope = registry::Scope::kTenant,
        .write_role = auth::Role::kAdmin,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"TENANT", "metadata.tenant"},
             {"PLAN", "spec.plan"},
             {"STATE", "status.state"},
             {"PERIOD END", "status.current_period_end"}},
    });
    registry.Add({
        .name = "Invoice",
        .plural = "invoices",
        .prefix = "inv",
        .module = "billing",
        .summary = "What a subscription's period cost: lines, credits, tax and total",
        .scope = registry::Scope::kTenant,
        .write_role = auth::Role::kAdmin,
        .system_managed = true,
        .columns =
            {{"ID", "metadata.id"},
             {"NUMBER", "spec.number"},
             {"TENANT", "metadata.tenant"},
             {"PERIOD", "spec.period_start"},
             {"TOTAL", "spec.total"},
             {"CURRENCY", "spec.currency"},
             {"STATE", "status.state"}},
    });
}

}  // namespace hangar::billing
