#pragma once
// Small helpers for the metrics tests: URL-encoding query parameters.

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace hangar::testing {

inline std::string UrlEncode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace hangar::testing
