// The workspace cloud's request readers: hangar::edge::ReadRegistrationRecord (the record a
// workspace posts when it registers), ValidateWorkspaceSpec and ValidateProductWorkspace on the
// same text as a spec, and the OAuth scope names (ScopeFromName / ScopeString) on each line.

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "hangar/core/json.hpp"
#include "hangar/edge/workspaces.hpp"

#include "fuzz_support.hpp"

namespace {

namespace edge = hangar::edge;
namespace core = hangar::core;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);

    for (std::string_view line : hangar::fuzz::Lines(text, 16)) {
        uint32_t bits = edge::ScopeFromName(line);
        (void)edge::ScopeString(bits);
    }
    (void)edge::ScopeString(static_cast<uint32_t>(size) & edge::kAllScopes);

    if (auto rec = edge::ReadRegistrationRecord(text)) {
        (void)boost::json::serialize(*rec);
    }
    if (auto spec = core::ParseJsonObject(text)) {
        (void)edge::ValidateWorkspaceSpec(*spec);
        (void)edge::ValidateProductWorkspace(*spec);
    }
    return 0;
}
