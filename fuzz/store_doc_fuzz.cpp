// Stored documents: hangar::store::ObjectFromDoc (lenient limits, then the NullNonFinite
// repair for documents written before non-finite numbers were refused), ObjectToDoc and
// ObjectFromDoc again; ChangeTypeFromName on the first line (the watch stream's change types).

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/store/types.hpp"

#include "fuzz_support.hpp"

namespace {

namespace store = hangar::store;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    (void)store::ChangeTypeName(store::ChangeTypeFromName(hangar::fuzz::HeadAndRest(text).first));

    auto o = store::ObjectFromDoc(text);
    if (!o) {
        return 0;
    }
    (void)store::NameScope(*o);
    (void)store::ObjectToJson(*o);
    std::string doc = store::ObjectToDoc(*o);
    (void)store::ObjectFromDoc(doc);  // what the store writes it must read back
    return 0;
}
