#pragma once
// Token buckets by key (a tenant, a workspace, a client address): a key may burst to `burst`
// requests, then `rate` a second. Over the limit, the caller answers 429 with Retry-After.
// At most `max_keys` buckets are kept; past that, the full ones (idle keys) are forgotten.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hangar::core {

class RateLimiter {
public:
    RateLimiter(double rate, double burst, size_t max_keys = 100000)
        : rate_(rate), burst_(burst), max_keys_(max_keys) {}
    bool enabled() const { return rate_ > 0; }
    // True when the request may go ahead; otherwise `retry_after` says when to try again.
    bool Allow(const std::string& key, std::chrono::seconds& retry_after);

private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point last;
    };
    double rate_, burst_;
    size_t max_keys_;
    std::mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace hangar::core
