#include "hangar/metrics/chunk.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace hangar::metrics {
namespace {

std::vector<Sample> RoundTrip(const std::vector<Sample>& in) {
    ChunkWriter w;
    for (const auto& s : in) {
        w.Append(s.t, s.v);
    }
    std::vector<Sample> out;
    ChunkIterator it(w.bytes());
    while (it.Next()) {
        out.push_back({it.t(), it.v()});
    }
    EXPECT_FALSE(it.error());
    return out;
}

void ExpectSameBits(const std::vector<Sample>& a, const std::vector<Sample>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].t, b[i].t) << i;
        EXPECT_EQ(std::bit_cast<uint64_t>(a[i].v), std::bit_cast<uint64_t>(b[i].v)) << i;
    }
}

TEST(ChunkTest, RoundTripsRegularCounterExactlyInAboutOneAndAHalfBytesPerSample) {
    std::vector<Sample> in;
    for (int i = 0; i < 120; ++i) {
        in.push_back({1'700'000'000'000 + i * 15'000, 1000.0 + i * 3});
    }
    ChunkWriter w;
    for (const auto& s : in) {
        w.Append(s.t, s.v);
    }
    ExpectSameBits(RoundTrip(in), in);
    EXPECT_LT(w.bytes().size(), 120u * 3) << "delta-of-delta 0 is one bit; the value XOR a few";
}

TEST(ChunkTest, RoundTripsEveryTimestampBucketAndSpecialValue) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<Sample> in = {
        {-5, 0.0},  // times before the epoch
        {0, -0.0},
        {1, nan},
        {3, inf},
        {10'000, -inf},             // dod in 14 bits
        {80'000, 1e-300},           // 17 bits
        {700'000, 1e300},           // 20 bits
        {5'000'000'000'000, 42.5},  // 64 bits
        {5'000'000'000'001, 42.5},  // huge negative dod
        {5'000'000'000'002, 42.25},
        {5'000'000'000'003, std::numeric_limits<double>::denorm_min()},
        {5'000'000'000'004, std::numeric_limits<double>::max()},
    };
    ExpectSameBits(RoundTrip(in), in);
}

TEST(ChunkTest, RoundTripsRandomData) {
    std::mt19937_64 rng(7);
    std::vector<Sample> in;
    int64_t t = 1'000'000;
    for (int i = 0; i < 120; ++i) {
        t += static_cast<int64_t>(rng() % 100'000);
        double v = (rng() % 3 == 0) ? static_cast<double>(rng() % 1000)
                                    : std::bit_cast<double>(rng() & ~(0x7ffull << 52));
        in.push_back({t, v});
    }
    ExpectSameBits(RoundTrip(in), in);
}

TEST(ChunkTest, MalformedBytesStopTheIteratorWithAnError) {
    ChunkWriter w;
    for (int i = 0; i < 10; ++i) {
        w.Append(i * 1000, i * 1.5);
    }
    std::string cut = w.bytes().substr(0, w.bytes().size() / 2);
    ChunkIterator it(cut);
    int n = 0;
    while (it.Next()) {
        ++n;
    }
    EXPECT_LT(n, 10);
    EXPECT_TRUE(it.error());
    ChunkIterator empty("");
    EXPECT_FALSE(empty.Next());
}

}  // namespace
}  // namespace hangar::metrics
