#pragma once
// The cloud's keys, all derived from one 32-byte master key kept outside the store (a file in
// the data folder, mode 0600, or HANGAR_MASTER_KEY), so replicas sharing the key agree and a
// copy of the database alone holds no usable key:
//  - an Ed25519 pair that signs license data and statistics tokens (workspaces verify them
//    with the public key they are given at registration);
//  - an HMAC-SHA256 key for workspace access tokens (checked without a store read);
//  - an XChaCha20-Poly1305 key for secrets at rest (push provider credentials).

#include <array>
#include <string>
#include <string_view>

#include "hangar/core/error.hpp"

namespace hangar::edge {

class CloudKeys {
public:
    // From a 64-hex-character master key.
    static core::Result<CloudKeys> FromHex(std::string_view hex);
    // Reads the master key from `path`, or creates one there (mode 0600) when it is missing.
    static core::Result<CloudKeys> LoadOrCreate(const std::string& path);

    // Standard base64 of the 32-byte Ed25519 public key.
    const std::string& PublicKeyBase64() const { return public_b64_; }
    // "<base64url(payload)>.<base64url(ed25519 signature)>"
    std::string Sign(std::string_view payload) const;
    // The payload when `signed_text` carries a valid signature of this key.
    bool Verify(std::string_view signed_text, std::string& payload) const;
    // HMAC-SHA256 of data (32 raw bytes).
    std::string Mac(std::string_view data) const;
    // Authenticated encryption for storage: base64url(nonce || ciphertext); Open fails on any
    // change to it.
    std::string Seal(std::string_view plain) const;
    bool Open(std::string_view sealed, std::string& plain) const;

private:
    CloudKeys() = default;
    void Derive(const unsigned char* master);
    std::array<unsigned char, 64> sign_secret_{};
    std::array<unsigned char, 32> sign_public_{};
    std::array<unsigned char, 32> mac_key_{};
    std::array<unsigned char, 32> box_key_{};
    std::string public_b64_;
};

}  // namespace hangar::edge
