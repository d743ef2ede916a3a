#include "hangar/metrics/tsdb.hpp"

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "hangar/metrics/wal.hpp"

namespace hangar::metrics {
namespace {

namespace fs = std::filesystem;

class TsdbTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hangar-tsdb-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        Reopen();
    }
    void TearDown() override {
        db_.reset();
        fs::remove_all(dir_);
    }
    void Reopen(TsdbOptions o = {}) {
        db_.reset();
        o.dir = dir_;
        auto db = Tsdb::Open(o);
        ASSERT_TRUE(db) << db.error().message;
        db_ = std::move(*db);
    }
    AppendResult
    Put(std::string_view tenant, std::vector<LabelView> labels, std::vector<Sample> samples) {
        WriteBatch b;
        b.Add(labels, samples);
        auto r = db_->Append(tenant, b);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : AppendResult{};
    }
    std::vector<SeriesData>
    All(std::string_view tenant, std::string_view name, int64_t mint = 0, int64_t maxt = INT64_MAX
    ) {
        std::vector<Matcher> m = {*Matcher::Make(MatchOp::kEqual, "__name__", std::string(name))};
        return db_->Select(tenant, m, mint, maxt);
    }
    std::string dir_;
    std::unique_ptr<Tsdb> db_;
};

constexpr int64_t kT0 = 1'700'000'000'000;

TEST_F(TsdbTest, SamplesRoundTripExactlyAndTenantsAreSeparate) {
    std::vector<Sample> in;
    for (int i = 0; i < 500; ++i) {
        in.push_back({kT0 + i * 15'000, i * 0.1 + (i % 7 == 0 ? 1e9 : 0)});
    }
    auto r = Put("acme", {{"__name__", "req_total"}, {"job", "api"}}, in);
    EXPECT_EQ(r.samples, 500u);
    EXPECT_EQ(r.series_created, 1u);
    Put("globex", {{"__name__", "req_total"}, {"job", "other"}}, {{kT0, 1}});

    auto got = All("acme", "req_total");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].labels, (Labels{{"__name__", "req_total"}, {"job", "api"}}));
    ASSERT_EQ(got[0].samples.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(got[0].samples[i].t, in[i].t);
        EXPECT_EQ(std::bit_cast<uint64_t>(got[0].samples[i].v), std::bit_cast<uint64_t>(in[i].v));
    }
    EXPECT_EQ(All("globex", "req_total")[0].labels[1].value, "other");
    EXPECT_TRUE(All("initech", "req_total").empty());
    auto part = All("acme", "req_total", kT0 + 15'000, kT0 + 45'000);
    ASSERT_EQ(part.size(), 1u);
    EXPECT_EQ(part[0].samples.size(), 3u) << "the range is inclusive at both ends";
}

TEST_F(TsdbTest, RefusedSamplesAreCountedAndTheRestOfTheBatchLands) {
    Put("acme", {{"__name__", "g"}}, {{kT0, 1}, {kT0 + 10, 2}});
    WriteBatch b;
    std::vector<LabelView> l = {{"__name__", "g"}};
    std::vector<LabelView> bad = {{"__name__", "g"}, {"bad-name", "x"}};
    std::vector<Sample> s = {{kT0 + 5, 9}, {kT0 + 10, 2}, {kT0 + 10, 3}, {kT0 + 20, 4}};
    std::vector<Sample> one = {{kT0, 1}};
    b.Add(l, s);
    b.Add(bad, one);
    auto r = db_->Append("acme", b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->samples, 1u);
    EXPECT_EQ(r->out_of_order, 1u);
    EXPECT_EQ(
        r->duplicates, 1u
    ) << "same time, other value; the same value again is accepted silently";
    EXPECT_EQ(r->invalid, 1u);
    EXPECT_NE(
        r->first_error.find("out-of-order sample for g{} at 1700000000005 ms"), std::string::npos
    ) << r->first_error;
    auto got = All("acme", "g");
    ASSERT_EQ(got[0].samples.size(), 3u);
    EXPECT_EQ(got[0].samples[2].v, 4);
}

TEST_F(TsdbTest, ReopeningReplaysTheWalWithNothingLost) {
    for (int i = 0; i < 300; ++i) {
        Put("acme", {{"__name__", "c"}, {"i", std::to_string(i % 3)}}, {{kT0 + i * 1000, i * 1.5}});
    }
    Reopen();
    int total = 0;
    for (const auto& s : All("acme", "c")) {
        total += static_cast<int>(s.samples.size());
        for (const auto& smp : s.samples) {
            EXPECT_EQ(smp.v, (smp.t - kT0) / 1000 * 1.5);
        }
    }
    EXPECT_EQ(total, 300);
    Put("acme", {{"__name__", "c"}, {"i", "0"}}, {{kT0 + 400'000, 7}});
    Reopen();
    EXPECT_EQ(All("acme", "c", kT0 + 400'000).at(0).samples.at(0).v, 7)
        << "appends after a replay replay too";
}

TEST_F(TsdbTest, ATornWalTailIsCutAndEverythingBeforeItKept) {
    Put("acme", {{"__name__", "c"}}, {{kT0, 1}});
    Put("acme", {{"__name__", "c"}}, {{kT0 + 1, 2}});
    db_.reset();
    auto segs = ListSegments(dir_ + "/wal");
    ASSERT_FALSE(segs.empty());
    {
        std::ofstream f(
            dir_ + "/wal/" + fmt::format("{:08d}", segs.back()), std::ios::app | std::ios::binary
        );
        f << "\x20\x00\x00\x00garbage";
    }
    Reopen();
    ASSERT_EQ(All("acme", "c").at(0).samples.size(), 2u);
}

TEST_F(TsdbTest, CuttingTheHeadWritesACompressedBlockThatQueriesAndReopensSeamlessly) {
    // 100 series × 2 h at 15 s: a regular counter with small increments.
    for (int i = 0; i < 480; ++i) {
        WriteBatch b;
        std::vector<std::string> ids(100);
        std::vector<std::vector<LabelView>> labels(100);
        std::vector<Sample> s(100);
        for (int k = 0; k < 100; ++k) {
            ids[k] = std::to_string(k);
            labels[k] = {{"__name__", "http_requests_total"}, {"instance", ids[k]}};
            s[k] = {kT0 + i * 15'000, static_cast<double>(i * (k % 5 + 1))};
            b.Add(labels[k], std::span<const Sample>(&s[k], 1));
        }
        ASSERT_EQ(db_->Append("acme", b)->samples, 100u);
    }
    auto before = db_->Stats();
    ASSERT_TRUE(db_->CutHead(kT0 + 3600'000));
    auto after = db_->Stats();
    EXPECT_EQ(after.blocks, 1u);
    EXPECT_EQ(after.block_samples, 100u * 240);
    EXPECT_EQ(after.head_samples, 100u * 240);
    EXPECT_LT(after.wal_bytes, before.wal_bytes) << "the checkpoint holds only the head";
    double bytes_per_sample =
        static_cast<double>(after.block_bytes) / static_cast<double>(after.block_samples);
    EXPECT_LT(bytes_per_sample, 2.0) << "Gorilla chunks";
    std::printf("block: %.2f bytes per sample (raw: 16)\n", bytes_per_sample);

    auto check = [&] {
        auto got = All("acme", "http_requests_total");
        ASSERT_EQ(got.size(), 100u);
        for (const auto& s : got) {
            ASSERT_EQ(s.samples.size(), 480u) << FormatLabels(s.labels);
            int k = std::stoi(std::string(Get(s.labels, "instance")));
            for (int i = 0; i < 480; ++i) {
                ASSERT_EQ(s.samples[i].t, kT0 + i * 15'000);
                ASSERT_EQ(s.samples[i].v, i * (k % 5 + 1));
            }
        }
    };
    check();
    Reopen();
    check();
    EXPECT_EQ(db_->Stats().blocks, 1u);
    auto r = Put("acme", {{"__name__", "http_requests_total"}, {"instance", "1"}}, {{kT0, 0}});
    EXPECT_EQ(r.too_old, 1u) << "what a block holds cannot be appended to again";
}

TEST_F(TsdbTest, TheHeadIsCutWhenItSpansOneAndAHalfRangesAndRetentionDropsOldBlocks) {
    TsdbOptions o;
    o.block_range_ms = 10 * kMinute;
    o.retention_ms = 30 * kMinute;
    o.rollup_retention_ms = 30 * kMinute;  // rollups would otherwise keep the old series
    Reopen(o);
    for (int i = 0; i < 60; ++i) {  // one hour, a sample a minute
        Put("acme", {{"__name__", "g"}, {"old", i < 20 ? "yes" : "no"}}, {{i * kMinute, 1.0 * i}});
        ASSERT_TRUE(db_->Maintain(i * kMinute));
    }
    auto st = db_->Stats();
    EXPECT_GE(st.blocks, 3u);
    EXPECT_LE(st.head_max_t - st.head_min_t, 15 * kMinute);
    ASSERT_TRUE(db_->Maintain(60 * kMinute + 30 * kMinute));
    std::vector<Matcher> old = {*Matcher::Make(MatchOp::kEqual, "old", "yes")};
    EXPECT_TRUE(db_->SelectSeries("acme", old, 0, INT64_MAX).empty())
        << "the series went with its blocks";
    auto left = All("acme", "g");
    ASSERT_EQ(left.size(), 1u);
    EXPECT_GE(left[0].samples.front().t, 40 * kMinute);
    EXPECT_EQ(left[0].samples.back().t, 59 * kMinute);
}

TEST_F(TsdbTest, PastRetentionQueriesReadFiveMinuteRollupsThatKeepCounterResets) {
    TsdbOptions o;
    o.block_range_ms = 10 * kMinute;
    o.retention_ms = 30 * kMinute;
    o.rollup_retention_ms = 10 * kHour;
    Reopen(o);
    // Two hours, a sample a minute; the counter resets at minute 42.
    for (int i = 0; i < 120; ++i) {
        Put("acme", {{"__name__", "c_total"}}, {{i * kMinute, 1.0 * (i < 42 ? i : i - 42)}});
        ASSERT_TRUE(db_->Maintain(i * kMinute));
    }
    ASSERT_TRUE(db_->Maintain(120 * kMinute));  // raw blocks ending before minute 90 go
    auto st = db_->Stats();
    EXPECT_GE(st.rollup_blocks, 8u);
    EXPECT_LT(st.rollup_samples * 4, st.rollup_samples * 4 + st.block_samples + st.head_samples);
    auto got = All("acme", "c_total");
    ASSERT_EQ(got.size(), 1u);
    const auto& smp = got[0].samples;
    ASSERT_FALSE(smp.empty());
    int64_t raw_from = -1;
    for (size_t i = 1; i < smp.size(); ++i) {
        if (smp[i].t - smp[i - 1].t == kMinute && raw_from < 0) {
            raw_from = smp[i - 1].t;
        }
    }
    ASSERT_GT(raw_from, 0) << "the recent part is raw, a minute apart";
    for (const auto& x : smp) {
        if (x.t >= raw_from) {
            break;
        }
        int minute = static_cast<int>(x.t / kMinute);
        // Older data: the last sample of each 5 minutes, plus the one before the reset (41).
        EXPECT_TRUE(minute % 5 == 4 || minute == 41) << minute;
        EXPECT_EQ(x.v, minute < 42 ? minute : minute - 42);
    }
    EXPECT_EQ(smp.front().t, 4 * kMinute);
    Reopen(o);
    EXPECT_EQ(All("acme", "c_total")[0].samples.size(), smp.size())
        << "rollups and raw blocks load again";
    ASSERT_TRUE(db_->Maintain(120 * kMinute + 10 * kHour));
    EXPECT_EQ(db_->Stats().rollup_blocks, 0u) << "rollups have their own, longer retention";
}

TEST_F(TsdbTest, NewSeriesPastTheTenantLimitAreRefusedWithAReason) {
    TsdbOptions o;
    o.max_series_per_tenant = 2;
    Reopen(o);
    Put("acme", {{"__name__", "a"}}, {{kT0, 1}});
    Put("acme", {{"__name__", "b"}}, {{kT0, 1}});
    auto r = Put("acme", {{"__name__", "c"}}, {{kT0, 1}});
    EXPECT_EQ(r.over_series_limit, 1u);
    EXPECT_EQ(r.first_error, "tenant has 2 active series, the limit; new series are refused");
    EXPECT_EQ(Put("acme", {{"__name__", "a"}}, {{kT0 + 1, 1}}).samples, 1u) << "known series go on";
    EXPECT_EQ(Put("globex", {{"__name__", "c"}}, {{kT0, 1}}).samples, 1u)
        << "the limit is per tenant";
}

TEST_F(TsdbTest, SeriesLabelNamesAndValuesFollowMatchers) {
    Put("acme", {{"__name__", "up"}, {"job", "api"}, {"zone", "a"}}, {{kT0, 1}});
    Put("acme", {{"__name__", "up"}, {"job", "web"}}, {{kT0, 0}});
    Put("acme", {{"__name__", "other"}, {"job", "web"}}, {{kT0 - 100'000, 0}});
    std::vector<Matcher> up = {*Matcher::Make(MatchOp::kEqual, "__name__", "up")};
    EXPECT_EQ(
        db_->LabelNames("acme", up, 0, INT64_MAX),
        (std::vector<std::string>{"__name__", "job", "zone"})
    );
    EXPECT_EQ(
        db_->LabelValues("acme", "job", up, 0, INT64_MAX), (std::vector<std::string>{"api", "web"})
    );
    EXPECT_EQ(
        db_->LabelValues("acme", "__name__", {}, kT0 - 1, INT64_MAX),
        (std::vector<std::string>{"up"})
    ) << "series without data in the range are left out";
    std::vector<Matcher> re = {
        *Matcher::Make(MatchOp::kRegex, "job", "w.*"),
        *Matcher::Make(MatchOp::kNotEqual, "__name__", "up")};
    auto s = db_->SelectSeries("acme", re, 0, INT64_MAX);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(Get(s[0], "__name__"), "other");
}

}  // namespace
}  // namespace hangar::metrics
