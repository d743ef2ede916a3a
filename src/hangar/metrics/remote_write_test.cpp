#include "hangar/metrics/remote_write.hpp"

#include <gtest/gtest.h>
#include <snappy.h>

namespace hangar::metrics {
namespace {

using namespace std::literals;

TEST(RemoteWriteTest, EncodeDecodeRoundTrip) {
    std::vector<SeriesData> in = {
        {{{"__name__", "up"}, {"job", "a"}}, {{1000, 1}, {2000, 0}}},
        {{{"__name__", "x"}}, {{-5, -1.5}}},
    };
    std::string body = EncodeWriteRequest(in);
    std::string raw;
    WriteBatch b;
    ASSERT_TRUE(DecodeWriteRequest(body, raw, b));
    ASSERT_EQ(b.series.size(), 2u);
    EXPECT_EQ(b.series[0].label_count, 2u);
    EXPECT_EQ(b.labels[1].name, "job");
    EXPECT_EQ(b.labels[1].value, "a");
    EXPECT_EQ(b.samples[1].t, 2000);
    EXPECT_EQ(b.samples[2].t, -5) << "negative int64 timestamps are ten-byte varints";
    EXPECT_EQ(b.samples[2].v, -1.5);
}

TEST(RemoteWriteTest, UnknownFieldsAreSkipped) {
    // timeseries { labels {name:"__name__" value:"m"} samples {value:1 timestamp:7}
    //              exemplars(3) {...} } metadata(3) {...}
    std::string proto;
    auto put = [&](std::string& out, uint32_t field, uint8_t wire, std::string_view bytes) {
        out.push_back(static_cast<char>((field << 3) | wire));
        out.push_back(static_cast<char>(bytes.size()));
        out.append(bytes);
    };
    std::string label, sample, ts, meta;
    put(label, 1, 2, "__name__");
    put(label, 2, 2, "m");
    sample += '\x09';
    double one = 1;
    sample.append(reinterpret_cast<const char*>(&one), 8);
    sample += "\x10\x07";
    sample += "\x1d\x00\x00\x00\x00"sv;  // an unknown fixed32 field 3
    put(ts, 1, 2, label);
    put(ts, 2, 2, sample);
    put(ts, 3, 2, "\x0a\x00"sv);
    put(proto, 1, 2, ts);
    put(meta, 2, 2, "m");
    put(proto, 3, 2, meta);
    WriteBatch b;
    auto r = DecodeWriteRequestProto(proto, b);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(b.samples.size(), 1u);
    EXPECT_EQ(b.samples[0].t, 7);
    EXPECT_EQ(b.samples[0].v, 1);
}

TEST(RemoteWriteTest, MalformedBodiesGiveClearErrors) {
    std::string raw;
    WriteBatch b;
    EXPECT_EQ(
        DecodeWriteRequest("not snappy at all, honestly", raw, b).error().message,
        "the body is not valid snappy data"
    );
    std::string truncated;
    std::string proto = "\x0a\x10\x0a\x05";  // length says 16, only 2 bytes follow
    snappy::Compress(proto.data(), proto.size(), &truncated);
    EXPECT_EQ(
        DecodeWriteRequest(truncated, raw, b).error().message,
        "the body is not a valid protobuf WriteRequest"
    );
    std::string nolabels;
    std::string p2(2, '\0');
    p2[0] = '\x0a';
    snappy::Compress(p2.data(), p2.size(), &nolabels);
    EXPECT_EQ(DecodeWriteRequest(nolabels, raw, b).error().message, "timeseries 0 has no labels");
}

}  // namespace
}  // namespace hangar::metrics
