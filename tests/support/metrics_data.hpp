#pragma once
// Deterministic synthetic metrics for the Prometheus comparison tests and bench/metrics:
// counters with occasional resets, random-walk gauges and classic histograms, sampled every
// `step_ms` with per-series scrape jitter, returned as one remote-write batch per step.

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hangar/metrics/tsdb.hpp"

namespace hangar::testing {

struct SyntheticOptions {
    int instances = 5;          // each has 2 counters, 1 gauge and a 6-bucket histogram (10 series)
    int64_t start_ms = 0;
    int64_t step_ms = 15'000;
    int steps = 240;            // one hour at 15 s
    int64_t jitter_ms = 400;    // ± per series, fixed like a scrape offset, plus a little noise
    uint64_t seed = 42;
};

inline int SeriesPerInstance() { return 10; }

inline std::vector<std::vector<metrics::SeriesData>> SyntheticBatches(const SyntheticOptions& o) {
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int> inc(0, 20), noise(-20, 20), obs(0, 10);
    std::uniform_real_distribution<double> unit(0, 1);
    std::normal_distribution<double> walk(0, 0.7);
    static const char* kLe[] = {"0.005", "0.01", "0.05", "0.1", "0.5", "+Inf"};
    static const double kBound[] = {0.005, 0.01, 0.05, 0.1, 0.5, INFINITY};
    struct State {
        metrics::Labels labels;
        int64_t offset = 0;
        double value = 0;
    };
    std::vector<State> series;
    for (int i = 0; i < o.instances; ++i) {
        std::string inst = "i" + std::to_string(i);
        std::string room = "r" + std::to_string(i % 4);
        auto add = [&](metrics::Labels l, double start) {
            int64_t off = o.jitter_ms == 0 ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * o.jitter_ms + 1)) - o.jitter_ms;
            series.push_back({std::move(l), off, start});
        };
        add({{"__name__", "demo_requests_total"}, {"code", "200"}, {"instance", inst}, {"job", "api"}}, static_cast<double>(rng() % 1000));
        add({{"__name__", "demo_requests_total"}, {"code", "500"}, {"instance", inst}, {"job", "api"}}, static_cast<double>(rng() % 50));
        add({{"__name__", "demo_temperature"}, {"instance", inst}, {"room", room}}, 20 + unit(rng) * 5);
        for (int b = 0; b < 6; ++b) {
            add({{"__name__", "demo_latency_seconds_bucket"}, {"instance", inst}, {"job", "api"}, {"le", kLe[b]}}, 0);
        }
        add({{"__name__", "demo_latency_seconds_count"}, {"instance", inst}, {"job", "api"}}, 0);
    }
    std::vector<std::vector<metrics::SeriesData>> batches(static_cast<size_t>(o.steps));
    for (int step = 0; step < o.steps; ++step) {
        auto& batch = batches[static_cast<size_t>(step)];
        batch.reserve(series.size());
        for (size_t k = 0; k < series.size(); k += SeriesPerInstance()) {
            // Counters: increments, a reset now and then.
            for (size_t c = k; c < k + 2; ++c) {
                series[c].value = unit(rng) < 0.004 ? inc(rng) : series[c].value + inc(rng);
            }
            series[k + 2].value += std::round(walk(rng) * 100) / 100;
            int n = obs(rng);
            for (int j = 0; j < n; ++j) {
                double latency = -std::log(1 - unit(rng)) * 0.05;
                for (int b = 0; b < 6; ++b) {
                    if (latency <= kBound[b]) {
                        series[k + 3 + static_cast<size_t>(b)].value += 1;
                    }
                }
            }
            series[k + 9].value = series[k + 8].value;  // _count is the +Inf bucket
        }
        for (const auto& s : series) {
            int64_t t = o.start_ms + step * o.step_ms + s.offset + (o.jitter_ms == 0 ? 0 : noise(rng));
            batch.push_back({s.labels, {{t, s.value}}});
        }
    }
    return batches;
}

}  // namespace hangar::testing
