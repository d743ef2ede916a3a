#include "hangar/observe/specs.hpp"

#include <fmt/format.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/metrics/promql_ast.hpp"

namespace hangar::observe {

namespace json = boost::json;
using core::Fail;
using core::ObjectReader;
using core::Result;

core::Result<json::object> ValidateSloSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    const json::value* target = r.Any("target_percent");
    if (target == nullptr || !target->is_number() || target->to_number<double>() <= 0 ||
        target->to_number<double>() >= 100) {
        r.SetError("spec.target_percent", "is required: a percentage below 100, such as 99.9");
    } else {
        out["target_percent"] = target->to_number<double>();
    }
    auto window = r.Int("window_days");
    if (window && (*window < 1 || *window > 90)) {
        r.SetError("spec.window_days", "must be between 1 and 90");
    }
    out["window_days"] = window.value_or(30);
    auto instance = r.String("instance");
    auto product = r.String("product");
    if (instance && product) {
        r.SetError("spec", "names an instance or a product, not both (neither: the whole tenant)");
    }
    if (instance) {
        out["instance"] = *instance;
    }
    if (product) {
        out["product"] = *product;
    }
    if (auto d = r.String("description")) {
        out["description"] = *d;
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateMaintenanceWindowSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    auto starts = r.String("starts_at", true);
    auto ends = r.String("ends_at", true);
    auto reason = r.String("reason", true);
    auto selector = r.String("selector");
    std::optional<core::TimePoint> a, b;
    if (starts && !(a = core::ParseRfc3339(*starts))) {
        r.SetError("spec.starts_at", "must be an RFC 3339 time such as 2026-10-20T02:00:00Z");
    }
    if (ends && !(b = core::ParseRfc3339(*ends))) {
        r.SetError("spec.ends_at", "must be an RFC 3339 time such as 2026-10-20T04:00:00Z");
    }
    if (a && b && *b <= *a) {
        r.SetError("spec.ends_at", "must be after starts_at");
    }
    if (reason && reason->empty()) {
        r.SetError("spec.reason", "must say why");
    }
    if (selector) {
        auto e = metrics::promql::Parse(*selector);
        if (!e || (*e)->kind != metrics::promql::Expr::Kind::kVectorSelector) {
            r.SetError(
                "spec.selector",
                fmt::format(
                    "must be a series selector such as {{product=\"workspace\"}}{}",
                    e ? "" : ": " + e.error().message
                )
            );
        }
        out["selector"] = *selector;
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    out["starts_at"] = core::FormatRfc3339(*a);
    out["ends_at"] = core::FormatRfc3339(*b);
    out["reason"] = *reason;
    return out;
}

}  // namespace hangar::observe
