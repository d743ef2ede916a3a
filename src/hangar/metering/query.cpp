#include "hangar/metering/query.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <cctz/civil_time.h>
#include <fmt/format.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"

namespace hangar::metering {

namespace {

using Seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

int64_t ToUnix(const cctz::civil_second& cs, const cctz::time_zone& tz) {
    return cctz::convert(cs, tz).time_since_epoch().count();
}

struct Acc {
    int64_t count = 0;
    double sum = 0, min = 0, max = 0, latest = 0;
    int64_t latest_ms = -1;
    std::set<std::string> uniq;
};

// (window start, window end, subject or "", projected group as JSON): the row a bucket adds to.
struct RowKey {
    int64_t start, end;
    std::optional<std::string> subject;
    std::map<std::string, std::optional<std::string>> group;
    bool operator<(const RowKey& o) const {
        return std::tie(start, end, subject, group) < std::tie(o.start, o.end, o.subject, o.group);
    }
};

}  // namespace

std::optional<WindowSize> ParseWindowSize(std::string_view s) {
    if (s == "MINUTE") {
        return WindowSize::kMinute;
    }
    if (s == "HOUR") {
        return WindowSize::kHour;
    }
    if (s == "DAY") {
        return WindowSize::kDay;
    }
    if (s == "MONTH") {
        return WindowSize::kMonth;
    }
    return std::nullopt;
}

std::string_view WindowSizeName(WindowSize w) {
    switch (w) {
        case WindowSize::kMinute:
            return "MINUTE";
        case WindowSize::kHour:
            return "HOUR";
        case WindowSize::kDay:
            return "DAY";
        case WindowSize::kMonth:
            return "MONTH";
        case WindowSize::kNone:
            break;
    }
    return "";
}

int BucketWidth(const MeterQuery& q) {
    if (q.window == WindowSize::kMinute || q.from_s % 900 != 0 || q.to_s % 900 != 0) {
        return 60;
    }
    // Every zone's offset is a whole number of quarter hours today; one that is not (local
    // mean time before 1900) is read per minute.
    auto lookup = [&](int64_t t) {
        return q.tz.lookup(Seconds(std::chrono::seconds(t))).offset % 900 == 0;
    };
    return lookup(q.from_s) && lookup(q.to_s - 1) ? 900 : 60;
}

std::pair<int64_t, int64_t> WindowOf(int64_t t, const MeterQuery& q) {
    if (q.window == WindowSize::kNone) {
        return {q.from_s, q.to_s};
    }
    if (q.window == WindowSize::kMinute) {
        int64_t s = t - (((t % 60) + 60) % 60);
        return {s, s + 60};
    }
    cctz::civil_second local = cctz::convert(Seconds(std::chrono::seconds(t)), q.tz);
    switch (q.window) {
        case WindowSize::kHour: {
            cctz::civil_hour h(local);
            return {ToUnix(cctz::civil_second(h), q.tz), ToUnix(cctz::civil_second(h + 1), q.tz)};
        }
        case WindowSize::kDay: {
            cctz::civil_day d(local);
            return {ToUnix(cctz::civil_second(d), q.tz), ToUnix(cctz::civil_second(d + 1), q.tz)};
        }
        default: {
            cctz::civil_month m(local);
            return {ToUnix(cctz::civil_second(m), q.tz), ToUnix(cctz::civil_second(m + 1), q.tz)};
        }
    }
}

core::Result<std::vector<QueryRow>> Aggregate(
    const MeterDef& m,
    const MeterQuery& q,
    const std::vector<RollupRow>& rollups,
    const std::vector<UniqueRow>& uniques
) {
    bool by_subject = std::ranges::find(q.group_by, "subject") != q.group_by.end();
    std::vector<std::string> names;
    for (const auto& g : q.group_by) {
        if (g != "subject") {
            names.push_back(g);
        }
    }
    // A bucket's group JSON, parsed once: its projection, or nullopt when a filter drops it.
    std::
        unordered_map<std::string, std::optional<std::map<std::string, std::optional<std::string>>>>
            projected;
    auto project = [&](const std::string& group
                   ) -> const std::optional<std::map<std::string, std::optional<std::string>>>& {
        auto it = projected.find(group);
        if (it != projected.end()) {
            return it->second;
        }
        auto parsed = core::ParseJsonObject(group);
        json::object g = parsed ? std::move(*parsed) : json::object();
        auto value = [&](const std::string& name) -> std::optional<std::string> {
            const json::value* v = g.if_contains(name);
            if (v == nullptr || !v->is_string()) {
                return std::nullopt;
            }
            return std::string(v->as_string());
        };
        std::optional<std::map<std::string, std::optional<std::string>>> out(std::in_place);
        for (const auto& [name, allowed] : q.filter_group_by) {
            auto v = value(name);
            if (!v || std::ranges::find(allowed, *v) == allowed.end()) {
                out.reset();
                break;
            }
        }
        if (out) {
            for (const auto& name : names) {
                (*out)[name] = value(name);
            }
        }
        return projected.emplace(group, std::move(out)).first->second;
    };
    // Window bounds per bucket start, computed once per distinct bucket.
    std::unordered_map<int64_t, std::pair<int64_t, int64_t>> windows;
    auto window = [&](int64_t bucket) {
        auto it = windows.find(bucket);
        if (it == windows.end()) {
            it = windows.emplace(bucket, WindowOf(bucket, q)).first;
        }
        return it->second;
    };
    std::map<RowKey, Acc> rows;
    auto row = [&](const std::string& subject, const std::string& group, int64_t bucket) -> Acc* {
        const auto& g = project(group);
        if (!g) {
            return nullptr;
        }
        auto [start, end] = window(bucket);
        RowKey k{start, end, by_subject ? std::optional<std::string>(subject) : std::nullopt, *g};
        auto it = rows.find(k);
        if (it == rows.end()) {
            if (rows.size() >= kMaxRows) {
                return nullptr;
            }
            it = rows.emplace(std::move(k), Acc{}).first;
        }
        return &it->second;
    };
    bool too_many = false;
    for (const RollupRow& r : rollups) {
        Acc* a = row(r.subject, r.group, r.bucket);
        if (a == nullptr) {
            too_many = too_many || rows.size() >= kMaxRows;
            continue;
        }
        if (a->count == 0) {
            a->min = r.min;
            a->max = r.max;
        } else {
            a->min = std::min(a->min, r.min);
            a->max = std::max(a->max, r.max);
        }
        a->count += r.count;
        a->sum += r.sum;
        if (r.latest_ms >= a->latest_ms) {
            a->latest = r.latest;
            a->latest_ms = r.latest_ms;
        }
    }
    for (const UniqueRow& u : uniques) {
        if (Acc* a = row(u.subject, u.group, u.bucket)) {
            a->uniq.insert(u.value);
        }
    }
    if (too_many) {
        return core::Fail(core::MakeError(
            core::ErrorCode::kInvalidArgument,
            fmt::format(
                "the answer would hold more than {} rows: narrow the range or widen the window",
                kMaxRows
            )
        ));
    }
    std::vector<QueryRow> out;
    out.reserve(rows.size());
    for (auto& [k, a] : rows) {
        if (a.count == 0) {
            continue;
        }
        QueryRow r;
        r.window_start = k.start;
        r.window_end = k.end;
        r.subject = k.subject;
        r.group = k.group;
        switch (m.aggregation) {
            case Aggregation::kSum:
                r.value = a.sum;
                break;
            case Aggregation::kCount:
                r.value = static_cast<double>(a.count);
                break;
            case Aggregation::kUniqueCount:
                r.value = static_cast<double>(a.uniq.size());
                break;
            case Aggregation::kAvg:
                r.value = a.sum / static_cast<double>(a.count);
                break;
            case Aggregation::kMin:
                r.value = a.min;
                break;
            case Aggregation::kMax:
                r.value = a.max;
                break;
            case Aggregation::kLatest:
                r.value = a.latest;
                break;
        }
        out.push_back(std::move(r));
    }
    return out;
}

boost::json::object RowToJson(const QueryRow& r) {
    json::object group;
    for (const auto& [k, v] : r.group) {
        group[k] = v ? json::value(*v) : json::value(nullptr);
    }
    auto at = [](int64_t s) {
        return core::FormatRfc3339(core::TimePoint(std::chrono::seconds(s)));
    };
    return json::object{
        {"value", r.value},
        {"windowStart", at(r.window_start)},
        {"windowEnd", at(r.window_end)},
        {"subject", r.subject ? json::value(*r.subject) : json::value(nullptr)},
        {"groupBy", std::move(group)}};
}

}  // namespace hangar::metering
