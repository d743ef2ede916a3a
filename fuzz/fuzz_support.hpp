#pragma once
// Helpers shared by the fuzz targets: no state, no I/O. Each target keeps what it must build
// once (a router, a key, a kind registry) in function-local statics.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::fuzz {

// Every target refuses larger inputs: the parsers' own request limits are at or below this
// for text a client sends, and bigger inputs only slow the fuzzer down.
inline constexpr size_t kMaxInput = 64 * 1024;

inline std::string_view AsText(const uint8_t* data, size_t size) {
    const auto* chars =
        reinterpret_cast<const char*>(data);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return {chars, size};
}

// The input's lines (without '\n'), at most `max` of them; the last one holds the rest.
inline std::vector<std::string_view> Lines(std::string_view text, size_t max = 64) {
    std::vector<std::string_view> out;
    while (!text.empty() && out.size() + 1 < max) {
        size_t nl = text.find('\n');
        if (nl == std::string_view::npos) {
            break;
        }
        out.push_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    if (!text.empty()) {
        out.push_back(text);
    }
    return out;
}

// Splits "first line\nrest" (no newline: everything is the first line).
inline std::pair<std::string_view, std::string_view> HeadAndRest(std::string_view text) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
        return {text, {}};
    }
    return {text.substr(0, nl), text.substr(nl + 1)};
}

}  // namespace hangar::fuzz
