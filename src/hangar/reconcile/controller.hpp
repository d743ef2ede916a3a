#pragma once
// Runs a reconcile function over keys with a work queue: N workers, back-off on failure,
// a periodic resync (with jitter) that re-queues every key, and a change feed that queues the
// keys the store's change log says changed. Reconcile is level-triggered: it reads the current
// state for its key, acts, and may ask to be called again after a delay.

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/reconcile/work_queue.hpp"
#include "hangar/store/store.hpp"

namespace hangar::reconcile {

struct Outcome {
    std::optional<std::chrono::milliseconds> requeue_after;
    // The revision the reconcile itself wrote to its key's object: the change feed skips
    // that echo instead of reconciling the same state again.
    int64_t wrote_revision = 0;
};

struct ControllerOptions {
    std::string name;
    size_t workers = 4;
    std::chrono::milliseconds resync{std::chrono::seconds(30)};
    std::vector<std::string> kinds;  // change-log kinds that wake this controller
    // hangar_reconciles_total{controller,result}; may be null.
    core::CounterFamily* reconciles = nullptr;
};

// Every id of a kind, for a controller's resync.
std::vector<std::string> ListKind(store::Store& store, const std::string& kind);

class Controller {
public:
    using ReconcileFn = std::function<core::Result<Outcome>(const std::string& key)>;
    using ListFn = std::function<std::vector<std::string>()>;

    Controller(store::Store& store, ControllerOptions opts, ReconcileFn reconcile, ListFn list);
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    void Start();
    void Stop();
    void Wake();  // the store committed: read the change log
    WorkQueue& queue() { return queue_; }
    uint64_t reconciles() const { return reconciles_.load(); }

private:
    void Worker();
    void Feed();

    store::Store& store_;
    ControllerOptions opts_;
    ReconcileFn reconcile_;
    ListFn list_;
    WorkQueue queue_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> reconciles_{0};
    std::mutex feed_mu_;
    std::condition_variable feed_cv_;
    bool woken_ = false;
    std::mutex own_mu_;
    std::unordered_map<std::string, int64_t> own_writes_;  // key -> revision this controller wrote
    std::unordered_set<std::string> in_flight_;            // keys being reconciled now
    std::unordered_map<std::string, int64_t> pending_;     // in-flight key -> newest change seen
};

}  // namespace hangar::reconcile
