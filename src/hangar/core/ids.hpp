#pragma once
// Random identifiers and secrets (libsodium's CSPRNG) and the hashes that store them.

#include <string>
#include <string_view>

namespace hangar::core {

// "ten_3k9x..." : a kind prefix, an underscore and 20 lowercase base32 characters: 50 bits of
// creation time (so ids sort by age) and 50 random bits.
std::string NewId(std::string_view prefix);
// "req_..." like NewId but from a per-thread PRNG: unique enough to correlate logs, not a secret,
// and free of the system call a CSPRNG read costs on every request.
std::string NewRequestId();
// True when s looks like an id NewId(prefix) could have made.
bool IsValidId(std::string_view s, std::string_view prefix);
// An API token: "hgr_" followed by 43 url-safe base64 characters (256 bits).
std::string NewSecretToken();
std::string Sha256Hex(std::string_view data);
// Standard padded base64 of the SHA-256 digest, as a Content-Security-Policy hash source wants.
std::string Sha256Base64(std::string_view data);
std::string HexEncode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);
// Empty optional-like result: returns false on malformed input.
bool Base64UrlDecode(std::string_view in, std::string& out);
// Standard base64 (RFC 4648 section 4), padded or not; false on malformed input.
bool Base64Decode(std::string_view in, std::string& out);
// Constant-time comparison for secrets.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace hangar::core
