#include "hangar/alerting/silence_status.hpp"

#include "hangar/core/json.hpp"

namespace hangar::alerting {

std::string_view SilenceStateName(SilenceState s) {
    switch (s) {
        case SilenceState::kPending:
            return "pending";
        case SilenceState::kActive:
            return "active";
        case SilenceState::kExpired:
            return "expired";
    }
    return "pending";
}

SilenceTimes TimesOf(const store::Object& silence, core::TimePoint now) {
    auto start = core::ParseRfc3339(core::StrAt(silence.spec, "starts_at"));
    auto end = core::ParseRfc3339(core::StrAt(silence.spec, "ends_at"));
    return SilenceTimes{
        .start = start.value_or(core::ParseRfc3339(silence.created_at).value_or(now)),
        .end = end.value_or(now)};
}

SilenceAt SilenceStateAt(const SilenceTimes& t, core::TimePoint now) {
    if (now < t.start) {
        return SilenceAt{.state = SilenceState::kPending, .next_change = t.start};
    }
    if (now < t.end) {
        return SilenceAt{.state = SilenceState::kActive, .next_change = t.end};
    }
    return SilenceAt{.state = SilenceState::kExpired, .next_change = std::nullopt};
}

core::Result<reconcile::Outcome> SilenceStatusWriter::Reconcile(const std::string& id) {
    auto silence = store_.Get(id);
    if (!silence || silence->kind != "Silence") {
        return reconcile::Outcome{};  // deleted: nothing to keep
    }
    auto now = clock_.Now();
    SilenceAt at = SilenceStateAt(TimesOf(*silence, now), now);
    reconcile::Outcome out;
    if (at.next_change) {
        // A millisecond past the change, so that the next run sees the new state.
        out.requeue_after = std::chrono::ceil<std::chrono::milliseconds>(*at.next_change - now) +
                            std::chrono::milliseconds(1);
    }
    std::string state(SilenceStateName(at.state));
    if (core::StrAt(silence->status, "state") == state) {
        return out;
    }
    std::string t = core::FormatRfc3339(now);
    auto updated = store_.Update(
        id,
        silence->revision,
        t,
        [&](store::Object& o) -> core::Result<void> {
            o.status["state"] = state;
            o.status["changed_at"] = t;
            return {};
        },
        store::SystemAudit(t, "controller:silences", silence->tenant, id)
    );
    if (!updated) {
        return core::Fail(updated.error());  // changed meanwhile: the retry reads it again
    }
    out.wrote_revision = updated->revision;
    return out;
}

}  // namespace hangar::alerting
