#pragma once
// Label sets and label matchers. A series is identified by its tenant and its label set; the
// metric name is the label `__name__`. Label sets are kept sorted by name, as Prometheus does,
// so that equal sets hash and compare equal.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/core/metrics.hpp"

namespace re2 {
class RE2;
}

namespace hangar::metrics {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
    std::string name, value;
    bool operator==(const Label&) const = default;
};
using Labels = std::vector<Label>;  // sorted by name, names unique, values non-empty

// A label borrowed from a request buffer, so that ingest allocates only for new series.
struct LabelView {
    std::string_view name, value;
};

uint64_t HashLabels(std::span<const LabelView> labels);
uint64_t HashLabels(const Labels& labels);
bool SameLabels(const Labels& a, std::span<const LabelView> b);
Labels ToLabels(std::span<const LabelView> views);

// Sorts by name and checks names ([a-zA-Z_][a-zA-Z0-9_]*), duplicates, UTF-8 values and a
// metric name; drops labels with empty values (they mean "absent").
core::Result<void> NormalizeLabels(std::vector<LabelView>& labels);
core::Result<void> NormalizeLabels(Labels& labels);
// The same checks for a label set that is not a series (an alert's): no metric name needed.
core::Result<void> NormalizeLabelSet(Labels& labels);

bool ValidLabelName(std::string_view name);
bool ValidMetricName(std::string_view name);  // also allows ':'
bool ValidUtf8(std::string_view s);

// The value of `name`, or "" when absent.
std::string_view Get(const Labels& labels, std::string_view name);
// {__name__="up", job="x"} in Prometheus's notation: name{a="b", c="d"}.
std::string FormatLabels(const Labels& labels);
// Label values escaped as in the exposition format and PromQL strings (core's, shared with
// Hangar's own /metrics).
using core::EscapeLabelValue;

enum class MatchOp { kEqual, kNotEqual, kRegex, kNotRegex };

// name op "value"; regexes are RE2 syntax (as in Prometheus) and fully anchored.
class Matcher {
public:
    static core::Result<Matcher> Make(MatchOp op, std::string name, std::string value);
    bool Matches(std::string_view value) const;  // value "" when the label is absent
    MatchOp op() const { return op_; }
    const std::string& name() const { return name_; }
    const std::string& value() const { return value_; }
    std::string ToString() const;
    // For a regex that is only literals joined by '|' ("a|b|c"), the literals, sorted: matched
    // by lookup instead of RE2, and selected by postings (as Prometheus's set matchers).
    // nullptr otherwise.
    const std::vector<std::string>* Literals() const { return literals_.get(); }

private:
    MatchOp op_ = MatchOp::kEqual;
    std::string name_, value_;
    std::shared_ptr<const re2::RE2> re_;
    std::shared_ptr<const std::vector<std::string>> literals_;
};

bool MatchesAll(const Labels& labels, std::span<const Matcher> matchers);

}  // namespace hangar::metrics
