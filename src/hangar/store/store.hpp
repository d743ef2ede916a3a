#pragma once
// The source of truth. Every write bumps the global revision and appends to the change log and
// the audit chain in the same transaction; writes are group-committed by one writer thread so
// that many concurrent requests share one durable commit.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/store/doc_cache.hpp"
#include "hangar/store/types.hpp"

namespace hangar::store {

class Backend;
class Tx;

struct StoreOptions {
    size_t readers = 8;               // pooled read connections
    size_t max_batch = 512;           // writes per group commit
    size_t max_queue = 8192;          // pending writes before callers get 503
    int64_t changelog_keep = 100000;  // change-log entries kept for watch resumption
    int64_t compact_every = 1024;     // writes between change-log compactions
    size_t cache_entries = 1000000;   // documents kept in memory (single-writer engines only)
    std::chrono::seconds idempotency_ttl{24 * 3600};  // how long an Idempotency-Key is honoured
};

// A timing hook so the HTTP layer can export store latencies without the store knowing HTTP.
using StoreTimer = std::function<void(std::string_view op, double seconds)>;

class Store {
public:
    // "sqlite:/path/to/hangar.db" or "postgres://..." / "postgresql://...".
    static core::Result<std::unique_ptr<Store>>
    Open(const std::string& url, const StoreOptions& opts);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    std::string_view BackendName() const;
    void SetTimer(StoreTimer timer) { timer_ = std::move(timer); }
    // Called (from the writer thread or a listener) after changes commit, locally or on
    // another replica.
    void OnCommitted(std::function<void()> fn);

    // ---- reads
    core::Result<Object> Get(std::string_view id);
    // The stored JSON text of an object, with its kind and tenant for access checks.
    core::Result<std::string> GetDoc(std::string_view id);
    // Never blocks: the cached document, or nullptr (not cached, or caching is off).
    std::shared_ptr<const CachedDoc> Cached(std::string_view id) const;
    core::Result<ListResult> List(const ListQuery& q);
    // Every object of `kind` (in `tenant`, or every tenant) that passes `filter`, all pages.
    core::Result<std::vector<Object>> ListAll(
        std::string kind,
        std::optional<std::string> tenant = std::nullopt,
        std::function<bool(const Object&)> filter = {}
    );
    // The object of `kind` named `name` in a naming scope (a tenant id, or "" for platform-wide).
    core::Result<Object>
    FindByName(std::string_view kind, std::string_view scope, std::string_view name);
    // The bytes created beside object `id`; NotFound when it has none.
    core::Result<std::string> GetBlob(std::string_view id);
    // Live objects of `kind` in `tenant` counted by the value of spec.<field> (a quota's
    // usage without reading every object). `field` is lowercase letters and '_'.
    core::Result<std::vector<std::pair<std::string, int64_t>>>
    CountBy(std::string_view kind, std::string_view tenant, std::string_view field);
    // Changes with revision > after; kGone when the log no longer reaches back that far.
    core::Result<std::vector<Change>> ChangesAfter(int64_t after, size_t limit);
    core::Result<int64_t> CurrentRevision();
    core::Result<std::optional<Token>> TokenByHash(std::string_view hash);
    core::Result<std::optional<Token>> TokenById(std::string_view id);
    core::Result<std::vector<Token>> ListTokens(const std::optional<std::string>& tenant);
    core::Result<std::vector<StoredAuditEvent>> ListAudit(const AuditQuery& q);
    core::Result<void> Ping();

    // ---- writes; `audit` is appended in the same transaction with the outcome filled in
    // (an audit event without an action is not appended: controllers' status writes).
    struct CreateResult {
        Object object;
        bool replayed = false;  // an Idempotency-Key retry answered with the first result
        bool existed = false;   // CreateAsync with or_existing: the object already named so
    };
    // `blob`: bytes kept beside the object, outside its document, the change log and the cache
    // (a statistics report's document); read with GetBlob, deleted with the object.
    core::Result<CreateResult> Create(
        Object obj,
        const std::optional<Idempotency>& idem,
        AuditEvent audit,
        std::string_view blob = {}
    );
    // Create without waiting: `done` runs on the writer thread once the write is durable (or
    // failed), so it must be quick. With `or_existing`, an object of the same kind and name
    // answers in place of kAlreadyExists (CreateResult::existed).
    void CreateAsync(
        Object obj,
        AuditEvent audit,
        std::string blob,
        bool or_existing,
        std::function<void(core::Result<CreateResult>)> done
    );
    // `mutate` runs inside the transaction on the current object; it may refuse with an error.
    // The store bumps revision, generation (when the spec changed) and updated_at.
    using Mutator = std::function<core::Result<void>(Object&)>;
    core::Result<Object> Update(
        std::string_view id,
        std::optional<int64_t> expected_revision,
        const std::string& now,
        Mutator mutate,
        AuditEvent audit
    );
    using Check = std::function<core::Result<void>(const Object&)>;  // empty: no check
    core::Result<Object> Delete(
        std::string_view id,
        std::optional<int64_t> expected_revision,
        Check check,
        AuditEvent audit
    );
    core::Result<Token> CreateToken(Token t, AuditEvent audit);
    core::Result<Token> RevokeToken(
        std::string_view id,
        const std::string& now,
        std::function<core::Result<void>(const Token&)> check,
        AuditEvent audit
    );
    core::Result<void> AppendAudit(AuditEvent audit);

private:
    explicit Store(std::unique_ptr<Backend> backend, StoreOptions opts);
    using Op = std::function<core::Result<void>(Tx&)>;
    core::Result<void> Submit(Op op, AuditEvent audit);
    void WriterLoop();
    template <typename F>
    auto Timed(std::string_view op, F&& f) -> decltype(f());

    struct Pending;
    // Queues `p` (owned by the queue when p->then is set); fails when stopping or full.
    core::Result<void> Enqueue(Pending* p);
    void Stage(const Object& o, const std::string& doc);
    // Writer thread, inside an op: inserts a new object (and its blob) with the next revision,
    // logs and stages it; returns its document.
    std::string Insert(Tx& tx, Object& obj, std::string_view blob);
    int64_t NextRevision() { return ++batch_revision_; }  // writer thread, inside an op
    void StageErase(const std::string& id);
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<DocCache> cache_;  // null unless the engine is single-writer
    // Writer thread only: this batch's cache changes, applied once it commits.
    std::vector<std::pair<std::string, std::shared_ptr<const CachedDoc>>> staged_;
    StoreOptions opts_;
    StoreTimer timer_;
    std::vector<std::function<void()>> on_committed_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Pending*> queue_;
    bool stopping_ = false;
    int64_t writes_since_compaction_ = 0;
    int64_t batch_revision_ = 0;  // writer thread: the revision head during a batch
    std::thread writer_;
};

}  // namespace hangar::store
