#pragma once
// The fleet's kinds, as strict spec validators (unknown fields and wrong types name the field's
// path), plus the checks that span objects: an instance names a product version and a plan that
// exist, and stays within its plan's quotas.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::fleet {

namespace json = boost::json;

// Product: {display_name?, versions: [{version, run: {<provisioner>: {...}}, health?,
// metrics_path?,
//           config_schema?, backup_command?}], default_version?, workspace?}
// `workspace` (each instance gets a Workspace of the cloud services) is kept as given: the cloud
// services read it (edge::ValidateProductWorkspace).
core::Result<json::object> ValidateProductSpec(const json::object& spec);
// Plan: {memory_mb, cpu_millis, entitlements?: {max_instances?, max_total_memory_mb?},
//        price?: {amount_cents, currency, interval?: month|year},
//        sla?: {target_percent, credits?: [{below_percent, credit_percent}]}}
core::Result<json::object> ValidatePlanSpec(const json::object& spec);
// Instance: {product, version?, plan, config?, domain?, release_channel?, deletion_protection?,
//            maintenance_window?: {day, start, duration}, suspended?, restart_nonce?}
core::Result<json::object> ValidateInstanceSpec(const json::object& spec);

// Rollout: {product, target_version, from_version?, release_channel?, selector? (labels),
//           waves?: [percent...] (default [10, 40, 100] after the canary wave),
//           max_unavailable? (default 1), health_gate_seconds? (default 10),
//           gate_timeout_seconds? (default 120), paused?, aborted?}
core::Result<json::object> ValidateRolloutSpec(const json::object& spec);

// The same specs as types. `Parse` is strict (the validator above, then read); `FromStored` reads
// what the validator wrote into the store and is lenient (a missing field is its default);
// `ToJson` writes exactly what the validator stores.
struct Entitlements {
    int64_t max_instances = 0;  // 0: no limit
    int64_t max_total_memory_mb = 0;
    int64_t monthly_push_notifications = 0;
    std::optional<bool> enterprise_apps;  // may run the marketplace's enterprise-only apps
};
struct SlaCredit {
    double below_percent = 0;   // a month's uptime under this...
    double credit_percent = 0;  // ...is owed this share of the month's price
};
struct Sla {
    double target_percent = 0;
    std::optional<std::vector<SlaCredit>> credits;
};
struct Price {
    int64_t amount_cents = 0;
    std::string currency;  // ISO 4217
    std::string interval;  // month or year
};
struct PlanSpec {
    int64_t memory_mb = 0;
    int64_t cpu_millis = 0;
    std::string display_name;
    std::optional<Entitlements> entitlements;
    std::optional<Price> price;
    std::optional<Sla> sla;

    static core::Result<PlanSpec> Parse(const json::object& spec);
    static PlanSpec FromStored(const json::object& spec);
    json::object ToJson() const;
};

struct ProductVersion {
    std::string version;
    json::object run;  // provisioner name -> its recipe
    std::optional<json::object> health;
    std::string metrics_path;
    std::optional<json::object> config_schema;
    std::optional<std::vector<std::string>> backup_command;

    // This provisioner's recipe, or an empty object.
    json::object RecipeFor(std::string_view provisioner) const;
};
struct ProductSpec {
    std::string display_name;
    std::string default_version;
    std::vector<ProductVersion> versions;
    std::optional<json::object> workspace;  // the cloud services' block (edge reads it)

    const ProductVersion* Find(std::string_view version) const;
    static core::Result<ProductSpec> Parse(const json::object& spec);
    static ProductSpec FromStored(const json::object& spec);
    json::object ToJson() const;
};

struct MaintenanceWindow {
    std::string day;    // mon..sun or daily
    std::string start;  // HH:MM, UTC
    int64_t duration_minutes = 0;
};
struct InstanceSpec {
    std::string product, plan;
    std::string version;  // "" until admission fills in the product's default
    std::optional<json::object> config;
    std::optional<std::string> domain;
    std::string release_channel = "stable";
    bool deletion_protection = false;
    bool suspended = false;
    std::optional<int64_t> restart_nonce;
    std::optional<MaintenanceWindow> maintenance_window;

    static core::Result<InstanceSpec> Parse(const json::object& spec);
    static InstanceSpec FromStored(const json::object& spec);
    json::object ToJson() const;
};

// For an instance about to be created or changed: its product, version and plan exist, and the
// tenant's instances (with this one as `candidate`) stay within the plan's entitlements.
// `version` is filled with the product's default when the spec leaves it out.
core::Result<void> AdmitInstance(store::Store& store, store::Object& candidate);

}  // namespace hangar::fleet
