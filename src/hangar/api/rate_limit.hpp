#pragma once
// Per-tenant token buckets: a tenant may burst to `burst` requests, then `rate` a second.
// Platform admins are not limited. Over the limit, a request answers 429 with Retry-After.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hangar::api {

class RateLimiter {
public:
    RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
    bool enabled() const { return rate_ > 0; }
    // True when the request may go ahead; otherwise `retry_after` says when to try again.
    bool Allow(const std::string& tenant, std::chrono::seconds& retry_after);

private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point last;
    };
    double rate_, burst_;
    std::mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace hangar::api
