// Store label selectors (?selector= on every list, a rollout's selector):
// hangar::store::Selector::Parse, then Matches against a few label sets; IsValidLabelKey and
// IsValidLabelValue on each line.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/store/selector.hpp"

#include "fuzz_support.hpp"

namespace {

namespace store = hangar::store;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    static const store::Labels kSets[] = {
        {},
        {{"env", "prod"}, {"tier", "web"}, {"team", "a"}},
        {{"hangar.dev/tier", "gold"}, {"canary", ""}, {"region", "eu-west-1"}},
    };

    for (std::string_view line : hangar::fuzz::Lines(text, 16)) {
        (void)store::IsValidLabelKey(line);
        (void)store::IsValidLabelValue(line);
    }
    auto sel = store::Selector::Parse(text);
    if (!sel) {
        return 0;
    }
    (void)sel->empty();
    for (const auto& labels : kSets) {
        (void)sel->Matches(labels);
    }
    return 0;
}
