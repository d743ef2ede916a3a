// Label matchers and label sets: hangar::alerting::ParseMatchers (Alertmanager-style matcher
// text, as silences, routes, inhibit rules and runbooks carry it), Matcher::Make for every
// operator (RE2 compilation, the literal-set fast path) with Matches / ToString, and the label
// set checks (NormalizeLabels, NormalizeLabelSet, ValidUtf8, names) on "name=value" lines.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hangar/alerting/alert.hpp"
#include "hangar/metrics/labels.hpp"

#include "fuzz_support.hpp"

namespace {

namespace metrics = hangar::metrics;
namespace alerting = hangar::alerting;

// RE2 compiles a 64 KiB pattern in bounded memory, but slowly; matcher values this long are
// rare and the fuzzer learns nothing more from them.
constexpr size_t kMaxRegex = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    std::vector<std::string_view> lines = hangar::fuzz::Lines(text, 16);

    std::vector<std::string> texts(lines.begin(), lines.end());
    std::vector<metrics::Matcher> matchers;
    if (auto all = alerting::ParseMatchers(texts)) {
        matchers = std::move(*all);
    }
    for (const auto& t : texts) {
        (void)alerting::ParseMatchers({t});
    }

    metrics::Labels labels;
    std::vector<metrics::LabelView> views;
    for (std::string_view line : lines) {
        (void)metrics::ValidUtf8(line);
        (void)metrics::ValidLabelName(line);
        (void)metrics::ValidMetricName(line);
        if (line.size() <= kMaxRegex) {
            for (auto op :
                 {metrics::MatchOp::kEqual,
                  metrics::MatchOp::kNotEqual,
                  metrics::MatchOp::kRegex,
                  metrics::MatchOp::kNotRegex}) {
                auto m = metrics::Matcher::Make(op, "job", std::string(line));
                if (!m) {
                    continue;
                }
                (void)m->Matches("");
                (void)m->Matches(line);
                (void)m->Matches("api");
                (void)m->ToString();
                (void)m->Literals();
                matchers.push_back(std::move(*m));
            }
        }
        size_t eq = line.find('=');
        if (eq != std::string_view::npos) {
            labels.push_back({std::string(line.substr(0, eq)), std::string(line.substr(eq + 1))});
            views.push_back({line.substr(0, eq), line.substr(eq + 1)});
        }
    }

    metrics::Labels series = labels;
    if (metrics::NormalizeLabels(series)) {
        (void)metrics::FormatLabels(series);
        (void)metrics::HashLabels(series);
        (void)metrics::MatchesAll(series, matchers);
    }
    metrics::Labels set = labels;
    if (metrics::NormalizeLabelSet(set)) {
        (void)alerting::Fingerprint(set);
        (void)alerting::PriorityOf(set);
        (void)alerting::Matches(set, matchers);
    }
    if (metrics::NormalizeLabels(views)) {
        (void)metrics::HashLabels(views);
    }
    return 0;
}
