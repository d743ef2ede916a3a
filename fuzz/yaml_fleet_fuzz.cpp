// Fleet files (`hangar plan` / `hangar apply`): hangar::cli::ParseFleetDocuments, yaml-cpp's
// LoadAll and the conversion of each document to the JSON Hangar sends. Anchors and aliases
// make node graphs that share, and can even contain, themselves (a: &a [1, *a]); the
// conversion is bounded in depth and in values, and must say so rather than recurse for ever.

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "hangar/cli/apply.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    auto docs = hangar::cli::ParseFleetDocuments(hangar::fuzz::AsText(data, size));
    if (docs) {
        for (const auto& d : *docs) {
            (void)boost::json::serialize(d);  // what plan and apply send
        }
    }
    return 0;
}
