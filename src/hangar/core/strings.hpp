#pragma once
// Small string helpers shared across layers.

#include <cctype>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace hangar::core {

// Without leading and trailing spaces.
inline std::string_view TrimSpaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    while (!s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    return s;
}

// Percent-encoding for a URL's query value or path segment (RFC 3986 unreserved kept).
inline std::string UrlEncode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace hangar::core
