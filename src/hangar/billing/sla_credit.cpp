#include "hangar/billing/sla_credit.hpp"

#include <set>

#include <fmt/format.h>

#include "hangar/core/json.hpp"

namespace hangar::billing {

namespace json = boost::json;

namespace {

bool Lists(const json::object& spec, std::string_view key, const std::set<std::string>& any) {
    const json::object* affected = core::ObjectAt(spec, "affected");
    const json::value* list = affected != nullptr ? affected->if_contains(key) : nullptr;
    if (list == nullptr || !list->is_array()) {
        return false;
    }
    for (const json::value& v : list->as_array()) {
        if (v.is_string() && any.contains(std::string(v.as_string()))) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<SlaCredit> CreditFromSlaReport(
    store::Store& store,
    const std::string& tenant,
    const std::string& month,
    const json::object& report
) {
    SlaCredit credit;
    credit.month = month;
    credit.report = fmt::format("/v1/tenants/{}/sla?month={}", tenant, month);
    std::set<std::string> instances;
    if (const json::value* rows = report.if_contains("instances");
        rows != nullptr && rows->is_array()) {
        for (const json::value& v : rows->as_array()) {
            if (!v.is_object()) {
                continue;
            }
            const json::object& row = v.as_object();
            const json::value* pct = row.if_contains("credit_percent");
            if (pct == nullptr || !pct->is_number() || pct->to_number<double>() <= 0) {
                continue;
            }
            auto d = Decimal::FromDouble(pct->to_number<double>());
            if (!d) {
                continue;
            }
            credit.percent = std::max(credit.percent, std::min(*d, Decimal::FromInt(100)));
            std::string id = core::StrAt(row, "instance");
            instances.insert(id);
            credit.instances.push_back(json::object{
                {"instance", id},
                {"name", core::StrAt(row, "name")},
                {"uptime_percent",
                 row.contains("uptime_percent") ? row.at("uptime_percent") : nullptr},
                {"sla_target_percent",
                 row.contains("sla_target_percent") ? row.at("sla_target_percent") : nullptr},
                {"credit_percent", d->ToString()},
            });
        }
    }
    if (credit.percent.IsZero()) {
        return std::nullopt;
    }
    auto incidents = store.ListAll("Incident", std::nullopt, [&](const store::Object& o) {
        return o.created_at.starts_with(month) &&
               (o.tenant == tenant || Lists(o.spec, "tenants", {tenant}) ||
                Lists(o.spec, "instances", instances));
    });
    for (const auto& o : incidents.value_or(std::vector<store::Object>{})) {
        credit.incidents.emplace_back(o.id);
    }
    return credit;
}

}  // namespace hangar::billing
