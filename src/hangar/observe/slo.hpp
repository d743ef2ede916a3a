#pragma once
// Evaluates every SLO about once a minute from the probe series: availability over the SLO's
// window, error budget remaining, and burn rates over 5m/30m/1h/6h (the multi-window alerts:
// fast = 1h and 5m above 14.4×, slow = 6h and 30m above 6×). Results go to the SLO's status
// and, as series alert rules can use, to its tenant: slo_availability, slo_objective,
// slo_error_budget_remaining and slo_burn_rate{window} (each labelled slo="<name>").

#include <chrono>

#include "hangar/core/clock.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/store/store.hpp"

namespace hangar::observe {

class SloEvaluator {
public:
    SloEvaluator(
        store::Store& store,
        metrics::Tsdb& db,
        const core::Clock& clock,
        std::chrono::milliseconds interval
    );
    void Start() { loop_.Start(); }
    void Stop() { loop_.Stop(); }
    // One pass over every SLO (tests call it directly).
    void EvaluateAll();

private:
    store::Store& store_;
    metrics::Tsdb& db_;
    const core::Clock& clock_;
    core::Periodic loop_;  // last: stopped before the members it uses go
};

}  // namespace hangar::observe
