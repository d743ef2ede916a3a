#include "hangar/http/router.hpp"

#include <optional>

#include <fmt/format.h>

namespace hangar::http {

std::string_view Request::Header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
        if (k == lower_name) {
            return v;
        }
    }
    return {};
}

std::optional<std::string> Request::Query(std::string_view name) const {
    for (const auto& [k, v] : query) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view Request::Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            j = path.size();
        }
        out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

void Router::AddAsync(std::string method, std::string pattern, Handler h, AsyncHandler async) {
    Add(std::move(method), std::move(pattern), std::move(h));
    routes_.back().async = std::move(async);
}

void Router::AddUpload(std::string method, std::string pattern, Handler h, size_t max_body) {
    Add(std::move(method), std::move(pattern), std::move(h));
    routes_.back().max_body = max_body;
    uploads_.push_back(routes_.size() - 1);
}

size_t Router::MaxBodyFor(std::string_view method, std::string_view path) const {
    // Asked for every request: only the upload routes are looked at, and the path is split only
    // when one of them has this method.
    std::optional<std::vector<std::string_view>> segs;
    std::vector<std::pair<std::string, std::string>> params;
    for (size_t i : uploads_) {
        const Route& r = routes_[i];
        if (r.method != method) {
            continue;
        }
        if (!segs) {
            segs = SplitPath(path.substr(0, path.find('?')));
        }
        if (MatchPath(r, *segs, params)) {
            return r.max_body;
        }
    }
    return 0;
}

void Router::Add(std::string method, std::string pattern, Handler h, InlineHandler fast) {
    Route r{std::move(method), std::move(pattern), {}, std::move(h), std::move(fast), {}, 0};
    for (auto s : SplitPath(r.pattern)) {
        r.segments.emplace_back(s);
    }
    routes_.push_back(std::move(r));
}

bool Router::MatchPath(
    const Route& r,
    const std::vector<std::string_view>& segs,
    std::vector<std::pair<std::string, std::string>>& params
) {
    if (r.segments.size() != segs.size()) {
        return false;
    }
    params.clear();
    for (size_t i = 0; i < segs.size(); ++i) {
        const std::string& p = r.segments[i];
        if (!p.empty() && p.front() == '{') {
            // "{id}" or "{id}:action"
            size_t close = p.find('}');
            std::string name = p.substr(1, close - 1);
            std::string_view suffix = std::string_view(p).substr(close + 1);
            std::string_view seg = segs[i];
            if (!suffix.empty()) {
                if (!seg.ends_with(suffix)) {
                    return false;
                }
                seg.remove_suffix(suffix.size());
            } else if (seg.find(':') != std::string_view::npos) {
                return false;  // "{id}" never swallows an action
            }
            if (seg.empty()) {
                return false;
            }
            params.emplace_back(std::move(name), std::string(seg));
        } else if (p != segs[i]) {
            return false;
        }
    }
    return true;
}

Router::Match Router::Find(Request& req, const Route*& out, std::string& allow) const {
    auto segs = SplitPath(req.path);
    std::vector<std::pair<std::string, std::string>> params;
    bool path_found = false;
    allow.clear();
    for (const Route& r : routes_) {
        if (!MatchPath(r, segs, params)) {
            continue;
        }
        if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
            req.params = std::move(params);
            req.route = r.pattern;
            out = &r;
            return Match::kFound;
        }
        path_found = true;
        if (allow.find(r.method) == std::string::npos) {
            allow += allow.empty() ? r.method : ", " + r.method;
        }
    }
    return path_found ? Match::kNoMethod : Match::kNoPath;
}

std::string LenientTarget(std::string_view target) {
    size_t q = target.find('?');
    if (q == std::string_view::npos) {
        return std::string(target);
    }
    std::string fixed(target.substr(0, q + 1));
    for (char c : target.substr(q + 1)) {
        if (std::string_view("[]{}|\"^`\\<> ").find(c) != std::string_view::npos) {
            fixed += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        } else {
            fixed += c;
        }
    }
    return fixed;
}

}  // namespace hangar::http
