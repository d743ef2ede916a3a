// The registry's exposition holds each metric name once, however many servers register it.

#include "hangar/core/metrics.hpp"

#include <gtest/gtest.h>

namespace hangar::core {
namespace {

TEST(MetricsRegistryTest, ANameRegisteredTwiceIsOneFamily) {
    MetricsRegistry r;
    CounterFamily& a = r.Counter("x_total", "Xs.", {"route"});
    CounterFamily& b = r.Counter("x_total", "Xs.", {"route"});
    EXPECT_EQ(&a, &b);
    a.Inc({"/a"});
    b.Inc({"/b"});
    std::string out = r.Render();
    size_t first = out.find("# TYPE x_total");
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(out.find("# TYPE x_total", first + 1), std::string::npos) << out;
    EXPECT_NE(out.find(R"(x_total{route="/a"} 1)"), std::string::npos) << out;
    EXPECT_NE(out.find(R"(x_total{route="/b"} 1)"), std::string::npos) << out;
}

}  // namespace
}  // namespace hangar::core
