#pragma once
// JSON Web Tokens signed with a private key from PEM: ES256 for APNs provider tokens, RS256
// for Google service-account grants.

#include <memory>
#include <string>
#include <string_view>

#include "hangar/core/error.hpp"

namespace hangar::edge {

// An OpenSSL private key, freed with the object.
class PrivateKey {
public:
    // PKCS#8 or traditional PEM; `want` is "EC" (P-256) or "RSA".
    static core::Result<PrivateKey> FromPem(std::string_view pem, std::string_view want);
    // "<b64url(header)>.<b64url(claims)>.<b64url(signature)>"; ES256 keys sign as ES256 (r||s),
    // RSA keys as RS256.
    std::string SignJwt(std::string_view header_json, std::string_view claims_json) const;

private:
    std::shared_ptr<void> key_;  // EVP_PKEY
    bool ec_ = false;
};

}  // namespace hangar::edge
