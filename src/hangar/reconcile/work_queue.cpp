#include "hangar/reconcile/work_queue.hpp"

#include <algorithm>

namespace hangar::reconcile {

std::chrono::milliseconds
Backoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max) {
    if (failures <= 0) {
        return std::chrono::milliseconds(0);
    }
    auto d = base;
    for (int i = 1; i < failures && d < max; ++i) {
        d *= 2;
    }
    return std::min(d, max);
}

void WorkQueue::Add(const std::string& key) {
    {
        std::lock_guard lock(mu_);
        if (shutdown_ || dirty_.contains(key)) {
            return;
        }
        dirty_.insert(key);
        EraseDelayedLocked(key);
        if (!processing_.contains(key)) {
            ready_.push_back(key);
        }
    }
    cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
    if (delay.count() <= 0) {
        Add(key);
        return;
    }
    {
        std::lock_guard lock(mu_);
        if (shutdown_ || dirty_.contains(key)) {
            return;
        }
        auto due = Clock::now() + delay;
        auto [it, fresh] = delayed_.try_emplace(key, due);
        if (!fresh) {
            if (it->second <= due) {
                return;
            }
            by_due_.erase({it->second, key});
            it->second = due;
        }
        by_due_.emplace(due, key);
    }
    cv_.notify_one();
}

void WorkQueue::EraseDelayedLocked(const std::string& key) {
    auto it = delayed_.find(key);
    if (it != delayed_.end()) {
        by_due_.erase({it->second, key});
        delayed_.erase(it);
    }
}

// Due keys come off the front of by_due_: O(log n) each, however many keys wait.
void WorkQueue::PromoteDueLocked(Clock::time_point now) {
    while (!by_due_.empty() && by_due_.begin()->first <= now) {
        auto node = by_due_.extract(by_due_.begin());
        std::string& key = node.value().second;
        delayed_.erase(key);
        if (!dirty_.contains(key)) {
            dirty_.insert(key);
            if (!processing_.contains(key)) {
                ready_.push_back(std::move(key));
            }
        }
    }
}

std::optional<std::string> WorkQueue::Get() {
    std::unique_lock lock(mu_);
    while (true) {
        if (shutdown_) {
            return std::nullopt;
        }
        PromoteDueLocked(Clock::now());
        if (!ready_.empty()) {
            std::string key = std::move(ready_.front());
            ready_.pop_front();
            dirty_.erase(key);
            processing_.insert(key);
            return key;
        }
        if (by_due_.empty()) {
            cv_.wait(lock);
        } else {
            // A copy: wait_until reads its deadline after waking, when that node may be gone.
            const Clock::time_point next = by_due_.begin()->first;
            cv_.wait_until(lock, next);
        }
    }
}

void WorkQueue::Done(const std::string& key) {
    bool requeued = false;
    {
        std::lock_guard lock(mu_);
        processing_.erase(key);
        if (dirty_.contains(key)) {
            ready_.push_back(key);
            requeued = true;
        }
    }
    if (requeued) {
        cv_.notify_one();
    }
}

std::chrono::milliseconds WorkQueue::Retry(const std::string& key) {
    int n = 0;
    {
        std::lock_guard lock(mu_);
        n = ++failures_[key];
    }
    auto d = Backoff(n);
    AddAfter(key, d);
    return d;
}

void WorkQueue::Forget(const std::string& key) {
    std::lock_guard lock(mu_);
    failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = failures_.find(key);
    return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::ShutDown() {
    {
        std::lock_guard lock(mu_);
        shutdown_ = true;
    }
    cv_.notify_all();
}

size_t WorkQueue::Len() {
    std::lock_guard lock(mu_);
    return ready_.size();
}

}  // namespace hangar::reconcile
