// The small text decoders of hangar_core that read what clients send: RFC 3339 times
// (ParseRfc3339, with FormatRfc3339 back), durations ("90d", ParseDuration), form bodies
// (ParseForm), base64url (Base64UrlDecode), ids (IsValidId), bearer credentials, log levels.
// Each gets the whole input, and each line of it.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/core/clock.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/strings.hpp"

#include "fuzz_support.hpp"

namespace {

namespace core = hangar::core;

void Decode(std::string_view s) {
    if (auto t = core::ParseRfc3339(s)) {
        std::string formatted = core::FormatRfc3339(*t);
        (void)core::ParseRfc3339(formatted);  // Hangar's own spelling must read back
        (void)core::UnixSeconds(*t);
        (void)core::UnixMillis(*t);
    }
    (void)core::ParseDuration(s);
    if (auto form = core::ParseForm(s)) {
        for (const auto& [k, v] : *form) {
            (void)core::UrlEncode(k);
            (void)core::UrlEncode(v);
        }
    }
    std::string bytes;
    if (core::Base64UrlDecode(s, bytes)) {
        (void)core::Base64UrlEncode(bytes);
    }
    for (std::string_view prefix : {"ins", "ten", "wks", "req"}) {
        (void)core::IsValidId(s, prefix);
    }
    (void)core::BearerCredential(s);
    (void)core::TrimSpaces(s);
    (void)core::EscapeLabelValue(s);
    core::LogLevel level{};
    (void)core::ParseLogLevel(s, level);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    Decode(text);
    for (std::string_view line : hangar::fuzz::Lines(text, 32)) {
        Decode(line);
    }
    return 0;
}
