#pragma once
// Small string helpers shared across layers.

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// The credential of an "Authorization: Bearer <credential>" value (the scheme in any case);
// empty when the header is absent, another scheme, or has nothing after the scheme.
inline std::string_view BearerCredential(std::string_view authorization) {
    constexpr std::string_view kBearer = "bearer ";
    if (authorization.size() <= kBearer.size()) {
        return {};
    }
    for (size_t i = 0; i < kBearer.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != kBearer[i]) {
            return {};
        }
    }
    return authorization.substr(kBearer.size());
}

// Text for HTML: & < > " ' as entities (safe in element content and quoted attributes).
inline std::string HtmlEscape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
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

// An application/x-www-form-urlencoded body ("a=1&b=x+y%21") as decoded pairs in order;
// nullopt when a percent escape is malformed.
inline std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(
    std::string_view body
) {
    auto decode = [](std::string_view in, std::string& out) {
        out.clear();
        for (size_t i = 0; i < in.size(); ++i) {
            char c = in[i];
            if (c == '+') {
                out.push_back(' ');
            } else if (c == '%') {
                if (i + 2 >= in.size()) {
                    return false;
                }
                int v = 0;
                for (size_t k = 1; k <= 2; ++k) {
                    char h = in[i + k];
                    v <<= 4;
                    if (h >= '0' && h <= '9') {
                        v |= h - '0';
                    } else if (h >= 'a' && h <= 'f') {
                        v |= h - 'a' + 10;
                    } else if (h >= 'A' && h <= 'F') {
                        v |= h - 'A' + 10;
                    } else {
                        return false;
                    }
                }
                out.push_back(static_cast<char>(v));
                i += 2;
            } else {
                out.push_back(c);
            }
        }
        return true;
    };
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i <= body.size()) {
        size_t amp = body.find('&', i);
        if (amp == std::string_view::npos) {
            amp = body.size();
        }
        std::string_view part = body.substr(i, amp - i);
        if (!part.empty()) {
            size_t eq = part.find('=');
            std::string k, v;
            if (!decode(part.substr(0, eq), k) ||
                (eq != std::string_view::npos && !decode(part.substr(eq + 1), v))) {
                return std::nullopt;
            }
            out.emplace_back(std::move(k), std::move(v));
        }
        i = amp + 1;
    }
    return out;
}

}  // namespace hangar::core
