#include "hangar/observe/sla.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/metrics/promql_ast.hpp"

namespace hangar::observe {

namespace json = boost::json;
using core::ErrorCode;
using core::Fail;
using core::Result;
using metrics::kMinute;

namespace {

struct Window {
    int64_t start = 0, end = 0;
    std::vector<metrics::Matcher> matchers;
};

Result<std::pair<int64_t, int64_t>> MonthRange(std::string_view month) {
    int y = 0;
    unsigned m = 0;
    auto bad = [&] {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("month \"{}\" must be YYYY-MM, such as 2026-10", month)
        );
    };
    if (month.size() != 7 || month[4] != '-') {
        return bad();
    }
    auto [p1, e1] = std::from_chars(month.data(), month.data() + 4, y);
    auto [p2, e2] = std::from_chars(month.data() + 5, month.data() + 7, m);
    if (e1 != std::errc() || e2 != std::errc() || p1 != month.data() + 4 ||
        p2 != month.data() + 7 || m < 1 || m > 12 || y < 1970) {
        return bad();
    }
    namespace chr = std::chrono;
    chr::year_month_day ymd{chr::year(y), chr::month(m), chr::day(1)};
    auto first = chr::sys_days(ymd);
    auto next = chr::sys_days(ymd + chr::months(1));
    return std::pair{
        chr::duration_cast<chr::milliseconds>(first.time_since_epoch()).count(),
        chr::duration_cast<chr::milliseconds>(next.time_since_epoch()).count()};
}

std::vector<store::Object>
ListAll(store::Store& store, const std::string& kind, const std::string& tenant) {
    return store.ListAll(kind, tenant).value_or(std::vector<store::Object>{});
}

int64_t Millis(core::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<json::object> SlaReport(
    store::Store& store,
    const metrics::Tsdb& db,
    const std::string& tenant,
    std::string_view month,
    int64_t now_ms
) {
    auto range = MonthRange(month);
    if (!range) {
        return Fail(range.error());
    }
    auto [start, end] = *range;
    if (start > now_ms) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("month {} has not begun", month));
    }
    end = std::min(end, now_ms - now_ms % kMinute);

    std::vector<Window> windows;
    for (const auto& w : ListAll(store, "MaintenanceWindow", tenant)) {
        auto a = core::ParseRfc3339(core::StrAt(w.spec, "starts_at"));
        auto b = core::ParseRfc3339(core::StrAt(w.spec, "ends_at"));
        if (!a || !b) {
            continue;
        }
        Window win{Millis(*a), Millis(*b), {}};
        if (auto sel = core::StrAt(w.spec, "selector"); !sel.empty()) {
            if (auto e = metrics::promql::Parse(sel);
                e && (*e)->kind == metrics::promql::Expr::Kind::kVectorSelector) {
                win.matchers = std::move((*e)->matchers);
            }
        }
        windows.push_back(std::move(win));
    }

    std::vector<metrics::Matcher> probe = {
        *metrics::Matcher::Make(metrics::MatchOp::kEqual, "__name__", "up"),
        *metrics::Matcher::Make(metrics::MatchOp::kEqual, "job", "hangar-probe"),
    };
    constexpr int64_t kLookback = 5 * kMinute;
    auto series = db.Select(tenant, probe, start - kLookback, end - 1);
    std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) {
        return metrics::Get(a.labels, "instance") < metrics::Get(b.labels, "instance");
    });

    json::array rows;
    int64_t total_down = 0;
    for (const auto& s : series) {
        std::string id(metrics::Get(s.labels, "instance"));
        const auto& smp = s.samples;
        auto first_in = std::lower_bound(
            smp.begin(),
            smp.end(),
            start,
            [](const metrics::Sample& x, int64_t t) { return x.t < t; }
        );
        if (first_in == smp.end()) {
            continue;  // no probe in the month
        }
        // From the first probe in the month until the last one's lookback runs out (or the month
        // ends).
        int64_t first_minute = (first_in->t - start) / kMinute;
        int64_t last_minute =
            std::min((end - start) / kMinute - 1, (smp.back().t + kLookback - start) / kMinute - 1);
        last_minute = std::max(last_minute, (smp.back().t - start) / kMinute);
        std::vector<const Window*> mine;
        for (const auto& w : windows) {
            if (metrics::MatchesAll(s.labels, w.matchers)) {
                mine.push_back(&w);
            }
        }
        int64_t minutes = 0, down = 0, maintenance = 0, unmonitored = 0;
        size_t next = 0;  // first sample after the current minute's start
        for (int64_t i = first_minute; i <= last_minute; ++i) {
            int64_t ms = start + i * kMinute, me = ms + kMinute;
            ++minutes;
            while (next < smp.size() && smp[next].t <= ms
            ) {  // a probe at the minute's start sets its state
                ++next;
            }
            bool in_maintenance = std::any_of(mine.begin(), mine.end(), [&](const Window* w) {
                return w->start < me && w->end > ms;
            });
            if (in_maintenance) {
                ++maintenance;
                continue;
            }
            bool before = next > 0 && smp[next - 1].t >= ms - kLookback;
            bool failed = before && smp[next - 1].v == 0;
            bool inside = false;
            for (size_t k = next; k < smp.size() && smp[k].t < me; ++k) {
                inside = true;
                failed = failed || smp[k].v == 0;
            }
            if (!before && !inside) {
                ++unmonitored;
            } else if (failed) {
                ++down;
            }
        }
        int64_t counted = minutes - maintenance - unmonitored;
        double uptime =
            counted > 0 ? 100.0 * static_cast<double>(counted - down) / static_cast<double>(counted)
                        : 100.0;
        json::object row{
            {"instance", id},
            {"name", std::string(metrics::Get(s.labels, "instance_name"))},
            {"product", std::string(metrics::Get(s.labels, "product"))},
            {"minutes", minutes},
            {"down_minutes", down},
            {"maintenance_minutes", maintenance},
            {"unmonitored_minutes", unmonitored},
            {"uptime_percent", std::round(uptime * 1000) / 1000},
        };
        total_down += down;
        // The plan's SLA: from the instance if it is still there.
        json::value plan_name = nullptr, target = nullptr;
        double credit = 0;
        if (auto inst = store.Get(id); inst && inst->tenant == tenant) {
            std::string plan = core::StrAt(inst->spec, "plan");
            plan_name = plan;
            if (auto p = store.FindByName("Plan", "", plan); p && p->spec.contains("sla")) {
                const json::object& sla = p->spec.at("sla").as_object();
                if (const json::value* t = sla.if_contains("target_percent"); t && t->is_number()) {
                    target = t->to_number<double>();
                }
                if (const json::value* credits = sla.if_contains("credits");
                    credits && credits->is_array()) {
                    for (const auto& c : credits->as_array()) {
                        if (!c.is_object()) {
                            continue;
                        }
                        const json::value* below = c.as_object().if_contains("below_percent");
                        const json::value* pct = c.as_object().if_contains("credit_percent");
                        if (below && pct && below->is_number() && pct->is_number() &&
                            uptime < below->to_number<double>()) {
                            credit = std::max(credit, pct->to_number<double>());
                        }
                    }
                }
            }
        }
        row["plan"] = plan_name;
        row["sla_target_percent"] = target;
        row["met"] = target.is_null() ? json::value(nullptr)
                                      : json::value(uptime >= target.to_number<double>());
        row["credit_percent"] = credit;
        rows.push_back(std::move(row));
    }
    return json::object{
        {"tenant", tenant},
        {"month", std::string(month)},
        {"from", core::FormatRfc3339(core::TimePoint(std::chrono::milliseconds(start)))},
        {"to", core::FormatRfc3339(core::TimePoint(std::chrono::milliseconds(end)))},
        {"instances", std::move(rows)},
        {"down_minutes", total_down},
    };
}

}  // namespace hangar::observe
