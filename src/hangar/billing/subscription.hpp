#pragma once
// A tenant's subscription to a plan, as billing periods and phases (Lago's calendar billing):
// a period is the rest of a UTC calendar month, the first one starting when the subscription
// does; a phase is a stretch of a period on one plan, paused or not. A plan change, a pause and
// a resume close the open phase and open the next; a cancel now ends the period; a cancel at
// period end ends the subscription when the period closes. Closing a period hands its phases
// to the invoice (invoice.hpp) and opens the next period on the same plan.
// Times are unix seconds, floored to the minute (usage is kept per minute).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::billing {

enum class SubState { kTrialing, kActive, kPaused, kPastDue, kCanceled };
std::string_view SubStateName(SubState s);

struct Phase {
    std::string plan;
    int64_t from = 0, to = 0;  // to == 0: open
    bool paused = false;
};

struct Subscription {
    std::string plan;
    SubState state = SubState::kActive;
    int64_t started_at = 0, trial_end = 0;  // trial_end 0: no trial
    int64_t period_start = 0, period_end = 0;
    bool cancel_at_period_end = false;
    int64_t canceled_at = 0;     // when it ended (or ends, at period end)
    int64_t past_due_since = 0;  // a payment failed; 0: none outstanding
    bool suspended = false;      // its tenant's instances were suspended for non-payment
    bool ended = false;          // canceled and its last period invoiced
    std::vector<Phase> phases;   // the current period's; the last one open
};

// The first second of t's UTC calendar month, and of the next.
int64_t MonthStart(int64_t t);
int64_t NextMonthStart(int64_t t);
int64_t FloorMinute(int64_t t);

Subscription StartSubscription(std::string plan, int64_t at, int trial_days);
// Each refuses a change the subscription's state does not allow (kConflict), naming
// why. `at` must lie in the current period.
core::Result<void> ChangePlan(Subscription& s, const std::string& plan, int64_t at);
core::Result<void> Cancel(Subscription& s, int64_t at, bool at_period_end);
core::Result<void> Pause(Subscription& s, int64_t at);
core::Result<void> Resume(Subscription& s, int64_t at);

struct ClosedPeriod {
    int64_t start = 0, end = 0;
    std::vector<Phase> phases;  // all closed
    bool last = false;          // the subscription ended with it
};
// Closes the current period if it ended by `now` and opens the next one (unless the
// subscription ended); also moves a trial that is over to active. Call until it answers
// nullopt to catch up.
std::optional<ClosedPeriod> CloseDue(Subscription& s, int64_t now);
// The current period as if it closed at `at` (an upcoming invoice; a preview).
ClosedPeriod PeriodSoFar(const Subscription& s, int64_t at);

// Status JSON of a Subscription object (RFC 3339 times) and back.
boost::json::object SubscriptionToStatus(const Subscription& s);
core::Result<Subscription> SubscriptionFromStatus(const boost::json::object& status);

}  // namespace hangar::billing
