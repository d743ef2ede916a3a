#include "hangar/core/clock.hpp"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace hangar::core {

std::string FormatRfc3339(TimePoint t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    int64_t frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        frac
    );
}

namespace {

bool ReadInt(std::string_view s, size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) {
        return false;
    }
    for (size_t i = pos; i < pos + len; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc();
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
    if (s.size() < 20 || !ReadInt(s, 0, 4, year) || s[4] != '-' || !ReadInt(s, 5, 2, mon) ||
        s[7] != '-' || !ReadInt(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
        !ReadInt(s, 11, 2, hour) || s[13] != ':' || !ReadInt(s, 14, 2, min) || s[16] != ':' ||
        !ReadInt(s, 17, 2, sec)) {
        return std::nullopt;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return std::nullopt;
    }
    // Nanoseconds since 1970 in 64 bits reach the years 1677 to 2262; past them the
    // conversion would overflow (found by the core_text fuzz target).
    if (year < 1900 || year > 2200) {
        return std::nullopt;
    }
    size_t pos = 19;
    int64_t nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        for (size_t i = digits; i < 9; ++i) {
            nanos *= 10;
        }
    }
    int offset_minutes = 0;
    if (pos == s.size()) {
        return std::nullopt;
    }
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (!ReadInt(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !ReadInt(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) {
        return std::nullopt;
    }
    std::chrono::year_month_day ymd{
        std::chrono::year(year), std::chrono::month(mon), std::chrono::day(day)};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    auto days = std::chrono::sys_days(ymd);
    TimePoint t = days + std::chrono::hours(hour) + std::chrono::minutes(min) +
                  std::chrono::seconds(sec) - std::chrono::minutes(offset_minutes);
    return t + std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(nanos));
}

std::optional<std::chrono::seconds> ParseDuration(std::string_view s) {
    if (s.size() < 2) {
        return std::nullopt;
    }
    int64_t n = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size() - 1, n);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() - 1 || n < 0 || n > 36500LL * 86400) {
        return std::nullopt;
    }
    int64_t unit = 0;
    switch (s.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return std::nullopt;
    }
    // At most 100 years in all: added to a time in nanoseconds, more would overflow.
    if (n > 36500LL * 86400 / unit) {
        return std::nullopt;
    }
    return std::chrono::seconds(n * unit);
}

}  // namespace hangar::core
