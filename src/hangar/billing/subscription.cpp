#include "hangar/billing/subscription.hpp"

#include <chrono>

#include <fmt/format.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"

namespace hangar::billing {

namespace json = boost::json;
namespace chr = std::chrono;

namespace {

core::Error Refused(std::string why) {
    return core::MakeError(core::ErrorCode::kConflict, std::move(why));
}

std::string Time(int64_t t) {
    return core::FormatRfc3339(core::TimePoint(chr::seconds(t)));
}

std::optional<int64_t> ReadTime(const json::object& o, std::string_view key) {
    std::string s = core::StrAt(o, key);
    if (s.empty()) {
        return int64_t{0};
    }
    auto t = core::ParseRfc3339(s);
    if (!t) {
        return std::nullopt;
    }
    return core::UnixSeconds(*t);
}

// What a change at `at` may do: the subscription is running and `at` is in its period.
core::Result<void> Changeable(const Subscription& s, int64_t at, std::string_view what) {
    if (s.state == SubState::kCanceled || s.ended) {
        return core::Fail(Refused(fmt::format("the subscription is canceled; it cannot {}", what)));
    }
    if (at < s.period_start || at >= s.period_end) {
        return core::Fail(Refused(fmt::format(
            "{} must fall in the current period, {} to {}",
            what,
            Time(s.period_start),
            Time(s.period_end)
        )));
    }
    if (!s.phases.empty() && at < s.phases.back().from) {
        return core::Fail(Refused(fmt::format(
            "{} cannot come before the last change, at {}", what, Time(s.phases.back().from)
        )));
    }
    return {};
}

// Closes the open phase at `at` and opens the next (an empty phase is replaced).
void NextPhase(Subscription& s, std::string plan, int64_t at, bool paused) {
    if (!s.phases.empty() && s.phases.back().from == at) {
        s.phases.pop_back();
    } else if (!s.phases.empty()) {
        s.phases.back().to = at;
    }
    s.phases.push_back(Phase{std::move(plan), at, 0, paused});
}

SubState Running(const Subscription& s, int64_t now) {
    if (s.past_due_since != 0) {
        return SubState::kPastDue;
    }
    return s.trial_end > now ? SubState::kTrialing : SubState::kActive;
}

}  // namespace

std::string_view SubStateName(SubState s) {
    switch (s) {
        case SubState::kTrialing:
            return "trialing";
        case SubState::kActive:
            return "active";
        case SubState::kPaused:
            return "paused";
        case SubState::kPastDue:
            return "past_due";
        case SubState::kCanceled:
            return "canceled";
    }
    return "active";
}

int64_t MonthStart(int64_t t) {
    chr::year_month_day ymd{chr::floor<chr::days>(chr::sys_seconds(chr::seconds(t)))};
    return chr::sys_seconds(chr::sys_days(ymd.year() / ymd.month() / 1)).time_since_epoch().count();
}

int64_t NextMonthStart(int64_t t) {
    chr::year_month_day ymd{chr::floor<chr::days>(chr::sys_seconds(chr::seconds(t)))};
    auto next = ymd.year() / ymd.month() / 1 + chr::months(1);
    return chr::sys_seconds(chr::sys_days(next)).time_since_epoch().count();
}

int64_t FloorMinute(int64_t t) {
    return t - ((t % 60) + 60) % 60;
}

Subscription StartSubscription(std::string plan, int64_t at, int trial_days) {
    at = FloorMinute(at);
    Subscription s;
    s.plan = plan;
    s.started_at = at;
    s.trial_end = trial_days > 0 ? at + int64_t{trial_days} * 86400 : 0;
    s.period_start = at;
    s.period_end = NextMonthStart(at);
    s.phases.push_back(Phase{std::move(plan), at, 0, false});
    s.state = Running(s, at);
    return s;
}

core::Result<void> ChangePlan(Subscription& s, const std::string& plan, int64_t at) {
    at = FloorMinute(at);
    if (auto ok = Changeable(s, at, "a plan change"); !ok) {
        return ok;
    }
    if (plan == s.plan) {
        return core::Fail(Refused(fmt::format("the subscription is already on plan {}", plan)));
    }
    s.plan = plan;
    NextPhase(s, plan, at, s.state == SubState::kPaused);
    return {};
}

core::Result<void> Cancel(Subscription& s, int64_t at, bool at_period_end) {
    at = FloorMinute(at);
    if (auto ok = Changeable(s, at, "a cancellation"); !ok) {
        return ok;
    }
    if (at_period_end) {
        s.cancel_at_period_end = true;
        s.canceled_at = s.period_end;
        return {};
    }
    if (!s.phases.empty() && s.phases.back().from == at && s.phases.size() > 1) {
        s.phases.pop_back();
    }
    s.phases.back().to = std::max(at, s.phases.back().from);
    s.period_end = s.phases.back().to;
    s.canceled_at = s.period_end;
    s.state = SubState::kCanceled;
    return {};
}

core::Result<void> Pause(Subscription& s, int64_t at) {
    at = FloorMinute(at);
    if (auto ok = Changeable(s, at, "a pause"); !ok) {
        return ok;
    }
    if (s.state == SubState::kPaused) {
        return core::Fail(Refused("the subscription is already paused"));
    }
    NextPhase(s, s.plan, at, true);
    s.state = SubState::kPaused;
    return {};
}

core::Result<void> Resume(Subscription& s, int64_t at) {
    at = FloorMinute(at);
    if (auto ok = Changeable(s, at, "a resume"); !ok) {
        return ok;
    }
    if (s.state != SubState::kPaused) {
        return core::Fail(Refused("the subscription is not paused"));
    }
    NextPhase(s, s.plan, at, false);
    s.state = Running(s, at);
    return {};
}

std::optional<ClosedPeriod> CloseDue(Subscription& s, int64_t now) {
    if (s.ended) {
        return std::nullopt;
    }
    if (s.state == SubState::kTrialing && s.trial_end <= now) {
        s.state = Running(s, now);
    }
    if (s.period_end > now) {
        return std::nullopt;
    }
    ClosedPeriod out = PeriodSoFar(s, s.period_end);
    bool paused = s.state == SubState::kPaused;
    if (s.state == SubState::kCanceled || s.cancel_at_period_end) {
        out.last = true;
        s.state = SubState::kCanceled;
        s.ended = true;
        s.phases.clear();
        return out;
    }
    s.period_start = s.period_end;
    s.period_end = NextMonthStart(s.period_start);
    s.phases = {Phase{s.plan, s.period_start, 0, paused}};
    if (!paused) {
        s.state = Running(s, s.period_start);
    }
    return out;
}

ClosedPeriod PeriodSoFar(const Subscription& s, int64_t at) {
    ClosedPeriod out{s.period_start, std::min(at, s.period_end), {}, false};
    for (Phase p : s.phases) {
        if (p.to == 0 || p.to > out.end) {
            p.to = out.end;
        }
        if (p.to > p.from) {
            out.phases.push_back(std::move(p));
        }
    }
    return out;
}

json::object SubscriptionToStatus(const Subscription& s) {
    json::array phases;
    for (const Phase& p : s.phases) {
        json::object o{{"plan", p.plan}, {"from", Time(p.from)}, {"paused", p.paused}};
        o["to"] = p.to == 0 ? json::value(nullptr) : json::value(Time(p.to));
        phases.push_back(std::move(o));
    }
    auto opt = [](int64_t t) {
        return t == 0 ? json::value(nullptr) : json::value(Time(t));
    };
    return json::object{
        {"state", SubStateName(s.state)},
        {"plan", s.plan},
        {"started_at", Time(s.started_at)},
        {"trial_end", opt(s.trial_end)},
        {"current_period_start", Time(s.period_start)},
        {"current_period_end", Time(s.period_end)},
        {"cancel_at_period_end", s.cancel_at_period_end},
        {"canceled_at", opt(s.canceled_at)},
        {"past_due_since", opt(s.past_due_since)},
        {"suspended", s.suspended},
        {"ended", s.ended},
        {"phases", std::move(phases)},
    };
}

core::Result<Subscription> SubscriptionFromStatus(const json::object& st) {
    Subscription s;
    auto bad = [] {
        return core::Fail(
            core::MakeError(core::ErrorCode::kInternal, "a subscription's status is unreadable")
        );
    };
    s.plan = core::StrAt(st, "plan");
    std::string state = core::StrAt(st, "state");
    bool known = false;
    for (SubState x :
         {SubState::kTrialing,
          SubState::kActive,
          SubState::kPaused,
          SubState::kPastDue,
          SubState::kCanceled}) {
        if (SubStateName(x) == state) {
            s.state = x;
            known = true;
        }
    }
    auto started = ReadTime(st, "started_at");
    auto trial = ReadTime(st, "trial_end");
    auto ps = ReadTime(st, "current_period_start");
    auto pe = ReadTime(st, "current_period_end");
    auto canceled = ReadTime(st, "canceled_at");
    auto due = ReadTime(st, "past_due_since");
    if (!known || s.plan.empty() || !started || !trial || !ps || !pe || !canceled || !due) {
        return bad();
    }
    s.started_at = *started;
    s.trial_end = *trial;
    s.period_start = *ps;
    s.period_end = *pe;
    s.canceled_at = *canceled;
    s.past_due_since = *due;
    s.cancel_at_period_end = core::BoolAt(st, "cancel_at_period_end");
    s.suspended = core::BoolAt(st, "suspended");
    s.ended = core::BoolAt(st, "ended");
    if (const json::value* ph = st.if_contains("phases"); ph != nullptr && ph->is_array()) {
        for (const json::value& v : ph->as_array()) {
            if (!v.is_object()) {
                return bad();
            }
            const json::object& o = v.as_object();
            auto from = ReadTime(o, "from");
            auto to = ReadTime(o, "to");
            if (!from || !to) {
                return bad();
            }
            s.phases.push_back(Phase{core::StrAt(o, "plan"), *from, *to, core::BoolAt(o, "paused")}
            );
        }
    }
    return s;
}

}  // namespace hangar::billing
