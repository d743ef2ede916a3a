// Every kind's spec validator, as POST/PUT /v1/{plural} runs it on a request body. The input is
// the kind's name on the first line and the spec JSON after it:
//   Schedule
//   {"layers":[...]}
// The JSON goes through core::ParseJsonObject (request limits), then the kind's validator from
// hangar::api's registry (AddBuiltinKinds, AddObserveKinds, AddAlertingKinds, AddEdgeKinds with
// a fixed key); the fleet kinds, whose registration needs a store for their admission checks,
// call their validators directly (Product as api's ValidateProduct does: fleet's spec, then
// edge::ValidateProductWorkspace on its workspace block). A spec that validates is validated
// again in its normalised form, as an update of the stored object would be.
//
// Time zone names are limited to a fixed list (fuzz_time_zones.hpp), and OpenSSL is kept from
// prompting for a passphrase (fuzz_openssl.hpp): PushApp specs carry PEM keys.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/json/value.hpp>

#include "hangar/api/kinds.hpp"
#include "hangar/core/json.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/fleet/specs.hpp"

#include "fuzz_openssl.hpp"
#include "fuzz_support.hpp"
#include "fuzz_time_zones.hpp"

namespace {

namespace api = hangar::api;
namespace core = hangar::core;
namespace json = boost::json;

using Validator = std::function<core::Result<json::object>(const json::object&)>;

core::Result<json::object> ValidateProduct(const json::object& spec) {
    auto out = hangar::fleet::ValidateProductSpec(spec);
    if (!out) {
        return out;
    }
    if (const json::object* block = core::ObjectAt(*out, "workspace")) {
        auto ws = hangar::edge::ValidateProductWorkspace(*block);
        if (!ws) {
            return core::Fail(ws.error());
        }
        (*out)["workspace"] = std::move(*ws);
    }
    return out;
}

Validator Find(std::string_view kind) {
    static const hangar::edge::CloudKeys keys = *hangar::edge::CloudKeys::FromHex(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    );
    static const api::Kinds kinds = [] {
        api::Kinds k;
        api::AddBuiltinKinds(k);
        api::AddObserveKinds(k);
        api::AddAlertingKinds(k);
        api::AddEdgeKinds(k, keys);
        return k;
    }();
    if (kind == "Product") {
        return ValidateProduct;
    }
    if (kind == "Plan") {
        return hangar::fleet::ValidatePlanSpec;
    }
    if (kind == "Instance") {
        return hangar::fleet::ValidateInstanceSpec;
    }
    if (kind == "Rollout") {
        return hangar::fleet::ValidateRolloutSpec;
    }
    if (const api::KindInfo* info = kinds.ByKind(kind)) {
        return info->validate;  // empty for Alert and Page: Hangar writes those itself
    }
    return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    hangar::fuzz::RefusePassphrasePrompts();
    auto [kind, body] = hangar::fuzz::HeadAndRest(hangar::fuzz::AsText(data, size));
    Validator validate = Find(kind);
    if (!validate) {
        return 0;
    }
    auto parsed = core::ParseJsonObject(body);
    if (!parsed) {
        return 0;
    }
    json::value root(std::move(*parsed));
    hangar::fuzz::SanitizeTimeZones(root);

    auto out = validate(root.as_object());
    if (!out) {
        (void)core::ErrorToJson(out.error());
        return 0;
    }
    (void)core::FindNonFinite(*out);
    (void)validate(*out);
    return 0;
}
