#include "hangar/edge/keys.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hangar/core/ids.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

const unsigned char* U(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

void CloudKeys::Derive(const unsigned char* master) {
    // crypto_kdf: one master key, independent subkeys per purpose.
    std::array<unsigned char, 32> seed{};
    crypto_kdf_derive_from_key(seed.data(), seed.size(), 1, "hgrsign_", master);
    crypto_sign_seed_keypair(sign_public_.data(), sign_secret_.data(), seed.data());
    sodium_memzero(seed.data(), seed.size());
    crypto_kdf_derive_from_key(mac_key_.data(), mac_key_.size(), 2, "hgrmac__", master);
    crypto_kdf_derive_from_key(box_key_.data(), box_key_.size(), 3, "hgrbox__", master);
    std::string b64(sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(
        b64.data(),
        b64.size(),
        sign_public_.data(),
        sign_public_.size(),
        sodium_base64_VARIANT_ORIGINAL
    );
    b64.resize(b64.size() - 1);
    public_b64_ = std::move(b64);
}

core::Result<CloudKeys> CloudKeys::FromHex(std::string_view hex) {
    if (sodium_init() < 0) {
        return Fail(ErrorCode::kInternal, "libsodium failed to initialise");
    }
    std::array<unsigned char, crypto_kdf_KEYBYTES> master{};
    size_t len = 0;
    if (hex.size() != 64 ||
        sodium_hex2bin(
            master.data(), master.size(), hex.data(), hex.size(), nullptr, &len, nullptr
        ) != 0 ||
        len != master.size()) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "the master key must be 64 hexadecimal characters (32 bytes)"
        );
    }
    CloudKeys k;
    k.Derive(master.data());
    sodium_memzero(master.data(), master.size());
    return k;
}

core::Result<CloudKeys> CloudKeys::LoadOrCreate(const std::string& path) {
    if (sodium_init() < 0) {
        return Fail(ErrorCode::kInternal, "libsodium failed to initialise");
    }
    std::ifstream in(path);
    if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        std::string hex = ss.str();
        while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
            hex.pop_back();
        }
        auto k = FromHex(hex);
        if (!k) {
            return Fail(
                ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, k.error().message)
            );
        }
        return k;
    }
    std::array<unsigned char, crypto_kdf_KEYBYTES> master{};
    crypto_kdf_keygen(master.data());
    std::string hex =
        core::HexEncode(std::string_view(reinterpret_cast<char*>(master.data()), master.size())) +
        "\n";
    sodium_memzero(master.data(), master.size());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return Fail(
            ErrorCode::kInternal,
            fmt::format("cannot create the master key {}: {}", path, std::strerror(errno))
        );
    }
    bool ok =
        ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        return Fail(ErrorCode::kInternal, fmt::format("cannot write the master key {}", path));
    }
    hex.pop_back();
    return FromHex(hex);
}

std::string CloudKeys::Sign(std::string_view payload) const {
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, U(payload), payload.size(), sign_secret_.data());
    return core::Base64UrlEncode(payload) + "." +
           core::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(sig.data()), sig.size()));
}

bool CloudKeys::Verify(std::string_view signed_text, std::string& payload) const {
    size_t dot = signed_text.find('.');
    std::string sig;
    if (dot == std::string_view::npos ||
        !core::Base64UrlDecode(signed_text.substr(0, dot), payload) ||
        !core::Base64UrlDecode(signed_text.substr(dot + 1), sig) ||
        sig.size() != crypto_sign_BYTES) {
        return false;
    }
    return crypto_sign_verify_detached(U(sig), U(payload), payload.size(), sign_public_.data()) ==
           0;
}

std::string CloudKeys::Mac(std::string_view data) const {
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> out{};
    crypto_auth_hmacsha256(out.data(), U(data), data.size(), mac_key_.data());
    return std::string(reinterpret_cast<char*>(out.data()), out.size());
}

std::string CloudKeys::Seal(std::string_view plain) const {
    std::string out(
        crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() +
            crypto_aead_xchacha20poly1305_ietf_ABYTES,
        '\0'
    );
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
        &clen,
        U(plain),
        plain.size(),
        nullptr,
        0,
        nullptr,
        nonce,
        box_key_.data()
    );
    return core::Base64UrlEncode(out);
}

bool CloudKeys::Open(std::string_view sealed, std::string& plain) const {
    std::string raw;
    if (!core::Base64UrlDecode(sealed, raw) ||
        raw.size() < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                         crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        return false;
    }
    const auto* nonce = U(raw);
    size_t clen = raw.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    plain.assign(clen - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plain.data()),
            &plen,
            nullptr,
            nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            clen,
            nullptr,
            0,
            nonce,
            box_key_.data()
        ) != 0) {
        plain.clear();
        return false;
    }
    plain.resize(plen);
    return true;
}

}  // namespace hangar::edge
