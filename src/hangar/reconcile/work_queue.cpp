#include "hangar/reconcile/work_queue.hpp"

#include <algorithm>

namespace hangar::reconcile {

std::chrono::milliseconds Backoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max) {
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
        delayed_.erase(key);
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
            it->second = std::min(it->second, due);
        }
    }
    cv_.notify_one();
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
    for (auto it = delayed_.begin(); it != delayed_.end();) {
        if (it->second <= now) {
            const std::string& key = it->first;
            if (!dirty_.contains(key)) {
                dirty_.insert(key);
                if (!processing_.contains(key)) {
                    ready_.push_back(key);
                }
            }
            it = delayed_.erase(it);
        } else {
            ++it;
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
        if (delayed_.empty()) {
            cv_.wait(lock);
        } else {
            auto next = std::min_element(delayed_.begin(), delayed_.end(), [](const auto& a, const auto& b) {
                            return a.second < b.second;
                        })->second;
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
