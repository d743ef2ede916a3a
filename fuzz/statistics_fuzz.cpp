// Statistics documents workspaces upload: hangar::edge::IndexStatistics, the one-pass
// basic_parser handler that picks the fleet's fields out of a document (lenient about types,
// last duplicate wins, strings cut at 256/64 bytes).

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "hangar/edge/statistics_index.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    auto idx = hangar::edge::IndexStatistics(hangar::fuzz::AsText(data, size));
    if (idx) {
        (void)boost::json::serialize(*idx);  // what the fleet view stores and serves
    }
    return 0;
}
