// One suite, every backend: SQLite in a temp folder, PostgreSQL in a throwaway cluster.

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/store/store.hpp"

#include "pg_cluster.hpp"
#include "server_process.hpp"

namespace hangar::store {

namespace {

testing::PgCluster* g_pg = nullptr;

class PgEnvironment : public ::testing::Environment {
public:
    void SetUp() override { g_pg = new testing::PgCluster(); }
    void TearDown() override {
        delete g_pg;
        g_pg = nullptr;
    }
};
const auto* const kPgEnv = ::testing::AddGlobalTestEnvironment(new PgEnvironment());

std::string Now() {
    return core::FormatRfc3339(std::chrono::system_clock::now());
}

AuditEvent Audit(std::string action, std::string object = "") {
    return AuditEvent{
        0,
        Now(),
        "token:tok_test",
        "ten_t",
        std::move(action),
        std::move(object),
        "req_1",
        "127.0.0.1:1",
        ""};
}

Object NewObject(std::string kind, std::string tenant, std::string name, Labels labels = {}) {
    Object o;
    o.id = core::NewId("obj");
    o.kind = std::move(kind);
    o.tenant = std::move(tenant);
    o.name = std::move(name);
    o.labels = std::move(labels);
    o.created_at = o.updated_at = Now();
    o.spec["size"] = "small";
    return o;
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "postgres") {
            ASSERT_TRUE(g_pg != nullptr && g_pg->ok()) << (g_pg ? g_pg->error() : "no cluster");
            static std::atomic<int> n{0};
            url_ =
                g_pg->NewDatabase("conf" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        } else {
            url_ = "sqlite:" + dir_.path() + "/hangar.db";
        }
        Open();
    }
    void Open(StoreOptions opts = {}) {
        store_.reset();
        auto s = Store::Open(url_, opts);
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
    }
    Object MustCreate(Object o) {
        auto r = store_->Create(o, std::nullopt, Audit("thing.create", o.id));
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->object : Object{};
    }

    testing::TempDir dir_;
    std::string url_;
    std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, CreateThenGetRoundTripsEveryField) {
    Object o = MustCreate(NewObject("Thing", "ten_a", "one", {{"env", "prod"}}));
    EXPECT_EQ(o.generation, 1);
    EXPECT_GT(o.revision, 0);
    auto got = store_->Get(o.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, o.id);
    EXPECT_EQ(got->kind, "Thing");
    EXPECT_EQ(got->tenant, "ten_a");
    EXPECT_EQ(got->name, "one");
    EXPECT_EQ(got->labels, (Labels{{"env", "prod"}}));
    EXPECT_EQ(got->revision, o.revision);
    EXPECT_EQ(got->spec, o.spec);
    EXPECT_EQ(got->created_at, o.created_at);
    EXPECT_EQ(store_->Get("obj_missing").error().code, core::ErrorCode::kNotFound);
}

TEST_P(StoreConformance, NamesAreUniquePerKindAndTenant) {
    MustCreate(NewObject("Thing", "ten_a", "same"));
    auto dup =
        store_->Create(NewObject("Thing", "ten_a", "same"), std::nullopt, Audit("thing.create"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, core::ErrorCode::kAlreadyExists);
    EXPECT_TRUE(
        store_->Create(NewObject("Thing", "ten_b", "same"), std::nullopt, Audit("thing.create"))
    );
    EXPECT_TRUE(
        store_->Create(NewObject("Other", "ten_a", "same"), std::nullopt, Audit("other.create"))
    );
}

TEST_P(StoreConformance, EveryWriteBumpsTheRevisionAndLandsInTheChangeLog) {
    auto start = *store_->CurrentRevision();
    Object o = MustCreate(NewObject("Thing", "ten_a", "x"));
    auto upd = store_->Update(
        o.id,
        o.revision,
        Now(),
        [](Object& x) -> core::Result<void> {
            x.spec["size"] = "large";
            return {};
        },
        Audit("thing.update", o.id)
    );
    ASSERT_TRUE(upd) << upd.error().message;
    EXPECT_EQ(upd->generation, 2);
    auto del = store_->Delete(
        o.id,
        std::nullopt,
        [](const Object&) -> core::Result<void> { return {}; },
        Audit("thing.delete", o.id)
    );
    ASSERT_TRUE(del);
    auto changes = store_->ChangesAfter(start, 100);
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->size(), 3U);
    EXPECT_EQ((*changes)[0].type, ChangeType::kAdded);
    EXPECT_EQ((*changes)[1].type, ChangeType::kModified);
    EXPECT_EQ((*changes)[2].type, ChangeType::kDeleted);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ((*changes)[i].revision, start + 1 + static_cast<int64_t>(i));
        EXPECT_EQ((*changes)[i].id, o.id);
    }
    EXPECT_EQ(*store_->CurrentRevision(), start + 3);
    EXPECT_EQ(store_->Get(o.id).error().code, core::ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ABlobIsKeptBesideItsObjectOutsideTheChangeLogAndGoesWithIt) {
    auto start = *store_->CurrentRevision();
    constexpr char kHead[] = "\x28\xb5\x2f\xfd\x00 binary, with a NUL";
    std::string bytes(kHead, sizeof(kHead) - 1);
    bytes += std::string(70000, 'z');
    Object o = NewObject("Report", "ten_a", "r1");
    auto c = store_->Create(o, std::nullopt, Audit("report.create", o.id), bytes);
    ASSERT_TRUE(c) << c.error().message;
    auto got = store_->GetBlob(o.id);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, bytes);
    auto changes = store_->ChangesAfter(start, 10);
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->size(), 1U);
    EXPECT_LT((*changes)[0].doc.size(), 1000U) << "the change log carries the object, not its blob";
    EXPECT_EQ(
        store_->GetBlob(MustCreate(NewObject("Report", "ten_a", "r2")).id).error().code,
        core::ErrorCode::kNotFound
    );
    ASSERT_TRUE(store_->Delete(o.id, std::nullopt, nullptr, Audit("report.delete", o.id)));
    EXPECT_EQ(store_->GetBlob(o.id).error().code, core::ErrorCode::kNotFound);
}

TEST_P(StoreConformance, StaleRevisionConflictsAndChangesNothing) {
    Object o = MustCreate(NewObject("Thing", "ten_a", "x"));
    auto first = store_->Update(
        o.id,
        o.revision,
        Now(),
        [](Object& x) -> core::Result<void> {
            x.labels["a"] = "1";
            return {};
        },
        Audit("thing.update")
    );
    ASSERT_TRUE(first);
    EXPECT_EQ(first->generation, 1) << "a label change is not a spec change";
    auto stale = store_->Update(
        o.id,
        o.revision,
        Now(),
        [](Object& x) -> core::Result<void> {
            x.labels["a"] = "2";
            return {};
        },
        Audit("thing.update")
    );
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, core::ErrorCode::kConflict);
    EXPECT_EQ(store_->Get(o.id)->labels.at("a"), "1");
    auto del = store_->Delete(
        o.id,
        o.revision,
        [](const Object&) -> core::Result<void> { return {}; },
        Audit("thing.delete")
    );
    EXPECT_EQ(del.error().code, core::ErrorCode::kConflict);
    EXPECT_TRUE(store_->Get(o.id));
}

TEST_P(StoreConformance, IdempotencyKeyReplaysTheFirstResult) {
    Idempotency idem{"tok_a", "key-1", "hash-of-body"};
    Object o = NewObject("Thing", "ten_a", "x");
    auto a = store_->Create(o, idem, Audit("thing.create"));
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->replayed);
    Object retry = NewObject("Thing", "ten_a", "x");  // a retry makes a fresh id; the first wins
    auto b = store_->Create(retry, idem, Audit("thing.create"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_TRUE(b->replayed);
    EXPECT_EQ(b->object.id, a->object.id);
    EXPECT_EQ(b->object.revision, a->object.revision);
    auto other = store_->Create(
        NewObject("Thing", "ten_a", "y"),
        Idempotency{"tok_a", "key-1", "other"},
        Audit("thing.create")
    );
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, core::ErrorCode::kUnprocessable);
    // Another caller's key of the same name is a different key.
    EXPECT_TRUE(store_->Create(
        NewObject("Thing", "ten_a", "z"), Idempotency{"tok_b", "key-1", "h"}, Audit("thing.create")
    ));
}

TEST_P(StoreConformance, IdempotencyKeysExpire) {
    Open(StoreOptions{
        .changelog_keep = 100, .compact_every = 1, .idempotency_ttl = std::chrono::hours(24)});
    Idempotency idem{"tok_a", "old-key", "h"};
    AuditEvent long_ago = Audit("thing.create");
    long_ago.time = "2020-01-01T00:00:00.000Z";
    Object o = NewObject("Thing", "ten_a", "old");
    o.created_at = long_ago.time;
    ASSERT_TRUE(store_->Create(o, idem, long_ago));
    // A write stamped a day later sweeps the key; the same key then creates anew.
    AuditEvent later = Audit("thing.create");
    later.time = "2020-01-02T00:00:01.000Z";
    ASSERT_TRUE(store_->Create(NewObject("Thing", "ten_a", "trigger"), std::nullopt, later));
    auto again = store_->Create(NewObject("Thing", "ten_a", "new"), idem, Audit("thing.create"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_FALSE(again->replayed);
    EXPECT_EQ(again->object.name, "new");
}

TEST_P(StoreConformance, ListPagesInIdOrderByTenantAndFilter) {
    std::set<std::string> ids;
    for (int i = 0; i < 25; ++i) {
        Object o = MustCreate(NewObject(
            "Thing",
            i % 5 == 0 ? "ten_b" : "ten_a",
            "n" + std::to_string(i),
            {{"i", std::to_string(i % 2)}}
        ));
        if (o.tenant == "ten_a") {
            ids.insert(o.id);
        }
    }
    MustCreate(NewObject("Other", "ten_a", "o"));
    std::set<std::string> seen;
    ListQuery q{"Thing", "ten_a", "", 7, {}};
    int pages = 0;
    std::string last;
    while (true) {
        auto page = store_->List(q);
        ASSERT_TRUE(page);
        ++pages;
        for (const auto& o : page->items) {
            EXPECT_GT(o.id, last);
            last = o.id;
            EXPECT_TRUE(seen.insert(o.id).second);
        }
        if (page->next_after_id.empty()) {
            break;
        }
        q.after_id = page->next_after_id;
    }
    EXPECT_EQ(seen, ids);
    EXPECT_EQ(pages, 3);  // 20 objects, 7 a page
    ListQuery f{"Thing", std::nullopt, "", 100, [](const Object& o) {
                    return o.labels.at("i") == "1";
                }};
    auto filtered = store_->List(f);
    ASSERT_TRUE(filtered);
    EXPECT_EQ(filtered->items.size(), 12U);
    EXPECT_EQ(filtered->revision, *store_->CurrentRevision());
}

TEST_P(StoreConformance, CountByGroupsLiveObjectsOfATenantBySpecField) {
    MustCreate(NewObject("Thing", "ten_a", "a1"));
    MustCreate(NewObject("Thing", "ten_a", "a2"));
    Object big = NewObject("Thing", "ten_a", "a3");
    big.spec["size"] = "large";
    MustCreate(big);
    Object going = MustCreate(NewObject("Thing", "ten_a", "a4"));
    ASSERT_TRUE(store_->Update(
        going.id,
        std::nullopt,
        Now(),
        [](Object& x) -> core::Result<void> {
            x.deletion_requested_at = Now();
            return {};
        },
        Audit("thing.delete", going.id)
    ));
    MustCreate(NewObject("Thing", "ten_b", "b1"));
    MustCreate(NewObject("Other", "ten_a", "o1"));
    auto counts = store_->CountBy("Thing", "ten_a", "size");
    ASSERT_TRUE(counts) << counts.error().message;
    std::map<std::string, int64_t> got(counts->begin(), counts->end());
    EXPECT_EQ(got, (std::map<std::string, int64_t>{{"large", 1}, {"small", 2}}))
        << "a4 is being deleted";
    auto absent = store_->CountBy("Thing", "ten_a", "colour");
    ASSERT_TRUE(absent);
    std::map<std::string, int64_t> none(absent->begin(), absent->end());
    EXPECT_EQ(none, (std::map<std::string, int64_t>{{"", 3}}));
    EXPECT_FALSE(store_->CountBy("Thing", "ten_a", "size') OR 1=1 --"));
}

TEST_P(StoreConformance, CompactedRevisionsAreGone) {
    Open(StoreOptions{.changelog_keep = 100, .compact_every = 10});
    auto start = *store_->CurrentRevision();
    for (int i = 0; i < 150; ++i) {
        MustCreate(NewObject("Thing", "ten_a", "c" + std::to_string(i)));
    }
    auto gone = store_->ChangesAfter(start, 10);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, core::ErrorCode::kGone);
    auto recent = store_->ChangesAfter(*store_->CurrentRevision() - 50, 100);
    ASSERT_TRUE(recent);
    EXPECT_EQ(recent->size(), 50U);
}

TEST_P(StoreConformance, AuditChainRecordsEveryWriteWithItsOutcome) {
    Object o = MustCreate(NewObject("Thing", "ten_a", "x"));
    auto dup = store_->Create(
        NewObject("Thing", "ten_a", "x"), std::nullopt, Audit("thing.create", "dup")
    );
    ASSERT_FALSE(dup);
    AuditEvent denied = Audit("thing.delete", o.id);
    denied.outcome = "forbidden";
    ASSERT_TRUE(store_->AppendAudit(denied));
    auto events = store_->ListAudit(AuditQuery{});
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 3U);
    EXPECT_EQ((*events)[0].event.outcome, "success");
    EXPECT_EQ((*events)[1].event.outcome, "already_exists");
    EXPECT_EQ((*events)[2].event.outcome, "forbidden");
    std::string prev(core::kAuditGenesisHash);
    for (size_t i = 0; i < events->size(); ++i) {
        const auto& se = (*events)[i];
        EXPECT_EQ(se.event.seq, static_cast<int64_t>(i + 1));
        EXPECT_EQ(se.prev_hash, prev);
        EXPECT_EQ(se.hash, core::AuditChainHash(prev, se.event));
        prev = se.hash;
    }
    auto filtered = store_->ListAudit(AuditQuery{.action = "thing.delete"});
    ASSERT_TRUE(filtered);
    EXPECT_EQ(filtered->size(), 1U);
}

TEST_P(StoreConformance, TokensAreFoundByHashAndRevoked) {
    Token t{"tok_1", "ten_a", "viewer", "ci", "", "hash1", Now(), "", "", "tok_admin"};
    ASSERT_TRUE(store_->CreateToken(t, Audit("token.create", t.id)));
    auto found = store_->TokenByHash("hash1");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, "tok_1");
    EXPECT_FALSE(store_->TokenByHash("nope")->has_value());
    auto revoked = store_->RevokeToken(
        "tok_1", Now(), [](const Token&) -> core::Result<void> { return {}; }, Audit("token.revoke")
    );
    ASSERT_TRUE(revoked);
    EXPECT_FALSE((*store_->TokenById("tok_1"))->revoked_at.empty());
    EXPECT_EQ(store_->ListTokens(std::string("ten_a"))->size(), 1U);
    EXPECT_EQ(store_->ListTokens(std::string("ten_b"))->size(), 0U);
}

TEST_P(StoreConformance, ConcurrentWritersGetDistinctContiguousRevisions) {
    auto start = *store_->CurrentRevision();
    constexpr int kThreads = 8;
    constexpr int kEach = 100;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto r = store_->Create(
                    NewObject("Thing", "ten_a", "t" + std::to_string(t) + "-" + std::to_string(i)),
                    std::nullopt,
                    Audit("thing.create")
                );
                ok += r ? 1 : 0;
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(ok.load(), kThreads * kEach);
    auto changes = store_->ChangesAfter(start, 10000);
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->size(), static_cast<size_t>(kThreads * kEach));
    for (size_t i = 0; i < changes->size(); ++i) {
        EXPECT_EQ((*changes)[i].revision, start + 1 + static_cast<int64_t>(i));
    }
    auto audit = store_->ListAudit(AuditQuery{.limit = 10000});
    EXPECT_EQ(audit->size(), static_cast<size_t>(kThreads * kEach));
}

TEST_P(StoreConformance, DataSurvivesReopening) {
    Object o = MustCreate(NewObject("Thing", "ten_a", "persist"));
    auto rev = *store_->CurrentRevision();
    Open();
    EXPECT_EQ(store_->Get(o.id)->name, "persist");
    EXPECT_EQ(*store_->CurrentRevision(), rev);
    Object p = MustCreate(NewObject("Thing", "ten_a", "after"));
    EXPECT_EQ(p.revision, rev + 1);
    auto events = store_->ListAudit(AuditQuery{});
    EXPECT_EQ(events->back().prev_hash, (*events)[events->size() - 2].hash);
}

INSTANTIATE_TEST_SUITE_P(
    Backends,
    StoreConformance,
    ::testing::Values("sqlite", "postgres"),
    [](const auto& info) { return info.param; }
);

TEST(StoreOpen, RejectsUnknownUrlsAndUnreachableServers) {
    auto bad = Store::Open("mysql://x", {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument);
    auto down = Store::Open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2", {});
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace

}  // namespace hangar::store
