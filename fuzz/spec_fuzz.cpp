// Every kind's spec validator, as POST/PUT /v1/{plural} runs it on a request body. The input is
// the kind's name on the first line and the spec JSON after it:
//   Schedule
//   {"layers":[...]}
// The JSON goes through core::ParseJsonObject (request limits), then the kind's validator from
// the kind registry, filled by every module as `hangar serve` fills it (the store the
// registrations hold for their admission and delete hooks is an empty one the validators never
// touch). A spec that validates is validated again in its normalised form, as an update of the
// stored object would be.
//
// Time zone names are limited to a fixed list (fuzz_time_zones.hpp), and OpenSSL is kept from
// prompting for a passphrase (fuzz_openssl.hpp): PushApp specs carry PEM keys.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include <boost/json/value.hpp>

#include "hangar/alerting/kinds.hpp"
#include "hangar/auth/tokens.hpp"
#include "hangar/core/json.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/kinds.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/fleet/kinds.hpp"
#include "hangar/identity/kinds.hpp"
#include "hangar/incidents/kinds.hpp"
#include "hangar/marketplace/kinds.hpp"
#include "hangar/metering/kinds.hpp"
#include "hangar/observe/kinds.hpp"
#include "hangar/oncall/kinds.hpp"

#include "fuzz_openssl.hpp"
#include "fuzz_support.hpp"
#include "fuzz_time_zones.hpp"

namespace {

namespace core = hangar::core;
namespace json = boost::json;

using Validator = std::function<core::Result<json::object>(const json::object&)>;

Validator Find(std::string_view kind) {
    static const hangar::edge::CloudKeys keys = *hangar::edge::CloudKeys::FromHex(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    );
    static const hangar::registry::Registry* kinds = [] {
        static char dir[] = "/tmp/hangar-spec-fuzz-XXXXXX";
        if (::mkdtemp(dir) == nullptr) {
            std::abort();
        }
        // Registered before the store opens, so it runs after the store has closed.
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        });
        static auto store = *hangar::store::Store::Open(std::string("sqlite:") + dir + "/h.db", {});
        static hangar::core::SystemClock clock;
        static hangar::auth::TokenService tokens(*store, clock);
        auto* r = new hangar::registry::Registry();
        hangar::identity::RegisterKinds(*r, *store, tokens);
        hangar::fleet::RegisterKinds(
            *r, *store, {{"workspace", hangar::edge::ValidateProductWorkspace}}
        );
        hangar::observe::RegisterKinds(*r);
        hangar::alerting::RegisterKinds(*r);
        hangar::oncall::RegisterKinds(*r);
        hangar::incidents::RegisterKinds(*r);
        hangar::edge::RegisterKinds(*r, keys);
        hangar::marketplace::RegisterKinds(*r);
        hangar::metering::RegisterKinds(*r);
        return r;
    }();
    if (const hangar::registry::Kind* k = kinds->ByName(kind)) {
        return k->validate;  // empty for Alert and Page: Hangar writes those itself
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
