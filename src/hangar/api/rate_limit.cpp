#include "hangar/api/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace hangar::api {

bool RateLimiter::Allow(const std::string& tenant, std::chrono::seconds& retry_after) {
    if (!enabled()) {
        return true;
    }
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    auto [it, fresh] = buckets_.try_emplace(tenant, Bucket{burst_, now});
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

}  // namespace hangar::api
