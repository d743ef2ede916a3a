#include "hangar/core/ids.hpp"

#include <array>
#include <chrono>
#include <random>
#include <stdexcept>

#include <openssl/sha.h>
#include <sodium.h>

namespace hangar::core {

namespace {

constexpr std::string_view kBase32 = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford, lowercase
constexpr size_t kIdChars = 20;

void EnsureSodium() {
    static const int kInit = sodium_init();
    if (kInit < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

}  // namespace

std::string NewId(std::string_view prefix) {
    // Time-ordered, like a ULID: 10 characters of milliseconds since the epoch (50 bits, good
    // for 35,000 years), then 10 random ones (50 bits). New ids sort after old ones, so inserts
    // append to the B-trees instead of dirtying random pages, and lists come out oldest first.
    EnsureSodium();
    auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()
    )
                                        .count());
    std::array<unsigned char, kIdChars / 2> raw{};
    randombytes_buf(raw.data(), raw.size());
    std::string id(prefix);
    id.push_back('_');
    for (int i = static_cast<int>(kIdChars / 2) - 1; i >= 0; --i) {
        id.push_back(kBase32[(ms >> (5U * static_cast<unsigned>(i))) & 31U]);
    }
    for (unsigned char b : raw) {
        id.push_back(kBase32[b & 31U]);
    }
    return id;
}

std::string NewRequestId() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string id = "req_";
    for (int word = 0; word < 2; ++word) {
        uint64_t bits = rng();
        for (size_t i = 0; i < kIdChars / 2; ++i) {
            id.push_back(kBase32[bits & 31U]);
            bits >>= 5U;
        }
    }
    return id;
}

bool IsValidId(std::string_view s, std::string_view prefix) {
    if (s.size() != prefix.size() + 1 + kIdChars || s.substr(0, prefix.size()) != prefix ||
        s[prefix.size()] != '_') {
        return false;
    }
    for (char c : s.substr(prefix.size() + 1)) {
        if (kBase32.find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

std::string NewSecretToken() {
    EnsureSodium();
    std::array<unsigned char, 32> raw{};
    randombytes_buf(raw.data(), raw.size());
    return "hgr_" +
           Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw.data()), raw.size()));
}

// OpenSSL's SHA-256 uses the CPU's SHA instructions; libsodium's portable one is several times
// slower, which shows for whole statistics documents.
static std::array<unsigned char, SHA256_DIGEST_LENGTH> Sha256(std::string_view data) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    return out;
}

std::string Sha256Hex(std::string_view data) {
    auto out = Sha256(data);
    return HexEncode(std::string_view(reinterpret_cast<char*>(out.data()), out.size()));
}

std::string Sha256Base64(std::string_view data) {
    EnsureSodium();
    auto digest = Sha256(data);
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(digest.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), digest.data(), digest.size(), variant);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

std::string HexEncode(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(kHex[c >> 4U]);
        out.push_back(kHex[c & 15U]);
    }
    return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
    EnsureSodium();
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(
        out.data(),
        out.size(),
        reinterpret_cast<const unsigned char*>(bytes.data()),
        bytes.size(),
        variant
    );
    out.resize(out.size() - 1);  // drop the terminating NUL
    return out;
}

bool Base64UrlDecode(std::string_view in, std::string& out) {
    EnsureSodium();
    out.assign(in.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(
            reinterpret_cast<unsigned char*>(out.data()),
            out.size(),
            in.data(),
            in.size(),
            nullptr,
            &len,
            nullptr,
            sodium_base64_VARIANT_URLSAFE_NO_PADDING
        ) != 0) {
        return false;
    }
    out.resize(len);
    return true;
}

bool Base64Decode(std::string_view in, std::string& out) {
    EnsureSodium();
    out.assign(in.size(), '\0');
    size_t len = 0;
    int variant = (!in.empty() && in.back() == '=') ? sodium_base64_VARIANT_ORIGINAL
                                                    : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    if (sodium_base642bin(
            reinterpret_cast<unsigned char*>(out.data()),
            out.size(),
            in.data(),
            in.size(),
            nullptr,
            &len,
            nullptr,
            variant
        ) != 0) {
        return false;
    }
    out.resize(len);
    return true;
}

bool SecretEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hangar::core
