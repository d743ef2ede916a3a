#include "hangar/alerting/alert.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hangar/metrics/promql_ast.hpp"

namespace hangar::alerting {

std::string Fingerprint(const metrics::Labels& labels) {
    return fmt::format("{:016x}", metrics::HashLabels(labels));
}

std::string PriorityOf(const metrics::Labels& labels) {
    std::string_view p = metrics::Get(labels, "priority");
    if (p == "P1" || p == "P2" || p == "P3" || p == "P4") {
        return std::string(p);
    }
    std::string_view s = metrics::Get(labels, "severity");
    if (s == "critical") {
        return "P1";
    }
    if (s == "error" || s == "high") {
        return "P2";
    }
    if (s == "warning") {
        return "P3";
    }
    return "P4";
}

core::Result<std::vector<metrics::Matcher>> ParseMatchers(const std::vector<std::string>& texts) {
    std::vector<metrics::Matcher> out;
    for (const auto& text : texts) {
        // Alertmanager also takes bare values (severity=critical): quote them.
        std::string t = text;
        size_t op = t.find_first_of("=!");
        if (op != std::string::npos) {
            size_t v = op + 1;
            if (v < t.size() && (t[v] == '=' || t[v] == '~')) {
                ++v;
            }
            while (v < t.size() && t[v] == ' ') {
                ++v;
            }
            if (v < t.size() && t[v] != '"' && t[v] != '\'' && t[v] != '`') {
                t = t.substr(0, v) + "\"" + metrics::EscapeLabelValue(t.substr(v)) + "\"";
            } else if (v == t.size()) {
                t += "\"\"";
            }
        }
        // A PromQL selector needs one matcher that rejects "": lend it one, then drop it.
        constexpr std::string_view kAnchor = "__hangar_anchor__";
        auto e = metrics::promql::Parse(fmt::format("{{{}=\"1\",{}}}", kAnchor, t));
        if (!e || (*e)->kind != metrics::promql::Expr::Kind::kVectorSelector ||
            (*e)->matchers.size() != 2 || (*e)->matchers[1].name() == kAnchor) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format(
                    "\"{}\" is not a matcher such as severity=\"critical\" or "
                    "alertname=~\"Instance.*\"{}",
                    text,
                    e ? "" : ": " + e.error().message
                )
            );
        }
        out.push_back((*e)->matchers[1]);
    }
    return out;
}

bool Matches(const metrics::Labels& labels, const std::vector<metrics::Matcher>& matchers) {
    return std::all_of(matchers.begin(), matchers.end(), [&](const metrics::Matcher& m) {
        return m.Matches(metrics::Get(labels, m.name()));
    });
}

}  // namespace hangar::alerting
