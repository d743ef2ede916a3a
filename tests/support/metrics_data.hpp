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
    int instances = 5;  // each has 2 counters, 1 gauge and a 6-bucket histogram (10 series)
    int64_t start_ms = 0;
    int64_t step_ms = 15'000;
    int steps = 240;          // one hour at 15 s
    int64_t jitter_ms = 400;  // ± per series, fixed like a scrape offset, plus a little noise
    uint64_t seed = 42;
};

inline int SeriesPerInstance() {
    return 10;
}

// Produces one step at a time, so a benchmark's 10,000 series × 240 steps never sit in memory
// at once.
class SyntheticGenerator {
public:
    explicit SyntheticGenerator(const SyntheticOptions& o) : o_(o), rng_(o.seed) {
        for (int i = 0; i < o.instances; ++i) {
            std::string inst = "i" + std::to_string(i);
            std::string room = "r" + std::to_string(i % 4);
            Add({{"__name__", "demo_requests_total"},
                 {"code", "200"},
                 {"instance", inst},
                 {"job", "api"}},
                static_cast<double>(rng_() % 1000));
            Add({{"__name__", "demo_requests_total"},
                 {"code", "500"},
                 {"instance", inst},
                 {"job", "api"}},
                static_cast<double>(rng_() % 50));
            Add({{"__name__", "demo_temperature"}, {"instance", inst}, {"room", room}},
                20 + unit_(rng_) * 5);
            for (int b = 0; b < 6; ++b) {
                Add({{"__name__", "demo_latency_seconds_bucket"},
                     {"instance", inst},
                     {"job", "api"},
                     {"le", kLe[b]}},
                    0);
            }
            Add({{"__name__", "demo_latency_seconds_count"}, {"instance", inst}, {"job", "api"}},
                0);
        }
    }
    size_t series() const { return series_.size(); }
    const metrics::Labels& labels(size_t i) const { return series_[i].labels; }

    // The next step's sample for every series, in series order; false after the last step.
    bool Next(std::vector<metrics::Sample>& out) {
        if (step_ >= o_.steps) {
            return false;
        }
        for (size_t k = 0; k < series_.size(); k += static_cast<size_t>(SeriesPerInstance())) {
            for (size_t c = k; c < k + 2; ++c) {  // counters: increments, a reset now and then
                series_[c].value = unit_(rng_) < 0.004 ? inc_(rng_) : series_[c].value + inc_(rng_);
            }
            series_[k + 2].value += std::round(walk_(rng_) * 100) / 100;
            int n = obs_(rng_);
            for (int j = 0; j < n; ++j) {
                double latency = -std::log(1 - unit_(rng_)) * 0.05;
                for (int b = 0; b < 6; ++b) {
                    if (latency <= kBound[b]) {
                        series_[k + 3 + static_cast<size_t>(b)].value += 1;
                    }
                }
            }
            series_[k + 9].value = series_[k + 8].value;  // _count is the +Inf bucket
        }
        out.resize(series_.size());
        for (size_t i = 0; i < series_.size(); ++i) {
            int64_t jitter = o_.jitter_ms == 0 ? 0 : noise_(rng_);
            out[i] = {
                o_.start_ms + step_ * o_.step_ms + series_[i].offset + jitter, series_[i].value};
        }
        ++step_;
        return true;
    }

private:
    static constexpr const char* kLe[] = {"0.005", "0.01", "0.05", "0.1", "0.5", "+Inf"};
    static constexpr double kBound[] = {0.005, 0.01, 0.05, 0.1, 0.5, INFINITY};
    struct State {
        metrics::Labels labels;
        int64_t offset = 0;
        double value = 0;
    };
    void Add(metrics::Labels l, double start) {
        int64_t off =
            o_.jitter_ms == 0
                ? 0
                : static_cast<int64_t>(rng_() % static_cast<uint64_t>(2 * o_.jitter_ms + 1)) -
                      o_.jitter_ms;
        series_.push_back({std::move(l), off, start});
    }
    SyntheticOptions o_;
    std::mt19937_64 rng_;
    std::uniform_int_distribution<int> inc_{0, 20}, noise_{-20, 20}, obs_{0, 10};
    std::uniform_real_distribution<double> unit_{0, 1};
    std::normal_distribution<double> walk_{0, 0.7};
    std::vector<State> series_;
    int step_ = 0;
};

inline std::vector<std::vector<metrics::SeriesData>> SyntheticBatches(const SyntheticOptions& o) {
    SyntheticGenerator gen(o);
    std::vector<std::vector<metrics::SeriesData>> batches;
    std::vector<metrics::Sample> step;
    while (gen.Next(step)) {
        auto& batch = batches.emplace_back();
        for (size_t i = 0; i < step.size(); ++i) {
            batch.push_back({gen.labels(i), {step[i]}});
        }
    }
    return batches;
}

}  // namespace hangar::testing
