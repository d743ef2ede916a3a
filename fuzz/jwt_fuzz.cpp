// Push provider keys: hangar::edge::PrivateKey::FromPem (OpenSSL's PEM and key decoders behind
// it), asked for an APNs key ("EC", P-256 only) and an FCM key ("RSA"); an EC key that loads
// signs a JWT (SignJwt's DER-to-JOSE signature conversion). RSA keys are not used to sign: a
// 64 KiB input can hold a key whose private operation takes minutes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/edge/jwt.hpp"

#include "fuzz_openssl.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    hangar::fuzz::RefusePassphrasePrompts();
    std::string_view pem = hangar::fuzz::AsText(data, size);

    if (auto ec = hangar::edge::PrivateKey::FromPem(pem, "EC")) {
        (void)ec->SignJwt(
            R"({"alg":"ES256","kid":"KEY1234567"})", R"({"iss":"TEAM123456","iat":1767225600})"
        );
    }
    (void)hangar::edge::PrivateKey::FromPem(pem, "RSA");
    return 0;
}
