#include "hangar/fleet/instance_state.hpp"

#include <gtest/gtest.h>

namespace hangar::fleet {
namespace {

Observed Seen(Observed::State state, std::string message = "") {
    Observed o;
    o.state = state;
    o.message = std::move(message);
    return o;
}

// What each observation means: the phase, the Ready condition, and whether to look again soon.
TEST(InstanceState, EachObservationDecidesAPhaseAndTheReadyCondition) {
    struct Case {
        core::Result<Observed> seen;
        InstancePhase phase;
        bool ready;
        std::string reason;
        bool poll;
    };
    for (const auto& c : std::vector<Case>{
             {Seen(Observed::State::kRunning), InstancePhase::kRunning, true, "Running", false},
             {Seen(Observed::State::kStopped),
              InstancePhase::kSuspended,
              false,
              "Suspended",
              false},
             {Seen(Observed::State::kStarting),
              InstancePhase::kProvisioning,
              false,
              "Starting",
              true},
             {Seen(Observed::State::kAbsent),
              InstancePhase::kProvisioning,
              false,
              "Starting",
              true},
             {Seen(Observed::State::kFailed, "exit 1"),
              InstancePhase::kFailed,
              false,
              "Exited",
              false},
             {core::Fail(core::ErrorCode::kUnavailable, "fork failed"),
              InstancePhase::kFailed,
              false,
              "ProvisionerError",
              false},
         }) {
        PhaseDecision d = DecidePhase(c.seen);
        EXPECT_EQ(d.phase, c.phase) << c.reason;
        EXPECT_EQ(d.ready, c.ready) << c.reason;
        EXPECT_EQ(d.reason, c.reason);
        EXPECT_EQ(d.poll, c.poll) << c.reason;
    }
    EXPECT_EQ(DecidePhase(Seen(Observed::State::kFailed, "exit 1")).message, "exit 1");
    EXPECT_EQ(
        DecidePhase(core::Fail(core::ErrorCode::kUnavailable, "fork failed")).message, "fork failed"
    );
}

TEST(InstanceState, PhaseNamesRoundTrip) {
    for (auto p :
         {InstancePhase::kPending,
          InstancePhase::kProvisioning,
          InstancePhase::kRunning,
          InstancePhase::kSuspended,
          InstancePhase::kFailed,
          InstancePhase::kDeleting}) {
        EXPECT_EQ(ParseInstancePhase(PhaseName(p)), p);
    }
    EXPECT_EQ(ParseInstancePhase(""), InstancePhase::kPending);
}

TEST(InstanceState, ConditionStatusReadsOneConditionByType) {
    boost::json::object status{
        {"conditions",
         boost::json::array{
             boost::json::object{{"type", "Ready"}, {"status", "True"}},
             boost::json::object{{"type", "BackedUp"}, {"status", "False"}}}}};
    EXPECT_EQ(ConditionStatus(status, "Ready"), "True");
    EXPECT_EQ(ConditionStatus(status, "BackedUp"), "False");
    EXPECT_EQ(ConditionStatus(status, "CrashLoop"), std::nullopt);
    EXPECT_EQ(ConditionStatus(boost::json::object{}, "Ready"), std::nullopt);
}

// Healthy after 2 passes in a row, unhealthy after 3 failures in a row, unknown before either.
TEST(InstanceState, HealthFollowsConsecutiveResultsAgainstTheThresholds) {
    HealthTracker h;
    EXPECT_EQ(h.Record(true, 2, 3), std::nullopt);
    EXPECT_EQ(h.Record(true, 2, 3), true);
    EXPECT_EQ(h.Record(false, 2, 3), true) << "one failure is not enough";
    EXPECT_EQ(h.Record(false, 2, 3), true);
    EXPECT_EQ(h.Record(true, 2, 3), true) << "a pass resets the failures";
    EXPECT_EQ(h.Record(false, 2, 3), true);
    EXPECT_EQ(h.Record(false, 2, 3), true);
    EXPECT_EQ(h.Record(false, 2, 3), false);
    EXPECT_EQ(h.Record(true, 2, 3), false) << "one pass is not enough to come back";
    EXPECT_EQ(h.Record(true, 2, 3), true);
}

}  // namespace
}  // namespace hangar::fleet
