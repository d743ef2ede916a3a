#pragma once
// Entitlements, as OpenMeter models them: a Feature (a key, usually tied to a meter) and, per
// subject (a tenant) or per plan (every tenant on it without one of its own), an Entitlement:
// boolean (has it), static (has it, with a config) or metered (a budget of the meter's usage per
// usage period, made of grants).
//
// A metered entitlement's value is found by burning the meter's usage down through its grants,
// segment by segment between the moments something changes (a usage-period reset, a grant taking
// effect, expiring or recurring): usage goes to the active grants in priority order (lower first,
// then the one expiring sooner). At a reset each grant keeps
// min(max_rollover, max(balance, min_rollover)); a recurring grant is refilled to its amount at
// each recurrence; `issue_after_reset` is a grant refilled at every reset that does not roll
// over. balance = what the active grants hold; usage and overage (usage no grant covered) are
// counted since the current period began; hasAccess = balance > 0 (always, for a soft limit).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/entitlement_gate.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::metering {

class Metering;
namespace json = boost::json;

// Feature: {key, meter_slug?, display_name?}; Entitlement: {feature, subject | plan, type, ...}.
core::Result<json::object> ValidateFeatureSpec(const json::object& spec);
core::Result<json::object> ValidateEntitlementSpec(const json::object& spec);
// OpenMeter's EntitlementGrantCreateInput as a grant of the Entitlement spec.
core::Result<json::object> GrantFromOpenMeter(const json::object& body);
// A grant of the spec as OpenMeter's EntitlementGrant.
json::object
GrantToOpenMeter(const json::object& grant, std::string_view entitlement_id, size_t index);

struct EntitlementValue {
    bool has_access = false;
    bool metered = false;
    double balance = 0, usage = 0, overage = 0;
    std::optional<std::string> config;  // static entitlements
    std::string entitlement_id;         // "" when none applies
    std::string type;
};
json::object ValueToJson(const EntitlementValue& v);

class Entitlements final : public core::EntitlementGate {
public:
    // `plan_of(tenant)`: the tenant's plan name ("" for none): plan entitlements apply through it.
    Entitlements(Metering& metering, std::function<std::string(const std::string&)> plan_of);

    // The entitlement that applies to `subject` for `feature` (its own, else its plan's).
    // `fresh`: read the entitlements now (the API), not the index kept for a second (the gate).
    std::optional<store::Object>
    Find(const std::string& subject, std::string_view feature, bool fresh = true);
    // Its value at `at` (unix seconds); NotFound when none applies.
    core::Result<EntitlementValue>
    Value(const std::string& subject, std::string_view feature, int64_t at, bool fresh = true);

    // core::EntitlementGate: denied when an entitlement applies and has no access; answers are
    // kept five seconds (the hot paths ask per call).
    core::GateAnswer Check(std::string_view tenant, std::string_view feature, bool may_block)
        override;
    // Any commit may have changed an entitlement (Store::OnCommitted): the index is read again
    // within a second, and the kept answers dropped when it changed.
    void Invalidate() { epoch_.fetch_add(1, std::memory_order_relaxed); }

private:
    Metering& metering_;
    std::function<std::string(const std::string&)> plan_of_;
    struct Cached {
        core::GateAnswer answer;
        std::chrono::steady_clock::time_point at;
    };
    std::mutex cache_mu_;
    std::unordered_map<std::string, Cached> cache_;
    // Every Entitlement, read again at most once a second after a commit.
    std::shared_ptr<const std::vector<store::Object>> Index(bool force = false);
    std::atomic<uint64_t> epoch_{1};
    std::mutex index_mu_;
    std::shared_ptr<const std::vector<store::Object>> index_;
    uint64_t index_epoch_ = 0;
    std::string index_print_;
    std::chrono::steady_clock::time_point index_at_{};
};

// Adds `count` units of `interval` (HOUR, DAY, WEEK, MONTH, YEAR) to a unix time, in UTC
// calendar arithmetic (a month from 31 January is 28 or 29 February... cctz normalises to
// 2/3 March; this clamps to the month's last day, as billing does).
int64_t AddInterval(int64_t t, std::string_view interval, int64_t count);

}  // namespace hangar::metering
