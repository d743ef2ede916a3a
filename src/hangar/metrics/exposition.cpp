#include "hangar/metrics/exposition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

namespace hangar::metrics {

using core::ErrorCode;
using core::Fail;
using core::Result;

std::string_view MetricTypeName(MetricType t) {
    switch (t) {
        case MetricType::kCounter:
            return "counter";
        case MetricType::kGauge:
            return "gauge";
        case MetricType::kHistogram:
            return "histogram";
        case MetricType::kSummary:
            return "summary";
        case MetricType::kUntyped:
            return "untyped";
    }
    return "untyped";
}

std::optional<double> ParsePromFloat(std::string_view s) {
    if (s.empty()) {
        return std::nullopt;
    }
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return std::tolower(c);
    });
    std::string_view body = lower;
    bool neg = false;
    if (body[0] == '+' || body[0] == '-') {
        neg = body[0] == '-';
        body.remove_prefix(1);
    }
    if (body == "inf" || body == "infinity") {
        return neg ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
    }
    if (body == "nan") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (body.empty() || body[0] == '+' || body[0] == '-') {
        return std::nullopt;
    }
    double v = 0;
    if (body.starts_with("0x")) {
        body.remove_prefix(2);
        auto [p, ec] =
            std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::hex);
        if (ec != std::errc() || p != body.data() + body.size()) {
            return std::nullopt;
        }
    } else {
        // Go accepts '_' between digits only with a base prefix; plain decimals have none.
        auto [p, ec] =
            std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
        if (ec == std::errc::result_out_of_range) {
            // Overflow is ±Inf in Go (with an error Prometheus treats as invalid); underflow is 0.
            return std::nullopt;
        }
        if (ec != std::errc() || p != body.data() + body.size()) {
            return std::nullopt;
        }
    }
    return neg ? -v : v;
}

namespace {

class LineParser {
public:
    LineParser(std::string_view line, size_t number) : s_(line), n_(number) {}

    core::Error Err(std::string_view what) const {
        core::Error e;
        e.code = ErrorCode::kInvalidArgument;
        e.message = fmt::format("line {}: {}", n_, what);
        return e;
    }
    bool Spaces() {
        size_t start = i_;
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) {
            ++i_;
        }
        return i_ > start;
    }
    bool End() const { return i_ >= s_.size(); }
    std::string_view Name(bool metric) {
        size_t start = i_;
        while (i_ < s_.size()) {
            char c = s_[i_];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (metric && c == ':') || (i_ > start && c >= '0' && c <= '9');
            if (!ok) {
                break;
            }
            ++i_;
        }
        return s_.substr(start, i_ - start);
    }
    Result<std::string> Quoted() {
        if (i_ >= s_.size() || s_[i_] != '"') {
            return Fail(Err("expected '\"' to start a label value"));
        }
        ++i_;
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c == '\\') {
                if (i_ >= s_.size()) {
                    break;
                }
                char e = s_[i_++];
                if (e == 'n') {
                    out += '\n';
                } else if (e == '\\' || e == '"') {
                    out += e;
                } else {
                    return Fail(Err(fmt::format("invalid escape \\{} in a label value", e)));
                }
            } else {
                out += c;
            }
        }
        if (i_ >= s_.size()) {
            return Fail(Err("label value is not closed with '\"'"));
        }
        ++i_;
        return out;
    }
    char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void Skip() { ++i_; }
    std::string_view Token() {
        size_t start = i_;
        while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t') {
            ++i_;
        }
        return s_.substr(start, i_ - start);
    }
    std::string_view Rest() const { return s_.substr(std::min(i_, s_.size())); }

private:
    std::string_view s_;
    size_t n_;
    size_t i_ = 0;
};

std::string UnescapeHelp(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
            out += s[i + 1] == 'n' ? '\n' : '\\';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The family a sample belongs to: histogram and summary samples carry suffixes.
std::string_view
FamilyOf(std::string_view name, const std::map<std::string, MetricType, std::less<>>& types) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count", "_created"}) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            std::string_view base = name.substr(0, name.size() - suffix.size());
            auto it = types.find(base);
            if (it != types.end() &&
                (it->second == MetricType::kHistogram || it->second == MetricType::kSummary) &&
                (suffix != "_bucket" || it->second == MetricType::kHistogram)) {
                return base;
            }
        }
    }
    return name;
}

}  // namespace

Result<Exposition> ParseExposition(std::string_view text) {
    Exposition out;
    std::map<std::string, MetricType, std::less<>> types;
    std::map<std::string, size_t, std::less<>> family_index;
    auto family = [&](std::string_view name) -> MetricFamily& {
        auto it = family_index.find(name);
        if (it == family_index.end()) {
            it = family_index.emplace(std::string(name), out.families.size()).first;
            out.families.push_back({std::string(name), "", MetricType::kUntyped});
        }
        return out.families[it->second];
    };
    size_t line_no = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        LineParser p(line, line_no);
        p.Spaces();
        if (p.End()) {
            continue;
        }
        if (p.Peek() == '#') {
            p.Skip();
            p.Spaces();
            std::string_view kw = p.Token();
            if (kw != "HELP" && kw != "TYPE") {
                continue;  // a plain comment
            }
            p.Spaces();
            std::string_view name = p.Name(true);
            if (name.empty()) {
                return Fail(p.Err(fmt::format("# {} needs a metric name", kw)));
            }
            if (!p.End() && p.Peek() != ' ' && p.Peek() != '\t') {
                return Fail(p.Err(fmt::format("invalid metric name in # {}", kw)));
            }
            p.Spaces();
            if (kw == "HELP") {
                family(name).help = UnescapeHelp(p.Rest());
                continue;
            }
            std::string_view t = p.Token();
            MetricType type;
            if (t == "counter") {
                type = MetricType::kCounter;
            } else if (t == "gauge") {
                type = MetricType::kGauge;
            } else if (t == "histogram") {
                type = MetricType::kHistogram;
            } else if (t == "summary") {
                type = MetricType::kSummary;
            } else if (t == "untyped") {
                type = MetricType::kUntyped;
            } else {
                return Fail(p.Err(fmt::format("unknown metric type \"{}\"", t)));
            }
            if (types.contains(name)) {
                return Fail(p.Err(fmt::format("second # TYPE line for {}", name)));
            }
            types.emplace(std::string(name), type);
            family(name).type = type;
            continue;
        }
        ParsedSample s;
        std::string_view name = p.Name(true);
        if (name.empty()) {
            return Fail(p.Err("expected a metric name"));
        }
        s.labels.push_back({std::string(kMetricName), std::string(name)});
        bool spaced = p.Spaces();
        if (p.Peek() == '{') {
            spaced = false;
            p.Skip();
            for (int guard = 0; guard < 10'000; ++guard) {
                p.Spaces();
                if (p.Peek() == '}') {
                    p.Skip();
                    break;
                }
                std::string_view ln = p.Name(false);
                if (ln.empty()) {
                    return Fail(p.Err("expected a label name or '}'"));
                }
                p.Spaces();
                if (p.Peek() != '=') {
                    return Fail(p.Err(fmt::format("expected '=' after label name \"{}\"", ln)));
                }
                p.Skip();
                p.Spaces();
                auto v = p.Quoted();
                if (!v) {
                    return Fail(v.error());
                }
                if (ln == kMetricName) {
                    return Fail(p.Err("label name __name__ is reserved"));
                }
                s.labels.push_back({std::string(ln), std::move(*v)});
                p.Spaces();
                if (p.Peek() == ',') {
                    p.Skip();
                } else if (p.Peek() != '}') {
                    return Fail(p.Err("expected ',' or '}' after a label"));
                }
            }
        }
        if (!spaced && !p.End() && p.Peek() != ' ' && p.Peek() != '\t') {
            return Fail(
                p.Err(fmt::format("unexpected '{}' after the metric name and labels", p.Peek()))
            );
        }
        p.Spaces();
        std::string_view vtok = p.Token();
        auto v = ParsePromFloat(vtok);
        if (!v) {
            return Fail(p.Err(
                vtok.empty() ? std::string("expected a value")
                             : fmt::format("invalid value \"{}\"", vtok)
            ));
        }
        s.value = *v;
        p.Spaces();
        if (!p.End()) {
            std::string_view ttok = p.Token();
            int64_t ts = 0;
            auto [ptr, ec] = std::from_chars(ttok.data(), ttok.data() + ttok.size(), ts);
            if (ec != std::errc() || ptr != ttok.data() + ttok.size()) {
                return Fail(p.Err(fmt::format("invalid timestamp \"{}\"", ttok)));
            }
            s.timestamp_ms = ts;
            p.Spaces();
            if (!p.End()) {
                return Fail(p.Err("unexpected text after the timestamp"));
            }
        }
        if (auto r = NormalizeLabels(s.labels); !r) {
            return Fail(p.Err(r.error().message));
        }
        std::string_view fam = FamilyOf(name, types);
        auto ti = types.find(fam);
        MetricType type = ti == types.end() ? MetricType::kUntyped : ti->second;
        if (type == MetricType::kHistogram && name.ends_with("_bucket") && fam != name) {
            auto le = Get(s.labels, "le");
            if (le.empty() || !ParsePromFloat(le)) {
                return Fail(p.Err(fmt::format("histogram bucket {} needs a numeric le label", name))
                );
            }
        }
        if (type == MetricType::kSummary && fam == name) {
            auto q = Get(s.labels, "quantile");
            if (q.empty() || !ParsePromFloat(q)) {
                return Fail(p.Err(fmt::format("summary {} needs a numeric quantile label", name)));
            }
        }
        if (type == MetricType::kHistogram && fam == name) {
            return Fail(p.Err(
                fmt::format("histogram {} has a sample without _bucket, _sum or _count", name)
            ));
        }
        family(fam);
        out.samples.push_back(std::move(s));
    }
    return out;
}

}  // namespace hangar::metrics
