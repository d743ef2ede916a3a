#include "hangar/reconcile/controller.hpp"

#include <random>

#include "hangar/core/log.hpp"

namespace hangar::reconcile {

std::vector<std::string> ListKind(store::Store& store, const std::string& kind) {
    std::vector<std::string> ids;
    for (const auto& o : store.ListAll(kind).value_or(std::vector<store::Object>{})) {
        ids.push_back(o.id);
    }
    return ids;
}

Controller::Controller(
    store::Store& store,
    ControllerOptions opts,
    ReconcileFn reconcile,
    ListFn list
)
    : store_(store),
      opts_(std::move(opts)),
      reconcile_(std::move(reconcile)),
      list_(std::move(list)) {}

Controller::~Controller() {
    Stop();
}

void Controller::Start() {
    for (size_t i = 0; i < opts_.workers; ++i) {
        threads_.emplace_back([this] { Worker(); });
    }
    threads_.emplace_back([this] { Feed(); });
}

void Controller::Stop() {
    if (stop_.exchange(true)) {
        return;
    }
    queue_.ShutDown();
    feed_cv_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
}

void Controller::Wake() {
    {
        std::lock_guard lock(feed_mu_);
        woken_ = true;
    }
    feed_cv_.notify_one();
}

void Controller::Worker() {
    while (auto key = queue_.Get()) {
        {
            std::lock_guard lock(own_mu_);
            in_flight_.insert(*key);
        }
        core::Result<Outcome> r = core::Fail(core::ErrorCode::kInternal, "not run");
        try {
            r = reconcile_(*key);
        } catch (const std::exception& e) {
            r = core::Fail(core::ErrorCode::kInternal, e.what());
        }
        reconciles_++;
        if (opts_.reconciles != nullptr) {
            opts_.reconciles->Inc({opts_.name, r ? "ok" : "error"});
        }
        if (!r) {
            auto delay = queue_.Retry(*key);
            core::Log(
                core::LogLevel::kWarn,
                "reconcile failed",
                {{"controller", std::string_view(opts_.name)},
                 {"key", std::string_view(*key)},
                 {"error", std::string_view(r.error().message)},
                 {"retry_in_ms", static_cast<int64_t>(delay.count())}}
            );
        } else {
            queue_.Forget(*key);
            if (r->requeue_after) {
                queue_.AddAfter(*key, *r->requeue_after);
            }
            core::Log(
                core::LogLevel::kDebug,
                "reconciled",
                {{"controller", std::string_view(opts_.name)},
                 {"key", std::string_view(*key)},
                 {"requeue_ms",
                  static_cast<int64_t>(r->requeue_after ? r->requeue_after->count() : -1)}}
            );
        }
        // Changes the feed saw while this key was being reconciled: our own write needs no
        // second pass; anything newer does.
        bool again = false;
        {
            std::lock_guard lock(own_mu_);
            in_flight_.erase(*key);
            int64_t wrote = r ? r->wrote_revision : 0;
            int64_t seen = 0;
            if (auto p = pending_.find(*key); p != pending_.end()) {
                seen = p->second;
                pending_.erase(p);
            }
            again = seen > wrote;
            if (wrote > seen) {
                own_writes_[*key] = wrote;  // its change is still to come through the feed
            }
        }
        if (again) {
            queue_.Add(*key);
        }
        queue_.Done(*key);
    }
}

// Starts from a full list (level-triggered: whatever happened while we were down is in the
// objects themselves), then follows the change log, and re-lists every resync period.
void Controller::Feed() {
    std::mt19937 rng{std::random_device{}()};
    auto next_resync = std::chrono::steady_clock::now();
    int64_t cursor = 0;
    if (auto rev = store_.CurrentRevision()) {
        cursor = *rev;
    }
    while (!stop_) {
        auto now = std::chrono::steady_clock::now();
        if (now >= next_resync) {
            for (const auto& k : list_()) {
                queue_.Add(k);
            }
            auto jitter = std::uniform_int_distribution<int64_t>(0, opts_.resync.count() / 10)(rng);
            next_resync = now + opts_.resync + std::chrono::milliseconds(jitter);
        }
        while (true) {
            auto changes = store_.ChangesAfter(cursor, 1000);
            if (!changes) {
                if (auto rev = store_.CurrentRevision()) {
                    cursor = *rev;  // compacted past us: the next resync covers the gap
                }
                next_resync = now;
                break;
            }
            for (const auto& c : *changes) {
                cursor = c.revision;
                if (std::find(opts_.kinds.begin(), opts_.kinds.end(), c.kind) ==
                    opts_.kinds.end()) {
                    continue;
                }
                {
                    std::lock_guard lock(own_mu_);
                    auto own = own_writes_.find(c.id);
                    if (own != own_writes_.end() && own->second >= c.revision) {
                        if (own->second == c.revision) {
                            own_writes_.erase(own);
                        }
                        continue;  // our own write (or older): nothing new to reconcile
                    }
                    if (own != own_writes_.end()) {
                        own_writes_.erase(own);
                    }
                    if (in_flight_.contains(c.id)) {
                        int64_t& p = pending_[c.id];  // decided when that reconcile ends
                        p = std::max(p, c.revision);
                        continue;
                    }
                }
                queue_.Add(c.id);
            }
            if (changes->size() < 1000) {
                break;
            }
        }
        std::unique_lock lock(feed_mu_);
        feed_cv_.wait_until(
            lock,
            std::min(next_resync, std::chrono::steady_clock::now() + std::chrono::seconds(1)),
            [this] { return stop_ || woken_; }
        );
        woken_ = false;
    }
}

}  // namespace hangar::reconcile
