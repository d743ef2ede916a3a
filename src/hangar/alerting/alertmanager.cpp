#include "hangar/alerting/alertmanager.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"

namespace hangar::alerting {

using core::Fail;

namespace {

constexpr size_t kMaxIntakeAlerts = 10000;

core::Result<metrics::Labels> ReadLabels(const json::value* v, const std::string& path) {
    metrics::Labels out;
    if (v == nullptr || !v->is_object()) {
        return Fail(core::FieldError(path, "must be an object of label names to strings"));
    }
    for (const auto& [k, val] : v->as_object()) {
        if (!val.is_string()) {
            return Fail(core::FieldError(
                fmt::format("{}.{}", path, std::string_view(k)), "must be a string"
            ));
        }
        out.push_back({std::string(k), std::string(val.as_string())});
    }
    if (auto n = metrics::NormalizeLabelSet(out); !n) {
        return Fail(core::FieldError(path, n.error().message));
    }
    return out;
}

core::Result<std::map<std::string, std::string>>
ReadAnnotations(const json::value* v, const std::string& path) {
    std::map<std::string, std::string> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_object()) {
        return Fail(core::FieldError(path, "must be an object of names to strings"));
    }
    for (const auto& [k, val] : v->as_object()) {
        if (!val.is_string() || val.as_string().size() > 16384) {
            return Fail(core::FieldError(
                fmt::format("{}.{}", path, std::string_view(k)),
                "must be a string of at most 16 KiB"
            ));
        }
        out[std::string(k)] = val.as_string();
    }
    return out;
}

}  // namespace

core::Result<std::vector<Alert>> ReadAlertmanagerWebhook(
    const json::object& body,
    core::TimePoint now,
    const std::function<core::Result<std::string>(std::string_view label_tenant)>& tenant_of
) {
    const json::value* version = body.if_contains("version");
    if (version == nullptr || !version->is_string() || version->as_string() != "4") {
        return Fail(core::FieldError(
            "version",
            "must be \"4\": Alertmanager's webhook payload version 4 (Alertmanager 0.16 and later)"
        ));
    }
    const json::value* alerts = body.if_contains("alerts");
    if (alerts == nullptr || !alerts->is_array()) {
        return Fail(core::FieldError("alerts", "must be an array of alerts"));
    }
    if (alerts->as_array().size() > kMaxIntakeAlerts) {
        return Fail(core::FieldError(
            "alerts",
            fmt::format(
                "holds more than {} alerts; lower max_alerts in the webhook config",
                kMaxIntakeAlerts
            )
        ));
    }
    std::vector<Alert> out;
    for (size_t i = 0; i < alerts->as_array().size(); ++i) {
        std::string path = fmt::format("alerts[{}]", i);
        const json::value& av = alerts->as_array()[i];
        if (!av.is_object()) {
            return Fail(core::FieldError(path, "must be an object"));
        }
        const json::object& a = av.as_object();
        std::string status = core::StrAt(a, "status");
        if (status != "firing" && status != "resolved") {
            return Fail(core::FieldError(path + ".status", "must be firing or resolved"));
        }
        auto labels = ReadLabels(a.if_contains("labels"), path + ".labels");
        if (!labels) {
            return Fail(labels.error());
        }
        if (metrics::Get(*labels, "alertname").empty()) {
            return Fail(
                core::FieldError(path + ".labels.alertname", "is required: it names the alert")
            );
        }
        auto annotations = ReadAnnotations(a.if_contains("annotations"), path + ".annotations");
        if (!annotations) {
            return Fail(annotations.error());
        }
        auto tenant = tenant_of(metrics::Get(*labels, "tenant"));
        if (!tenant) {
            return Fail(tenant.error());
        }
        Alert alert{
            *tenant,
            std::move(*labels),
            std::move(*annotations),
            now,
            std::nullopt,
            "alertmanager",
            core::StrAt(a, "generatorURL"),
            0};
        if (auto s = core::ParseRfc3339(core::StrAt(a, "startsAt"))) {
            alert.starts_at = *s;
        }
        if (status == "resolved") {
            auto e = core::ParseRfc3339(core::StrAt(a, "endsAt"));
            alert.ends_at = e && *e > alert.starts_at ? *e : now;
        }
        out.push_back(std::move(alert));
    }
    return out;
}

}  // namespace hangar::alerting
