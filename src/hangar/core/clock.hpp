#pragma once
// Time is read through a Clock so tests can drive it; times travel as RFC 3339 UTC strings.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hangar::core {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
public:
    TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
public:
    explicit FakeClock(TimePoint start) : now_ns_(start.time_since_epoch().count()) {}
    TimePoint Now() const override { return TimePoint(TimePoint::duration(now_ns_.load())); }
    void Advance(std::chrono::nanoseconds d) { now_ns_ += TimePoint::duration(d).count(); }

private:
    std::atomic<int64_t> now_ns_;
};

// "2026-11-23T08:00:00.123Z" (millisecond precision, always UTC).
std::string FormatRfc3339(TimePoint t);
// Accepts RFC 3339 with Z or a numeric offset, with or without fractional seconds.
std::optional<TimePoint> ParseRfc3339(std::string_view s);
// Seconds and milliseconds since the Unix epoch (JWT claims, sample timestamps).
inline int64_t UnixSeconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline int64_t UnixMillis(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
// Accepts "30s", "15m", "24h", "7d", "90d".
std::optional<std::chrono::seconds> ParseDuration(std::string_view s);

}  // namespace hangar::core
