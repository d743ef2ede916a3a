#include "hangar/fleet/instance_logs.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "server_process.hpp"

namespace hangar::fleet {
namespace {

TEST(InstanceLogs, TailOffsetRotationAndMissingFiles) {
    testing::TempDir dir;
    std::string path = dir.path() + "/stdout.log";
    std::ofstream(path) << "one\ntwo\nthree\n";
    EXPECT_EQ(ReadInstanceLog(path, std::nullopt, 2).text, "two\nthree\n");
    EXPECT_EQ(ReadInstanceLog(path, std::nullopt, 10).text, "one\ntwo\nthree\n");
    LogChunk all = ReadInstanceLog(path, std::nullopt, 100);
    EXPECT_EQ(all.size, 14);

    std::ofstream(path, std::ios::app) << "four\n";
    LogChunk more = ReadInstanceLog(path, all.size, 100);
    EXPECT_EQ(more.text, "four\n") << "what was appended since the offset";
    EXPECT_EQ(more.size, 19);

    std::ofstream(path, std::ios::trunc) << "new\n";
    EXPECT_EQ(ReadInstanceLog(path, more.size, 100).text, "new\n") << "rotated: from the start";

    LogChunk none = ReadInstanceLog(dir.path() + "/missing.log", std::nullopt, 10);
    EXPECT_EQ(none.text, "");
    EXPECT_EQ(none.size, 0);
}

}  // namespace
}  // namespace hangar::fleet
