#pragma once
// The syntax tree of Hangar's PromQL subset (docs/metrics.md lists what it covers).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::metrics::promql {

enum class ValueType { kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);  // "scalar", "instant vector", ...

enum class Card { kOneToOne, kManyToOne, kOneToMany };

struct VectorMatching {
    Card card = Card::kOneToOne;
    bool on = false;                   // on(...) rather than ignoring(...)
    std::vector<std::string> labels;   // the on/ignoring list
    std::vector<std::string> include;  // group_left/group_right(...)
};

struct Expr {
    enum class Kind {
        kNumber,
        kString,
        kVectorSelector,
        kMatrixSelector,
        kCall,
        kAggregate,
        kBinary,
        kUnary,
        kParen
    };
    Kind kind = Kind::kNumber;
    ValueType type = ValueType::kScalar;

    double number = 0;
    std::string text;  // string literal, metric name, function, aggregation or operator

    // Selectors.
    std::vector<Matcher> matchers;
    int64_t offset_ms = 0;
    int64_t range_ms = 0;

    // Calls, aggregations, operators: args[0] is the aggregation's expression or the lhs.
    std::vector<std::unique_ptr<Expr>> args;
    std::unique_ptr<Expr> param;  // topk's k, quantile's φ
    std::vector<std::string> grouping;
    bool without = false;
    bool return_bool = false;
    std::optional<VectorMatching> matching;
    // Longest path to a leaf (1 for a leaf); the parser bounds it so that evaluation, printing
    // and destruction, all recursive, cannot run out of stack.
    int height = 1;

    std::string ToString() const;
};

using ExprPtr = std::unique_ptr<Expr>;

// How deeply a query may nest (parentheses, calls, operator chains): deeper is refused with a
// parse error, never a stack overflow.
inline constexpr int kMaxQueryDepth = 128;

// Parses and type-checks a query; errors say where ("1:12: ...") and what was expected.
core::Result<ExprPtr> Parse(std::string_view query);

// "5m", "1h30m", "250ms" as in PromQL; nullopt if not a duration.
std::optional<int64_t> ParseDuration(std::string_view s);
std::string FormatDuration(int64_t ms);

}  // namespace hangar::metrics::promql
