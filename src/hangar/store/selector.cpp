#include "hangar/store/selector.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/core/strings.hpp"

namespace hangar::store {

namespace {

bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}
bool IsAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsValidName(std::string_view s) {
    if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), IsNameChar);
}

core::Result<Selector> Bad(std::string_view text, std::string_view why) {
    core::Error e = core::MakeError(
        core::ErrorCode::kInvalidArgument, fmt::format("selector \"{}\": {}", text, why)
    );
    e.With("field", "selector");
    return core::Fail(std::move(e));
}

// Splits on commas that are not inside parentheses.
std::vector<std::string_view> SplitTerms(std::string_view s, bool& balanced) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    balanced = true;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '(') {
            ++depth;
        } else if (s[i] == ')') {
            if (--depth < 0) {
                balanced = false;
            }
        } else if (s[i] == ',' && depth == 0) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    balanced = balanced && depth == 0;
    out.push_back(s.substr(start));
    return out;
}

}  // namespace

bool IsValidLabelKey(std::string_view key) {
    auto slash = key.find('/');
    if (slash == std::string_view::npos) {
        return IsValidName(key);
    }
    std::string_view prefix = key.substr(0, slash);
    if (prefix.empty() || prefix.size() > 253) {
        return false;
    }
    for (char c : prefix) {
        if (!(IsAlnum(c) || c == '-' || c == '.')) {
            return false;
        }
    }
    return IsValidName(key.substr(slash + 1));
}

bool IsValidLabelValue(std::string_view value) {
    return value.empty() || IsValidName(value);
}

core::Result<Selector> Selector::Parse(std::string_view text) {
    Selector sel;
    if (core::TrimSpaces(text).empty()) {
        return sel;
    }
    if (text.size() > 4096) {
        return Bad(text.substr(0, 32), "longer than 4096 characters");
    }
    bool balanced = true;
    auto terms = SplitTerms(text, balanced);
    if (!balanced) {
        return Bad(text, "unbalanced parentheses");
    }
    for (std::string_view raw : terms) {
        std::string_view term = core::TrimSpaces(raw);
        if (term.empty()) {
            return Bad(text, "empty requirement");
        }
        Requirement r;
        if (term.front() == '!') {
            r.key = std::string(core::TrimSpaces(term.substr(1)));
            r.op = Requirement::Op::kNotExists;
        } else if (auto p = term.find("!="); p != std::string_view::npos) {
            r.key = std::string(core::TrimSpaces(term.substr(0, p)));
            r.op = Requirement::Op::kNotEquals;
            r.values.emplace_back(core::TrimSpaces(term.substr(p + 2)));
        } else if (auto p2 = term.find("=="); p2 != std::string_view::npos) {
            r.key = std::string(core::TrimSpaces(term.substr(0, p2)));
            r.values.emplace_back(core::TrimSpaces(term.substr(p2 + 2)));
        } else if (auto p3 = term.find('='); p3 != std::string_view::npos) {
            r.key = std::string(core::TrimSpaces(term.substr(0, p3)));
            r.values.emplace_back(core::TrimSpaces(term.substr(p3 + 1)));
        } else if (auto sp = term.find(' '); sp != std::string_view::npos) {
            r.key = std::string(term.substr(0, sp));
            std::string_view rest = core::TrimSpaces(term.substr(sp + 1));
            if (rest.starts_with("notin")) {
                r.op = Requirement::Op::kNotIn;
                rest = core::TrimSpaces(rest.substr(5));
            } else if (rest.starts_with("in")) {
                r.op = Requirement::Op::kIn;
                rest = core::TrimSpaces(rest.substr(2));
            } else {
                return Bad(text, fmt::format("unknown operator in \"{}\"", term));
            }
            if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
                return Bad(text, fmt::format("\"{}\" needs a parenthesised value list", term));
            }
            std::string_view list = rest.substr(1, rest.size() - 2);
            size_t start = 0;
            while (true) {
                size_t comma = list.find(',', start);
                std::string_view v = core::TrimSpaces(list.substr(start, comma - start));
                if (!IsValidLabelValue(v) || v.empty()) {
                    return Bad(text, fmt::format("invalid value \"{}\"", v));
                }
                r.values.emplace_back(v);
                if (comma == std::string_view::npos) {
                    break;
                }
                start = comma + 1;
            }
        } else {
            r.key = std::string(term);
            r.op = Requirement::Op::kExists;
        }
        if (!IsValidLabelKey(r.key)) {
            return Bad(text, fmt::format("invalid label key \"{}\"", r.key));
        }
        for (const auto& v : r.values) {
            if (!IsValidLabelValue(v)) {
                return Bad(text, fmt::format("invalid label value \"{}\"", v));
            }
        }
        sel.reqs_.push_back(std::move(r));
    }
    return sel;
}

bool Selector::Matches(const Labels& labels) const {
    for (const auto& r : reqs_) {
        auto it = labels.find(r.key);
        bool has = it != labels.end();
        switch (r.op) {
            case Requirement::Op::kEquals:
                if (!has || it->second != r.values[0]) {
                    return false;
                }
                break;
            case Requirement::Op::kNotEquals:
                if (has && it->second == r.values[0]) {
                    return false;
                }
                break;
            case Requirement::Op::kIn:
                if (!has ||
                    std::find(r.values.begin(), r.values.end(), it->second) == r.values.end()) {
                    return false;
                }
                break;
            case Requirement::Op::kNotIn:
                if (has &&
                    std::find(r.values.begin(), r.values.end(), it->second) != r.values.end()) {
                    return false;
                }
                break;
            case Requirement::Op::kExists:
                if (!has) {
                    return false;
                }
                break;
            case Requirement::Op::kNotExists:
                if (has) {
                    return false;
                }
                break;
        }
    }
    return true;
}

}  // namespace hangar::store
