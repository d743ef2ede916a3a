// The usage database on its own: a resent event counts once while it is kept, and again once
// the retention has forgotten it (the deduplication horizon); the buckets written with their
// sequence survive a reopen.

#include "hangar/metering/usage_db.hpp"

#include <gtest/gtest.h>

#include "server_process.hpp"

namespace hangar::metering {
namespace {

MeterDef Count() {
    MeterDef m;
    m.id = "mtr_x";
    m.slug = "calls";
    m.event_type = "call";
    m.aggregation = Aggregation::kCount;
    m.generation = 1;
    return m;
}

std::vector<UsageEvent> Batch(int n) {
    std::vector<UsageEvent> out;
    for (int i = 0; i < n; ++i) {
        UsageEvent e;
        e.id = "e" + std::to_string(i);
        e.source = "t";
        e.type = "call";
        e.subject = "ten_a";
        e.time_ms = 1780000000000 + i * 1000;
        out.push_back(e);
    }
    return out;
}

int64_t Counted(UsageDb& db) {
    auto rows = db.Rollups("calls", 60, 0, 253402300800, {"ten_a"});
    EXPECT_TRUE(rows);
    int64_t n = 0;
    for (const auto& r : *rows) {
        n += r.count;
    }
    return n;
}

TEST(UsageDbTest, AResentEventCountsOnceWhileKeptAndAgainAfterTheRetention) {
    testing::TempDir dir;
    {
        UsageDb db(dir.path() + "/usage.db");
        db.SetMeters({Count()});
        auto first = db.Ingest(Batch(3));
        ASSERT_TRUE(first);
        EXPECT_EQ(first->accepted, 3);
        auto again = db.Ingest(Batch(3));
        ASSERT_TRUE(again);
        EXPECT_EQ(again->duplicates, 3);
        EXPECT_EQ(Counted(db), 3);
        // Nothing is older than a cut-off in the past.
        EXPECT_EQ(*db.Prune(0), 0);
    }
    // Reopened: the view was written at the clean stop.
    UsageDb db(dir.path() + "/usage.db");
    db.SetMeters({Count()});
    EXPECT_EQ(Counted(db), 3);
    // The retention forgets the events (not their usage): a resend is new again.
    auto gone = db.Prune(INT64_MAX);
    ASSERT_TRUE(gone);
    EXPECT_EQ(*gone, 3);
    auto resent = db.Ingest(Batch(3));
    ASSERT_TRUE(resent);
    EXPECT_EQ(resent->accepted, 3);
    EXPECT_EQ(Counted(db), 6);
}

}  // namespace
}  // namespace hangar::metering
