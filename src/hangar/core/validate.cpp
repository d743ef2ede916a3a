#include "hangar/core/validate.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/core/clock.hpp"

namespace hangar::core {

bool IsDnsLabel(std::string_view s) {
    if (s.empty() || s.size() > 63) {
        return false;
    }
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    };
    if (!alnum(s.front()) || !alnum(s.back())) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

bool IsEmailAddress(std::string_view s) {
    auto at = s.find('@');
    return s.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos &&
           std::none_of(s.begin(), s.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',' ||
                      c == 0x7f;
           });
}

std::optional<std::string> HttpUrlProblem(std::string_view url, bool https_only) {
    std::string_view scheme = https_only ? "https://" : "http:// or https://";
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://") && !https_only) {
        rest = url.substr(7);
    } else {
        return fmt::format("must be an {} URL", scheme);
    }
    if (url.size() > 2048) {
        return "must be at most 2048 characters";
    }
    std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    if (host.empty() || host.front() == ':' || host.front() == '@') {
        return "must name a host";
    }
    if (std::any_of(url.begin(), url.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
        })) {
        return "must not contain spaces or control characters";
    }
    return std::nullopt;
}

std::optional<std::string>
ReadBoundedString(ObjectReader& r, std::string_view key, size_t max, bool required) {
    auto v = r.String(key, required);
    if (v && v->size() > max) {
        r.SetError(r.PathOf(key), fmt::format("must be at most {} characters", max));
        return std::nullopt;
    }
    return v;
}

std::optional<std::string> ReadDnsLabel(ObjectReader& r, std::string_view key, bool required) {
    auto v = r.String(key, required);
    if (v && !IsDnsLabel(*v)) {
        r.SetError(
            r.PathOf(key),
            "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or "
            "digit"
        );
        return std::nullopt;
    }
    return v;
}

std::optional<std::string> ReadEmail(ObjectReader& r, std::string_view key, bool required) {
    auto v = r.String(key, required);
    if (v && !IsEmailAddress(*v)) {
        r.SetError(r.PathOf(key), "must be an email address");
        return std::nullopt;
    }
    return v;
}

std::optional<std::string>
ReadHttpUrl(ObjectReader& r, std::string_view key, bool https_only, bool required) {
    auto v = r.String(key, required);
    if (!v) {
        return v;
    }
    if (auto problem = HttpUrlProblem(*v, https_only)) {
        r.SetError(r.PathOf(key), *problem);
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t>
ReadIntInRange(ObjectReader& r, std::string_view key, int64_t min, int64_t max, bool required) {
    auto v = r.Int(key, required);
    if (v && (*v < min || *v > max)) {
        r.SetError(r.PathOf(key), fmt::format("must be from {} to {}", min, max));
        return std::nullopt;
    }
    return v;
}

namespace {

std::string Spell(std::chrono::seconds d) {
    int64_t s = d.count();
    if (s != 0 && s % 86400 == 0) {
        return fmt::format("{}d", s / 86400);
    }
    if (s != 0 && s % 3600 == 0) {
        return fmt::format("{}h", s / 3600);
    }
    if (s != 0 && s % 60 == 0) {
        return fmt::format("{}m", s / 60);
    }
    return fmt::format("{}s", s);
}

}  // namespace

std::optional<std::chrono::seconds> ReadDuration(
    ObjectReader& r,
    std::string_view key,
    std::chrono::seconds min,
    std::chrono::seconds max,
    bool required
) {
    auto v = r.String(key, required);
    if (!v) {
        return std::nullopt;
    }
    auto d = ParseDuration(*v);
    if (!d) {
        r.SetError(r.PathOf(key), "must be a duration such as 90s, 5m or 2h");
        return std::nullopt;
    }
    if (*d < min || *d > max) {
        r.SetError(r.PathOf(key), fmt::format("must be from {} to {}", Spell(min), Spell(max)));
        return std::nullopt;
    }
    return d;
}

bool ReadObjectArray(
    ObjectReader& r,
    std::string_view key,
    size_t min,
    size_t max,
    const std::function<void(ObjectReader& item, size_t index)>& each,
    bool required
) {
    const json::array* a = r.Array(key, required);
    if (a == nullptr) {
        return false;
    }
    std::string path = r.PathOf(key);
    if (a->size() < min || a->size() > max) {
        r.SetError(
            path,
            min == max ? fmt::format("must have {} elements", min)
                       : fmt::format("must have from {} to {} elements", min, max)
        );
        return false;
    }
    for (size_t i = 0; i < a->size() && r.ok(); ++i) {
        std::string at = fmt::format("{}[{}]", path, i);
        if (!(*a)[i].is_object()) {
            r.SetError(at, "must be an object");
            return false;
        }
        ObjectReader item((*a)[i].as_object(), at);
        each(item, i);
        r.Absorb(item.Finish());
    }
    return r.ok();
}

}  // namespace hangar::core
