#include "hangar/metrics/labels.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <re2/re2.h>

namespace hangar::metrics {

using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

// FNV-1a over name 0xff value 0xff ...; 0xff never occurs in UTF-8, so sets cannot collide
// by shifting a boundary.
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t Mix(uint64_t h, std::string_view s) {
    for (unsigned char c : s) {
        h = (h ^ c) * kFnvPrime;
    }
    return (h ^ 0xff) * kFnvPrime;
}

template <typename L>
Result<void> Normalize(std::vector<L>& labels, bool need_name = true) {
    std::erase_if(labels, [](const L& l) { return l.value.empty(); });
    std::sort(labels.begin(), labels.end(), [](const L& a, const L& b) { return a.name < b.name; });
    bool named = false;
    for (size_t i = 0; i < labels.size(); ++i) {
        const L& l = labels[i];
        if (i > 0 && labels[i - 1].name == l.name) {
            return Fail(
                ErrorCode::kInvalidArgument, fmt::format("label \"{}\" appears twice", l.name)
            );
        }
        if (l.name == kMetricName) {
            if (!ValidMetricName(l.value)) {
                return Fail(
                    ErrorCode::kInvalidArgument, fmt::format("invalid metric name \"{}\"", l.value)
                );
            }
            named = true;
        } else if (!ValidLabelName(l.name)) {
            return Fail(
                ErrorCode::kInvalidArgument, fmt::format("invalid label name \"{}\"", l.name)
            );
        }
        if (!ValidUtf8(l.value)) {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("label \"{}\" has a value that is not UTF-8", l.name)
            );
        }
    }
    if (!named && need_name) {
        return Fail(ErrorCode::kInvalidArgument, "series has no metric name (label __name__)");
    }
    return {};
}

}  // namespace

uint64_t HashLabels(std::span<const LabelView> labels) {
    uint64_t h = kFnvOffset;
    for (const auto& l : labels) {
        h = Mix(Mix(h, l.name), l.value);
    }
    return h;
}

uint64_t HashLabels(const Labels& labels) {
    uint64_t h = kFnvOffset;
    for (const auto& l : labels) {
        h = Mix(Mix(h, l.name), l.value);
    }
    return h;
}

bool SameLabels(const Labels& a, std::span<const LabelView> b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || a[i].value != b[i].value) {
            return false;
        }
    }
    return true;
}

Labels ToLabels(std::span<const LabelView> views) {
    Labels out;
    out.reserve(views.size());
    for (const auto& v : views) {
        out.push_back({std::string(v.name), std::string(v.value)});
    }
    return out;
}

Result<void> NormalizeLabels(std::vector<LabelView>& labels) {
    return Normalize(labels);
}
Result<void> NormalizeLabels(Labels& labels) {
    return Normalize(labels);
}
Result<void> NormalizeLabelSet(Labels& labels) {
    return Normalize(labels, false);
}

bool ValidLabelName(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool ValidMetricName(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool ValidUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t n = 0;  // continuation bytes
        if (c < 0x80) {
            n = 0;
        } else if ((c >> 5) == 0x6) {
            n = 1;
        } else if ((c >> 4) == 0xe) {
            n = 2;
        } else if ((c >> 3) == 0x1e) {
            n = 3;
        } else {
            return false;
        }
        if (i + n >= s.size()) {
            return false;
        }
        for (size_t k = 1; k <= n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

std::string_view Get(const Labels& labels, std::string_view name) {
    for (const auto& l : labels) {
        if (l.name == name) {
            return l.value;
        }
    }
    return {};
}

std::string FormatLabels(const Labels& labels) {
    std::string out(Get(labels, kMetricName));
    out += '{';
    bool first = true;
    for (const auto& l : labels) {
        if (l.name == kMetricName) {
            continue;
        }
        if (!first) {
            out += ", ";
        }
        first = false;
        out += l.name;
        out += "=\"";
        out += EscapeLabelValue(l.value);
        out += '"';
    }
    out += '}';
    return out;
}

Result<Matcher> Matcher::Make(MatchOp op, std::string name, std::string value) {
    Matcher m;
    m.op_ = op;
    m.name_ = std::move(name);
    m.value_ = std::move(value);
    if (op == MatchOp::kRegex || op == MatchOp::kNotRegex) {
        RE2::Options opts;
        opts.set_log_errors(false);
        opts.set_dot_nl(true);  // Prometheus compiles with (?s)
        auto re = std::make_shared<RE2>("^(?:" + m.value_ + ")$", opts);
        if (!re->ok()) {
            RE2 alone(m.value_, opts);  // for an error message about what the user wrote
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format(
                    "invalid regular expression \"{}\" for label {}: {}",
                    m.value_,
                    m.name_,
                    alone.ok() ? re->error() : alone.error()
                )
            );
        }
        m.re_ = std::move(re);
        // "a|b|c" with no metacharacters: a set of literals.
        if (m.value_.find_first_of("\\.+*?()[]{}^$") == std::string::npos) {
            auto set = std::make_shared<std::vector<std::string>>();
            size_t start = 0;
            for (;;) {
                size_t bar = m.value_.find('|', start);
                set->push_back(m.value_.substr(
                    start, bar == std::string::npos ? std::string::npos : bar - start
                ));
                if (bar == std::string::npos) {
                    break;
                }
                start = bar + 1;
            }
            std::sort(set->begin(), set->end());
            set->erase(std::unique(set->begin(), set->end()), set->end());
            m.literals_ = std::move(set);
        }
    }
    return m;
}

bool Matcher::Matches(std::string_view value) const {
    switch (op_) {
        case MatchOp::kEqual:
            return value == value_;
        case MatchOp::kNotEqual:
            return value != value_;
        case MatchOp::kRegex:
            if (literals_) {
                return std::binary_search(literals_->begin(), literals_->end(), value);
            }
            return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
        case MatchOp::kNotRegex:
            if (literals_) {
                return !std::binary_search(literals_->begin(), literals_->end(), value);
            }
            return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
    }
    return false;
}

std::string Matcher::ToString() const {
    static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
    return fmt::format("{}{}\"{}\"", name_, kOps[static_cast<int>(op_)], EscapeLabelValue(value_));
}

bool MatchesAll(const Labels& labels, std::span<const Matcher> matchers) {
    for (const auto& m : matchers) {
        if (!m.Matches(Get(labels, m.name()))) {
            return false;
        }
    }
    return true;
}

}  // namespace hangar::metrics
