#include "hangar/core/periodic.hpp"

namespace hangar::core {

void Periodic::Start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        auto next = std::chrono::steady_clock::now();
        while (!stop_) {
            lock.unlock();
            fn_();
            lock.lock();
            auto now = std::chrono::steady_clock::now();
            next =
                cadence_ == Cadence::kFixedRate ? std::max(next + interval_, now) : now + interval_;
            cv_.wait_until(lock, next, [this] { return stop_; });
        }
    });
}

void Periodic::Stop() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace hangar::core
