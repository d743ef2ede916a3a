#include "hangar/fleet/kinds.hpp"

#include <array>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/fleet/specs.hpp"

namespace hangar::fleet {

namespace json = boost::json;
using core::Fail;

namespace {

// Admission reads the tenant's other objects and then writes: holding a tenant's lock from the
// check to the commit makes two concurrent creates unable to both take the last slot. Striped,
// so unrelated tenants rarely wait on each other. (One server: with several replicas on
// PostgreSQL, a quota can be exceeded by a create racing on another replica.)
class AdmissionLocks {
public:
    registry::AdmissionHold Lock(const std::string& tenant) {
        return registry::AdmissionHold(stripes_[std::hash<std::string>{}(tenant) % stripes_.size()]
        );
    }

private:
    std::array<std::mutex, 64> stripes_;
};

core::Result<void> AdmitRollout(store::Store& store, const store::Object& candidate) {
    const json::object& spec = candidate.spec;
    std::string product_name = core::StrAt(spec, "product");
    std::string target = core::StrAt(spec, "target_version");
    auto product = store.FindByName("Product", "", product_name);
    if (!product) {
        return Fail(core::FieldError(
            "spec.product", fmt::format("there is no product \"{}\"", product_name)
        ));
    }
    if (const json::value* versions = product->spec.if_contains("versions");
        versions != nullptr && versions->is_array()) {
        for (const auto& v : versions->as_array()) {
            if (v.is_object() && core::StrAt(v.as_object(), "version") == target) {
                return {};
            }
        }
    }
    return Fail(core::FieldError(
        "spec.target_version",
        fmt::format("product {} has no version \"{}\"", product->name, target)
    ));
}

}  // namespace

void RegisterKinds(
    registry::Registry& registry,
    store::Store& store,
    std::map<std::string, ProductBlock> product_blocks
) {
    registry.Add({
        .name = "Product",
        .plural = "products",
        .prefix = "prd",
        .module = "fleet",
        .summary = "An application Hangar runs, with its versions and how to run each",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 30,
        .validate = [blocks = std::move(product_blocks)](const json::object& spec
                    ) -> core::Result<json::object> {
            auto out = ValidateProductSpec(spec);
            if (!out) {
                return out;
            }
            for (const auto& [key, read] : blocks) {
                if (const json::object* block = core::ObjectAt(*out, key)) {
                    auto checked = read(*block);
                    if (!checked) {
                        return Fail(checked.error());
                    }
                    (*out)[key] = std::move(*checked);
                }
            }
            return out;
        },
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"DEFAULT VERSION", "spec.default_version"},
             {"LABELS", "metadata.labels"},
             {"CREATED", "metadata.created_at"}},
    });
    registry.Add({
        .name = "Plan",
        .plural = "plans",
        .prefix = "pln",
        .module = "fleet",
        .summary = "A size (memory, CPU) and entitlements (quotas, SLA)",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .apply_order = 20,
        .validate = ValidatePlanSpec,
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"MEMORY MB", "spec.memory_mb"},
             {"CPU MILLIS", "spec.cpu_millis"},
             {"CREATED", "metadata.created_at"}},
    });
    auto locks = std::make_shared<AdmissionLocks>();
    registry.Add({
        .name = "Instance",
        .plural = "instances",
        .prefix = "ins",
        .module = "fleet",
        .summary = "One managed deployment of a product version for a tenant",
        .scope = registry::Scope::kTenant,
        .write_role = auth::Role::kOperator,
        .finalized = true,
        .apply_order = 50,
        .validate = ValidateInstanceSpec,
        .admit = [&store,
                  locks](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
            registry::AdmissionHold hold = locks->Lock(candidate.tenant);
            if (auto ok = AdmitInstance(store, candidate); !ok) {
                return Fail(ok.error());
            }
            return hold;
        },
        .actions =
            {
                {"suspend",
                 [](json::object& spec) {
                     spec["suspended"] = true;
                 }},
                {"resume",
                 [](json::object& spec) {
                     spec["suspended"] = false;
                 }},
                {"restart",
                 [](json::object& spec) {
                     spec["restart_nonce"] = core::IntAt(spec, "restart_nonce") + 1;
                 }},
            },
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"TENANT", "metadata.tenant"},
             {"PRODUCT", "spec.product"},
             {"VERSION", "spec.version"},
             {"PLAN", "spec.plan"},
             {"PHASE", "status.phase"},
             {"ENDPOINT", "status.endpoint"}},
    });
    registry.Add({
        .name = "Rollout",
        .plural = "rollouts",
        .prefix = "rol",
        .module = "fleet",
        .summary = "A version change applied to a selection of instances in waves, gated by health",
        .scope = registry::Scope::kPlatform,
        .write_role = auth::Role::kAdmin,
        .admin_creates = true,
        .validate = ValidateRolloutSpec,
        .admit = [&store](store::Object& candidate) -> core::Result<registry::AdmissionHold> {
            if (auto ok = AdmitRollout(store, candidate); !ok) {
                return Fail(ok.error());
            }
            return registry::AdmissionHold();
        },
        .actions =
            {
                {"pause",
                 [](json::object& spec) {
                     spec["paused"] = true;
                 }},
                {"resume",
                 [](json::object& spec) {
                     spec["paused"] = false;
                 }},
                {"abort",
                 [](json::object& spec) {
                     spec["aborted"] = true;
                 }},
            },
        .columns =
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"PRODUCT", "spec.product"},
             {"TARGET", "spec.target_version"},
             {"PHASE", "status.phase"},
             {"UPGRADED", "status.upgraded"},
             {"TOTAL", "status.total"},
             {"WAVE", "status.current_wave"}},
    });
}

}  // namespace hangar::fleet
