#include "hangar/edge/jwt.hpp"

#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hangar/core/ids.hpp"

namespace hangar::edge {

core::Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view want) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    // A passphrase callback that refuses: without one OpenSSL would prompt on the terminal, inside
    // a request, for an encrypted key.
    EVP_PKEY* k = PEM_read_bio_PrivateKey(
        b, nullptr, [](char*, int, int, void*) { return -1; }, nullptr
    );
    BIO_free(b);
    if (k == nullptr) {
        return core::Fail(core::ErrorCode::kInvalidArgument, "is not a PEM private key");
    }
    PrivateKey out;
    out.key_ = std::shared_ptr<void>(k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
    out.ec_ = EVP_PKEY_is_a(k, "EC") == 1;
    if (want == "EC") {
        char group[64] = {};
        size_t len = 0;
        if (!out.ec_ ||
            EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &len) != 1 ||
            std::string_view(group) != "prime256v1") {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                "must be an EC P-256 private key (an APNs .p8 key)"
            );
        }
    } else if (EVP_PKEY_is_a(k, "RSA") != 1) {
        return core::Fail(core::ErrorCode::kInvalidArgument, "must be an RSA private key");
    }
    return out;
}

std::string PrivateKey::SignJwt(std::string_view header_json, std::string_view claims_json) const {
    std::string input =
        core::Base64UrlEncode(header_json) + "." + core::Base64UrlEncode(claims_json);
    auto* key = static_cast<EVP_PKEY*>(key_.get());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestSign(
            ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()
        ) == 1) {
        sig.resize(len);
        if (EVP_DigestSign(
                ctx,
                reinterpret_cast<unsigned char*>(sig.data()),
                &len,
                reinterpret_cast<const unsigned char*>(input.data()),
                input.size()
            ) == 1) {
            sig.resize(len);
        } else {
            sig.clear();
        }
    }
    EVP_MD_CTX_free(ctx);
    if (ec_ && !sig.empty()) {
        // JOSE wants r||s, 32 bytes each, not DER.
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(es);
        sig = std::move(raw);
    }
    return input + "." + core::Base64UrlEncode(sig);
}

}  // namespace hangar::edge
