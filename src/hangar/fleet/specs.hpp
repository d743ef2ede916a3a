#pragma once
// The fleet's kinds, as strict spec validators (unknown fields and wrong types name the field's
// path), plus the checks that span objects: an instance names a product version and a plan that
// exist, and stays within its plan's quotas.

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

// For an instance about to be created or changed: its product, version and plan exist, and the
// tenant's instances (with this one as `candidate`) stay within the plan's entitlements.
// `version` is filled with the product's default when the spec leaves it out.
core::Result<void> AdmitInstance(store::Store& store, store::Object& candidate);

}  // namespace hangar::fleet
