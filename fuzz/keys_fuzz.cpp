// The cloud keys' decoders, fed what workspaces and the store hand back:
// hangar::edge::CloudKeys::Verify (signed statistics/licence tokens), Open (sealed push
// credentials) and FromHex (the master key file), under a fixed master key; plus the
// Sign -> Verify and Seal -> Open round trips on the input.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/edge/keys.hpp"

#include "fuzz_support.hpp"

namespace {

namespace edge = hangar::edge;

// The same fixed test key generated the signed and sealed seeds in fuzz/corpus/keys/.
constexpr std::string_view kMasterHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    static const edge::CloudKeys keys = *edge::CloudKeys::FromHex(kMasterHex);
    std::string_view text = hangar::fuzz::AsText(data, size);

    std::string payload;
    (void)keys.Verify(text, payload);
    std::string plain;
    (void)keys.Open(text, plain);
    (void)edge::CloudKeys::FromHex(text);

    std::string signed_text = keys.Sign(text);
    (void)keys.Verify(signed_text, payload);
    std::string sealed = keys.Seal(text);
    (void)keys.Open(sealed, plain);
    (void)keys.Mac(text);
    return 0;
}
