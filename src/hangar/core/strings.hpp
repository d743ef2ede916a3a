#pragma once
// Small string helpers shared across layers.

#include <string_view>

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

}  // namespace hangar::core
