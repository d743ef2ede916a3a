#pragma once
// A Silence's status as users watch it (pending, active, expired), written by a reconcile loop
// at the moment it changes: a silence's start and end are in its spec, so the loop asks to be
// called again then, where the dispatcher used to re-read every silence each second. (The
// dispatcher still decides muting from the same times; this only keeps the status true.)

#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/reconcile/controller.hpp"
#include "hangar/store/store.hpp"

namespace hangar::alerting {

enum class SilenceState { kPending, kActive, kExpired };
std::string_view SilenceStateName(SilenceState s);

struct SilenceTimes {
    core::TimePoint start, end;
};
// A silence's start (starts_at, else when it was created) and end (ends_at); a time missing or
// unreadable is `now`.
SilenceTimes TimesOf(const store::Object& silence, core::TimePoint now);

struct SilenceAt {
    SilenceState state = SilenceState::kPending;
    std::optional<core::TimePoint> next_change;  // nullopt once expired
};
SilenceAt SilenceStateAt(const SilenceTimes& t, core::TimePoint now);

class SilenceStatusWriter {
public:
    SilenceStatusWriter(store::Store& store, const core::Clock& clock)
        : store_(store), clock_(clock) {}
    // Writes status.state and status.changed_at when they differ from what the times say now;
    // asks to run again when the state next changes.
    core::Result<reconcile::Outcome> Reconcile(const std::string& id);

private:
    store::Store& store_;
    const core::Clock& clock_;
};

}  // namespace hangar::alerting
