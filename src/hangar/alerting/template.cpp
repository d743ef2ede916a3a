#include "hangar/alerting/template.hpp"

#include <cmath>

#include <fmt/format.h>

#include "hangar/core/strings.hpp"

namespace hangar::alerting {

namespace {

std::string FormatNumber(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{:.4g}", v);
}

std::string Humanize(double v, double base, const char* const* big, const char* const* small) {
    if (v == 0 || std::isnan(v) || std::isinf(v)) {
        return FormatNumber(v);
    }
    int i = 0;
    if (std::fabs(v) >= 1) {
        for (; std::fabs(v) >= base && big[i + 1] != nullptr; ++i) {
            v /= base;
        }
        return FormatNumber(v) + big[i];
    }
    for (; std::fabs(v) < 1 && small != nullptr && small[i + 1] != nullptr; ++i) {
        v *= base;
    }
    return FormatNumber(v) + (small != nullptr ? small[i] : "");
}

std::string HumanizeDuration(double s) {
    if (std::isnan(s) || std::isinf(s)) {
        return FormatNumber(s);
    }
    if (std::fabs(s) < 1) {
        return fmt::format("{:.4g}ms", s * 1000);
    }
    auto total = static_cast<int64_t>(std::llround(std::fabs(s)));
    std::string out = s < 0 ? "-" : "";
    int64_t d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, sec = total % 60;
    if (d > 0) {
        out += fmt::format("{}d ", d);
    }
    if (d > 0 || h > 0) {
        out += fmt::format("{}h ", h);
    }
    if (d > 0 || h > 0 || m > 0) {
        out += fmt::format("{}m ", m);
    }
    return out + fmt::format("{}s", sec);
}

// A value flowing through a pipeline: a number until a function makes it text.
struct Val {
    bool is_number = false;
    double number = 0;
    std::string text;
    std::string Text() const { return is_number ? FormatNumber(number) : text; }
};

core::Result<Val> Apply(std::string_view fn, Val v) {
    static constexpr const char* kSi[] = {"", "k", "M", "G", "T", "P", "E", nullptr};
    static constexpr const char* kSiSmall[] = {"", "m", "u", "n", "p", nullptr};
    static constexpr const char* kIec[] = {"", "ki", "Mi", "Gi", "Ti", "Pi", "Ei", nullptr};
    auto number = [&]() -> core::Result<double> {
        if (v.is_number) {
            return v.number;
        }
        char* end = nullptr;
        double d = std::strtod(v.text.c_str(), &end);
        if (v.text.empty() || end != v.text.c_str() + v.text.size()) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format("{} needs a number, not \"{}\"", fn, v.text)
            );
        }
        return d;
    };
    if (fn == "humanize" || fn == "humanize1024" || fn == "humanizePercentage" ||
        fn == "humanizeDuration") {
        auto n = number();
        if (!n) {
            return core::Fail(n.error());
        }
        if (fn == "humanize") {
            return Val{false, 0, Humanize(*n, 1000, kSi, kSiSmall)};
        }
        if (fn == "humanize1024") {
            return Val{false, 0, Humanize(*n, 1024, kIec, nullptr)};
        }
        if (fn == "humanizePercentage") {
            return Val{false, 0, FormatNumber(*n * 100) + "%"};
        }
        return Val{false, 0, HumanizeDuration(*n)};
    }
    if (fn == "toUpper" || fn == "toLower") {
        std::string t = v.Text();
        for (char& c : t) {
            c = static_cast<char>(
                fn == "toUpper" ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c))
            );
        }
        return Val{false, 0, t};
    }
    return core::Fail(
        core::ErrorCode::kInvalidArgument,
        fmt::format(
            "unknown function \"{}\" (known: humanize, humanize1024, humanizePercentage, "
            "humanizeDuration, toUpper, toLower)",
            fn
        )
    );
}

core::Result<Val> Operand(std::string_view t, const metrics::Labels* labels, double value) {
    if (t == "$value") {
        return Val{true, value, ""};
    }
    if (t.starts_with("$labels.")) {
        std::string_view name = t.substr(8);
        if (!metrics::ValidLabelName(name)) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument, fmt::format("\"{}\" is not a label name", name)
            );
        }
        return Val{false, 0, labels != nullptr ? std::string(metrics::Get(*labels, name)) : ""};
    }
    return core::Fail(
        core::ErrorCode::kInvalidArgument, fmt::format("\"{}\": use $value or $labels.<name>", t)
    );
}

constexpr size_t kMaxTemplateOutput = 64 * 1024;

core::Result<std::string>
Expand(std::string_view text, const metrics::Labels* labels, double value) {
    std::string out;
    size_t pos = 0;
    for (int guard = 0; guard < 10000; ++guard) {
        size_t open = text.find("{{", pos);
        if (open == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, open - pos));
        size_t close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument, fmt::format("unclosed {{{{ at offset {}", open)
            );
        }
        std::string_view action = core::TrimSpaces(text.substr(open + 2, close - open - 2));
        std::vector<std::string_view> stages;
        for (size_t start = 0;;) {
            size_t bar = action.find('|', start);
            stages.push_back(core::TrimSpaces(action.substr(
                start, bar == std::string_view::npos ? std::string_view::npos : bar - start
            )));
            if (bar == std::string_view::npos) {
                break;
            }
            start = bar + 1;
        }
        // The first stage is an operand, or "fn operand".
        std::string_view first = stages[0];
        std::string_view fn;
        if (size_t sp = first.find(' '); sp != std::string_view::npos) {
            fn = first.substr(0, sp);
            first = core::TrimSpaces(first.substr(sp + 1));
        }
        auto v = Operand(first, labels, value);
        if (!v) {
            return core::Fail(v.error());
        }
        if (!fn.empty()) {
            if (v = Apply(fn, *v); !v) {
                return core::Fail(v.error());
            }
        }
        for (size_t i = 1; i < stages.size(); ++i) {
            if (v = Apply(stages[i], *v); !v) {
                return core::Fail(v.error());
            }
        }
        out += v->Text();
        // 10,000 actions each naming a long label would make megabytes of every page and mail.
        if (out.size() > kMaxTemplateOutput) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format("the template expands to more than {} bytes", kMaxTemplateOutput)
            );
        }
        pos = close + 2;
    }
    return core::Fail(core::ErrorCode::kInvalidArgument, "template has too many actions");
}

}  // namespace

core::Result<std::string>
ExpandTemplate(std::string_view text, const metrics::Labels& labels, double value) {
    return Expand(text, &labels, value);
}

core::Result<void> CheckTemplate(std::string_view text) {
    // Checking with a number and no labels would reject `$labels.x | humanize`; only syntax
    // and function names are checked, so "1" stands in for every label.
    auto r = Expand(text, nullptr, 1);
    if (!r && r.error().message.find("needs a number") == std::string::npos) {
        return core::Fail(r.error());
    }
    return {};
}

}  // namespace hangar::alerting
