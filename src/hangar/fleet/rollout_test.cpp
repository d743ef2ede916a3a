#include "hangar/fleet/rollout.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace hangar::fleet {
namespace {

namespace json = boost::json;

RolloutSpec Spec(const std::string& extra = "") {
    auto s = RolloutSpec::Parse(
        json::parse(R"({"product":"chat","target_version":"2.0")" + extra + "}").as_object()
    );
    EXPECT_TRUE(s) << s.error().message;
    return *s;
}

store::Object Instance(std::string name, std::string version, std::string channel = "") {
    store::Object o;
    o.id = "ins_" + name;
    o.name = std::move(name);
    o.tenant = "ten_a";
    o.spec = {{"product", "chat"}, {"version", std::move(version)}};
    if (!channel.empty()) {
        o.spec["release_channel"] = std::move(channel);
    }
    return o;
}

TEST(Rollout, SpecParsesStrictlyWithDefaultsAndRoundTrips) {
    RolloutSpec s = Spec();
    EXPECT_EQ(s.waves, (std::vector<int64_t>{10, 40, 100}));
    EXPECT_EQ(s.max_unavailable, 1);
    EXPECT_EQ(s.health_gate_seconds, 10);
    auto again = RolloutSpec::Parse(s.ToJson());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->ToJson(), s.ToJson());
    auto bad = RolloutSpec::Parse(
        json::parse(R"({"product":"chat","target_version":"2.0","waves":[50,40]})").as_object()
    );
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "spec.waves[1]: must be increasing percentages up to 100");
    EXPECT_FALSE(RolloutSpec::Parse(json::parse(R"({"product":"chat"})").as_object()));
}

TEST(Rollout, SelectsTheProductsInstancesNotYetOnTheTarget) {
    RolloutSpec s = Spec(R"(,"from_version":"1.0","selector":"tier=gold")");
    store::Object gold = Instance("a", "1.0");
    gold.labels = {{"tier", "gold"}};
    EXPECT_TRUE(Selects(s, gold));
    store::Object silver = gold;
    silver.labels = {{"tier", "silver"}};
    EXPECT_FALSE(Selects(s, silver)) << "selector";
    store::Object other = gold;
    other.spec["product"] = "wiki";
    EXPECT_FALSE(Selects(s, other)) << "another product";
    store::Object there = gold;
    there.spec["version"] = "2.0";
    EXPECT_FALSE(Selects(s, there)) << "already on the target";
    store::Object older = gold;
    older.spec["version"] = "0.9";
    EXPECT_FALSE(Selects(s, older)) << "not from_version";
    store::Object going = gold;
    going.deletion_requested_at = "2026-12-03T00:00:00Z";
    EXPECT_FALSE(Selects(s, going)) << "being deleted";
}

// Canary first, then 10%, 40%, 100% of the rest (rounded up, each wave non-empty).
TEST(Rollout, PlansTheCanaryWaveThenCumulativePercentages) {
    std::vector<store::Object> fleet = {
        Instance("c1", "1.0", "canary"), Instance("i1", "1.0", "internal")};
    for (int i = 0; i < 10; ++i) {
        fleet.push_back(Instance("s" + std::to_string(i), "1.0"));
    }
    auto targets = PlanWaves(Spec(), fleet);
    ASSERT_EQ(targets.size(), 12u);
    std::vector<int64_t> per_wave(4);
    for (const auto& t : targets) {
        per_wave.at(static_cast<size_t>(t.wave))++;
        EXPECT_EQ(t.state, TargetState::kPending);
        EXPECT_EQ(t.from, "1.0");
    }
    EXPECT_EQ(per_wave, (std::vector<int64_t>{2, 1, 3, 6}));
    EXPECT_EQ(targets[0].name, "c1");

    // No canaries and two instances: 10% and 40% round up to the same one, so two waves.
    auto small = PlanWaves(Spec(), {Instance("a", "1.0"), Instance("b", "1.0")});
    ASSERT_EQ(small.size(), 2u);
    EXPECT_EQ(small[0].wave, 0);
    EXPECT_EQ(small[1].wave, 1);
}

TEST(Rollout, TheGatePassesAfterHealthyForItsTimeAndFailsOnTimeoutOrFailure) {
    RolloutSpec s = Spec(R"(,"health_gate_seconds":10,"gate_timeout_seconds":60)");
    core::TimePoint t0 = *core::ParseRfc3339("2026-12-03T10:00:00Z");
    RolloutTarget t{
        "ins_a", "a", "ten_a", "1.0", 0, TargetState::kUpgrading, "2026-12-03T10:00:00Z", ""};
    InstanceHealth healthy{true, true, false, ""};
    InstanceHealth starting{true, false, false, ""};

    EXPECT_EQ(
        JudgeGate(s, t, starting, t0 + std::chrono::seconds(5)).verdict, GateVerdict::kWaiting
    );
    EXPECT_EQ(
        JudgeGate(s, t, healthy, t0 + std::chrono::seconds(20)).verdict, GateVerdict::kWaiting
    );
    EXPECT_EQ(t.healthy_since, "2026-12-03T10:00:20.000Z");
    EXPECT_EQ(
        JudgeGate(s, t, healthy, t0 + std::chrono::seconds(29)).verdict, GateVerdict::kWaiting
    );
    // A blip resets the clock.
    EXPECT_EQ(
        JudgeGate(s, t, starting, t0 + std::chrono::seconds(30)).verdict, GateVerdict::kWaiting
    );
    EXPECT_EQ(t.healthy_since, "");
    EXPECT_EQ(
        JudgeGate(s, t, healthy, t0 + std::chrono::seconds(31)).verdict, GateVerdict::kWaiting
    );
    EXPECT_EQ(
        JudgeGate(s, t, healthy, t0 + std::chrono::seconds(41)).verdict, GateVerdict::kPassed
    );

    RolloutTarget slow = t;
    slow.healthy_since.clear();
    Gate late = JudgeGate(s, slow, starting, t0 + std::chrono::seconds(61));
    EXPECT_EQ(late.verdict, GateVerdict::kFailed);
    EXPECT_EQ(late.why, "it was not healthy within 60 s");

    RolloutTarget crashed = t;
    Gate failed = JudgeGate(
        s, crashed, InstanceHealth{true, false, true, "exit 3"}, t0 + std::chrono::seconds(1)
    );
    EXPECT_EQ(failed.verdict, GateVerdict::kFailed);
    EXPECT_EQ(failed.why, "it failed (exit 3)");
}

TEST(Rollout, TheCurrentWaveIsTheLowestWithWorkLeft) {
    std::vector<RolloutTarget> targets(3);
    targets[0].wave = 0;
    targets[0].state = TargetState::kDone;
    targets[1].wave = 1;
    targets[1].state = TargetState::kUpgrading;
    targets[2].wave = 2;
    EXPECT_EQ(CurrentWave(targets), 1);
    targets[1].state = TargetState::kGone;
    EXPECT_EQ(CurrentWave(targets), 2);
    targets[2].state = TargetState::kDone;
    EXPECT_EQ(CurrentWave(targets), std::nullopt);
}

TEST(Rollout, StatusRoundTripsAndKeepsTheNewestFiftyEvents) {
    RolloutStatus s;
    s.phase = RolloutPhase::kProgressing;
    s.planned = true;
    s.targets.push_back({"ins_a", "a", "ten_a", "1.0", 1, TargetState::kRolledBack, "x", ""});
    s.current_wave = 1;
    for (int i = 0; i < 60; ++i) {
        s.AddEvent("t", "e" + std::to_string(i));
    }
    json::object j = s.ToJson();
    EXPECT_EQ(j.at("phase"), "Progressing");
    EXPECT_EQ(j.at("targets").at(0).at("state"), "rolled_back");
    RolloutStatus back = RolloutStatus::FromJson(j);
    EXPECT_EQ(back.events.size(), 50u);
    EXPECT_EQ(back.events.front().message, "e10");
    EXPECT_EQ(back.ToJson(), j);
    EXPECT_TRUE(IsFinal(ParseRolloutPhase("Halted")));
    EXPECT_FALSE(IsFinal(ParseRolloutPhase("Paused")));
    EXPECT_EQ(ParseRolloutPhase("nonsense"), RolloutPhase::kPending);
}

}  // namespace
}  // namespace hangar::fleet
