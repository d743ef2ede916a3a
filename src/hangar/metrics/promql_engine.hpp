#pragma once
// Evaluates PromQL-subset queries against the store, with Prometheus 2.42's semantics: a
// 5-minute lookback for instant selectors, ranges closed at both ends, extrapolated
// rate/increase/delta, and label handling of functions, aggregations and vector matching.
// A query sees only its tenant's series.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metrics/promql_ast.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::metrics::promql {

struct QueryOptions {
    int64_t lookback_ms = 5 * kMinute;
    uint64_t max_samples = 50'000'000;           // samples a query may load
    uint64_t max_points = 11'000;                // steps per range query, as Prometheus
    std::chrono::milliseconds timeout{120'000};  // a query's evaluation time, as Prometheus's 2m
};

struct QueryResult {
    ValueType type = ValueType::kVector;
    std::vector<SeriesData> series;  // vector: one sample each; matrix: the points
    Sample scalar;                   // scalar results
    std::string str;
};

class Engine {
public:
    explicit Engine(const Tsdb& db, QueryOptions opts = {}) : db_(db), opts_(opts) {}

    // Errors: kInvalidArgument for a bad query (Prometheus's bad_data), kUnprocessable for
    // one that fails while running (execution), kTooManyRequests past max_samples,
    // kRequestTimeout past the timeout.
    core::Result<QueryResult> Instant(std::string_view tenant, std::string_view query, int64_t t_ms)
        const;
    core::Result<QueryResult> Range(
        std::string_view tenant,
        std::string_view query,
        int64_t start_ms,
        int64_t end_ms,
        int64_t step_ms
    ) const;
    core::Result<QueryResult> Instant(std::string_view tenant, const Expr& e, int64_t t_ms) const;
    core::Result<QueryResult> Range(
        std::string_view tenant,
        const Expr& e,
        int64_t start_ms,
        int64_t end_ms,
        int64_t step_ms
    ) const;

private:
    const Tsdb& db_;
    QueryOptions opts_;
};

}  // namespace hangar::metrics::promql
