#include "hangar/core/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace hangar::core {

bool RateLimiter::Allow(const std::string& key, std::chrono::seconds& retry_after) {
    if (!enabled()) {
        return true;
    }
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (buckets_.size() >= max_keys_ && !buckets_.contains(key)) {
        std::erase_if(buckets_, [&](const auto& kv) {
            return kv.second.tokens +
                       std::chrono::duration<double>(now - kv.second.last).count() * rate_ >=
                   burst_;
        });
        if (buckets_.size() >= max_keys_) {
            retry_after = std::chrono::seconds(1);
            return false;  // every kept key is busy: refuse new ones rather than grow
        }
    }
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return true;
    }
    retry_after = std::chrono::seconds(static_cast<int64_t>(std::ceil((1 - b.tokens) / rate_)));
    return false;
}

}  // namespace hangar::core
