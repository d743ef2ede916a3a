#pragma once
// A Rollout's spec and status as types, and the decisions its controller makes, as pure
// functions of them (no store, no clock): which instances it takes and in which wave, whether an
// instance in flight passed its health gate, which wave runs now. The controller
// (rollout_controller.cpp) reads, calls these, and writes.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/types.hpp"

namespace hangar::fleet {

struct RolloutSpec {
    std::string product, target_version, from_version, release_channel, selector;
    std::vector<int64_t> waves;  // cumulative percentages of the non-canary instances, last 100
    int64_t max_unavailable = 1;
    int64_t health_gate_seconds = 10;
    int64_t gate_timeout_seconds = 120;
    bool paused = false;
    bool aborted = false;

    // Strict: an unknown field or a bad value is an error naming the field; defaults filled.
    static core::Result<RolloutSpec> Parse(const boost::json::object& spec);
    boost::json::object ToJson() const;
};

enum class RolloutPhase { kPending, kProgressing, kPaused, kHalted, kCompleted, kAborted };
std::string_view PhaseName(RolloutPhase p);
// A status written by Hangar; anything unknown reads as kPending.
RolloutPhase ParseRolloutPhase(std::string_view s);
// Halted, Completed and Aborted rollouts never move again.
bool IsFinal(RolloutPhase p);

enum class TargetState { kPending, kUpgrading, kDone, kRolledBack, kGone };

struct RolloutTarget {
    std::string id, name, tenant;
    std::string from;  // the version it had, to roll back to
    int64_t wave = 0;
    TargetState state = TargetState::kPending;
    std::string since;          // RFC 3339: when it started upgrading
    std::string healthy_since;  // RFC 3339: since when it has looked healthy ("" : not)
};

struct RolloutEvent {
    std::string time, message;
};

struct RolloutStatus {
    RolloutPhase phase = RolloutPhase::kPending;
    bool planned = false;  // targets chosen (once, at the start)
    std::vector<RolloutTarget> targets;
    int64_t total = 0;
    int64_t upgraded = 0;
    std::optional<int64_t> current_wave;
    std::string message;
    std::vector<RolloutEvent> events;  // the newest 50
    int64_t observed_generation = 0;

    // Lenient: the status is Hangar's own writing.
    static RolloutStatus FromJson(const boost::json::object& status);
    boost::json::object ToJson() const;
    void AddEvent(std::string time, std::string message);
};

// Does the rollout take this instance (its product, not yet on the target, matching the
// from_version, release channel and selector, and not being deleted)?
bool Selects(const RolloutSpec& spec, const store::Object& instance);

// The instances in waves: the canary wave (internal and canary release channels) first, then
// cumulative percentages of the rest, in the order given.
std::vector<RolloutTarget>
PlanWaves(const RolloutSpec& spec, const std::vector<store::Object>& instances);

// What the gate says of an instance in flight.
struct InstanceHealth {
    bool on_target = false;  // spec and status both on the target version
    bool running_and_ready = false;
    bool failed = false;  // phase Failed
    std::string last_exit;
};
enum class GateVerdict { kWaiting, kPassed, kFailed };
struct Gate {
    GateVerdict verdict = GateVerdict::kWaiting;
    std::string why;  // kFailed: what failed
};
// Passed once healthy for health_gate_seconds; failed when the instance failed or was not
// healthy within gate_timeout_seconds of starting. Updates the target's healthy_since.
Gate JudgeGate(
    const RolloutSpec& spec,
    RolloutTarget& target,
    const InstanceHealth& health,
    core::TimePoint now
);

// The lowest wave with work left (pending or upgrading), or nullopt when every target is done.
std::optional<int64_t> CurrentWave(const std::vector<RolloutTarget>& targets);

}  // namespace hangar::fleet
