#include "hangar/store/store.hpp"

#include <chrono>
#include <future>

#include <fmt/format.h>

#include "hangar/core/audit_chain.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/store/backend.hpp"

namespace hangar::store {

using core::ErrorCode;
using core::Fail;

struct Store::Pending {
    Op op;
    AuditEvent audit;
    std::promise<core::Result<void>> done;
    std::function<void(core::Result<void>)> then;  // set: asynchronous, called instead of `done`
};

namespace {

core::Error Internal(std::string_view what, const std::exception& e) {
    core::Error err = core::MakeError(ErrorCode::kInternal, "the store failed; see the server log");
    err.log_detail = fmt::format("{}: {}", what, e.what());
    core::LogError("store fault", {{"op", what}, {"error", std::string_view(e.what())}});
    return err;
}

}  // namespace

core::Result<std::unique_ptr<Store>> Store::Open(const std::string& url, const StoreOptions& opts) {
    std::unique_ptr<Backend> backend;
    try {
        if (url.starts_with("sqlite:")) {
            backend = OpenSqlite(url.substr(7), opts.readers);
        } else if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            backend = OpenPostgres(url, opts.readers);
        } else {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("store \"{}\": use sqlite:PATH or postgres://...", url)
            );
        }
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kUnavailable, fmt::format("cannot open store: {}", e.what()));
    }
    return std::unique_ptr<Store>(new Store(std::move(backend), opts));
}

Store::Store(std::unique_ptr<Backend> backend, StoreOptions opts)
    : backend_(std::move(backend)), opts_(opts) {
    if (backend_->SingleWriter() && opts_.cache_entries > 0) {
        cache_ = std::make_unique<DocCache>(opts_.cache_entries);
    }
    writer_ = std::thread([this] { WriterLoop(); });
    backend_->ListenForChanges([this] {
        for (auto& fn : on_committed_) {
            fn();
        }
    });
}

Store::~Store() {
    backend_->StopListening();
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
}

std::string_view Store::BackendName() const {
    return backend_->Name();
}

void Store::OnCommitted(std::function<void()> fn) {
    on_committed_.push_back(std::move(fn));
}

template <typename F>
auto Store::Timed(std::string_view op, F&& f) -> decltype(f()) {
    auto start = std::chrono::steady_clock::now();
    try {
        auto r = f();
        if (timer_) {
            timer_(
                op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            );
        }
        return r;
    } catch (const std::exception& e) {
        return Fail(Internal(op, e));
    }
}

// ---------------------------------------------------------------- reads

// The id of a stored document that no longer parses: ObjectToDoc writes metadata.id first.
static std::string IdOfDoc(std::string_view doc) {
    constexpr std::string_view kHead = R"({"metadata":{"id":")";
    if (doc.substr(0, kHead.size()) != kHead) {
        return {};
    }
    size_t end = doc.find('"', kHead.size());
    return end == std::string_view::npos
               ? std::string()
               : std::string(doc.substr(kHead.size(), end - kHead.size()));
}

std::shared_ptr<const CachedDoc> Store::Cached(std::string_view id) const {
    return cache_ ? cache_->Find(id) : nullptr;
}

core::Result<std::string> Store::GetDoc(std::string_view id) {
    if (auto hit = Cached(id)) {
        return hit->doc;
    }
    return Timed("get", [&]() -> core::Result<std::string> {
        uint64_t generation = cache_ ? cache_->Generation() : 0;
        auto doc = backend_->reader().GetDoc(id);
        if (!doc) {
            return Fail(ErrorCode::kNotFound, fmt::format("{} not found", id));
        }
        *doc = RepairDoc(std::move(*doc));
        if (cache_) {
            if (auto o = ObjectFromDoc(*doc)) {
                cache_->InsertIfUnchanged(
                    std::string(id),
                    std::make_shared<const CachedDoc>(CachedDoc{
                        *doc, o->kind, o->tenant, o->revision}),
                    generation
                );
            }
        }
        return std::move(*doc);
    });
}

void Store::Stage(const Object& o, const std::string& doc) {
    if (cache_) {
        staged_.emplace_back(
            o.id, std::make_shared<const CachedDoc>(CachedDoc{doc, o.kind, o.tenant, o.revision})
        );
    }
}

void Store::StageErase(const std::string& id) {
    if (cache_) {
        staged_.emplace_back(id, nullptr);
    }
}

core::Result<Object> Store::Get(std::string_view id) {
    auto doc = GetDoc(id);  // served from the cache when it can be
    if (!doc) {
        return Fail(doc.error());
    }
    return ObjectFromDoc(*doc);
}

core::Result<std::vector<Object>> Store::ListAll(
    std::string kind,
    std::optional<std::string> tenant,
    std::function<bool(const Object&)> filter
) {
    std::vector<Object> out;
    ListQuery q{std::move(kind), std::move(tenant), "", 1000, std::move(filter)};
    for (int guard = 0; guard < 100000; ++guard) {  // bounded: a hundred million objects
        auto page = List(q);
        if (!page) {
            return Fail(page.error());
        }
        for (auto& o : page->items) {
            out.push_back(std::move(o));
        }
        if (page->next_after_id.empty()) {
            break;
        }
        q.after_id = page->next_after_id;
    }
    return out;
}

core::Result<ListResult> Store::List(const ListQuery& q) {
    return Timed("list", [&]() -> core::Result<ListResult> {
        ListResult out;
        ListQuery page = q;
        size_t chunk = std::max<size_t>(q.limit + 1, 64);
        bool first = true;
        // Fetch in chunks until `limit` objects pass the filter; the read revision is the
        // first chunk's, which is what a watch should resume from.
        while (true) {
            auto [docs, rev] = backend_->reader().ListDocs(page, chunk);
            if (first) {
                out.revision = rev;
                first = false;
            }
            for (const auto& doc : docs) {
                auto o = ObjectFromDoc(doc);
                if (!o) {
                    // One unreadable object must not fail every list of its kind: skip it,
                    // say so in the log, and page on past it.
                    std::string id = IdOfDoc(doc);
                    core::LogError(
                        "store: skipped an unreadable object in a list",
                        {{"id", std::string_view(id)},
                         {"error", std::string_view(o.error().message)}}
                    );
                    if (id.empty()) {
                        return Fail(o.error());
                    }
                    page.after_id = id;
                    continue;
                }
                page.after_id = o->id;
                if (q.filter && !q.filter(*o)) {
                    continue;
                }
                if (out.items.size() == q.limit) {
                    out.next_after_id = out.items.back().id;
                    return out;
                }
                out.items.push_back(std::move(*o));
            }
            if (docs.size() < chunk) {
                return out;
            }
        }
    });
}

core::Result<Object>
Store::FindByName(std::string_view kind, std::string_view scope, std::string_view name) {
    auto doc = Timed("find", [&]() -> core::Result<std::optional<std::string>> {
        return backend_->reader().FindDoc(kind, scope, name);
    });
    if (!doc) {
        return Fail(doc.error());
    }
    if (!*doc) {
        return Fail(ErrorCode::kNotFound, fmt::format("no {} named \"{}\"", kind, name));
    }
    return ObjectFromDoc(**doc);
}

core::Result<std::string> Store::GetBlob(std::string_view id) {
    auto bytes = Timed("get_blob", [&]() -> core::Result<std::optional<std::string>> {
        return backend_->reader().GetBlob(id);
    });
    if (!bytes) {
        return Fail(bytes.error());
    }
    if (!*bytes) {
        return Fail(ErrorCode::kNotFound, fmt::format("{} has no blob", id));
    }
    return std::move(**bytes);
}

core::Result<std::vector<std::pair<std::string, int64_t>>>
Store::CountBy(std::string_view kind, std::string_view tenant, std::string_view field) {
    if (field.empty() ||
        field.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string_view::npos) {
        return Fail(ErrorCode::kInternal, fmt::format("CountBy: bad field \"{}\"", field));
    }
    return Timed("count", [&]() -> core::Result<std::vector<std::pair<std::string, int64_t>>> {
        return backend_->reader().CountBy(kind, tenant, field);
    });
}

core::Result<std::vector<Change>> Store::ChangesAfter(int64_t after, size_t limit) {
    return Timed("changes", [&]() -> core::Result<std::vector<Change>> {
        Reader& r = backend_->reader();
        int64_t compacted = r.CompactedThrough();
        if (after < compacted) {
            core::Error e = core::MakeError(
                ErrorCode::kGone,
                fmt::format(
                    "revision {} is no longer in the change log (it starts after {}); list again "
                    "and watch from the list's revision",
                    after,
                    compacted
                )
            );
            e.With("oldest_revision", std::to_string(compacted));
            return Fail(std::move(e));
        }
        return r.ChangesAfter(after, limit);
    });
}

core::Result<int64_t> Store::CurrentRevision() {
    return Timed("revision", [&]() -> core::Result<int64_t> {
        return backend_->reader().CurrentRevision();
    });
}

core::Result<std::optional<Token>> Store::TokenByHash(std::string_view hash) {
    return Timed("token", [&]() -> core::Result<std::optional<Token>> {
        return backend_->reader().TokenByHash(hash);
    });
}

core::Result<std::optional<Token>> Store::TokenById(std::string_view id) {
    return Timed("token", [&]() -> core::Result<std::optional<Token>> {
        return backend_->reader().TokenById(id);
    });
}

core::Result<std::vector<Token>> Store::ListTokens(const std::optional<std::string>& tenant) {
    return Timed("list_tokens", [&]() -> core::Result<std::vector<Token>> {
        return backend_->reader().ListTokens(tenant);
    });
}

core::Result<std::vector<StoredAuditEvent>> Store::ListAudit(const AuditQuery& q) {
    return Timed("list_audit", [&]() -> core::Result<std::vector<StoredAuditEvent>> {
        return backend_->reader().ListAudit(q);
    });
}

core::Result<void> Store::Ping() {
    return Timed("ping", [&]() -> core::Result<void> {
        backend_->reader().Ping();
        return {};
    });
}

// ---------------------------------------------------------------- writes

core::Result<void> Store::Enqueue(Pending* p) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return Fail(ErrorCode::kUnavailable, "the server is shutting down");
        }
        if (queue_.size() >= opts_.max_queue) {
            return Fail(ErrorCode::kUnavailable, "too many writes queued; retry shortly");
        }
        queue_.push_back(p);
    }
    cv_.notify_one();
    return {};
}

core::Result<void> Store::Submit(Op op, AuditEvent audit) {
    Pending p{std::move(op), std::move(audit), {}, {}};
    auto fut = p.done.get_future();
    if (auto q = Enqueue(&p); !q) {
        return q;
    }
    auto start = std::chrono::steady_clock::now();
    auto r = fut.get();
    if (timer_) {
        timer_(
            "write", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
        );
    }
    return r;
}

void Store::WriterLoop() {
    std::vector<Pending*> batch;
    std::vector<core::Result<void>> results;
    while (true) {
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) {
                return;
            }
            while (!queue_.empty() && batch.size() < opts_.max_batch) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
        }
        results.clear();
        try {
            auto tx = backend_->Begin();
            Tx::Heads heads = tx->LoadHeads();
            batch_revision_ = heads.revision;
            staged_.clear();
            for (Pending* p : batch) {
                size_t staged_before = staged_.size();
                int64_t revision_before = batch_revision_;
                tx->Savepoint();
                core::Result<void> r;
                try {
                    r = p->op(*tx);
                } catch (const StoreFault&) {
                    throw;
                } catch (const std::exception& e) {
                    r = Fail(Internal("write", e));
                }
                if (r) {
                    tx->ReleaseSavepoint();
                } else {
                    tx->RollbackToSavepoint();
                    tx->ReleaseSavepoint();
                    staged_.resize(staged_before);
                    batch_revision_ = revision_before;
                }
                AuditEvent& a = p->audit;
                if (a.action.empty()) {  // a controller's status write: the change log records it
                    results.push_back(std::move(r));
                    continue;
                }
                for (std::string* f :
                     {&a.actor, &a.tenant, &a.action, &a.object, &a.request_id, &a.source}) {
                    *f = core::ToValidUtf8(*f
                    );  // whatever a caller put there, the log stays valid JSON
                }
                if (!r) {
                    a.outcome = std::string(core::CodeString(r.error().code));
                } else if (a.outcome.empty()) {
                    a.outcome = "success";
                }
                a.seq = ++heads.audit_seq;
                std::string hash = core::AuditChainHash(heads.audit_hash, a);
                tx->InsertAudit(StoredAuditEvent{a, heads.audit_hash, hash});
                heads.audit_hash = std::move(hash);
                results.push_back(std::move(r));
            }
            heads.revision = batch_revision_;
            writes_since_compaction_ += static_cast<int64_t>(batch.size());
            if (writes_since_compaction_ >= opts_.compact_every) {
                writes_since_compaction_ = 0;
                tx->CompactChanges(heads.revision - opts_.changelog_keep);
                // "Now" is the newest time a caller stamped on this batch: the store reads no
                // clock.
                if (auto now = core::ParseRfc3339(batch.back()->audit.time)) {
                    tx->ExpireIdempotency(core::FormatRfc3339(*now - opts_.idempotency_ttl));
                }
            }
            tx->SaveHeads(heads);
            tx->Commit();
            if (cache_) {
                cache_->Apply(staged_);
            }
        } catch (const std::exception& e) {
            core::Error err = Internal("commit", e);
            results.assign(batch.size(), Fail(err));
        }
        for (size_t i = 0; i < batch.size(); ++i) {
            if (batch[i]->then) {
                try {
                    batch[i]->then(std::move(results[i]));
                } catch (const std::exception& e
                ) {  // the writer carries on whatever a callback did
                    core::LogError(
                        "a write's completion failed", {{"error", std::string_view(e.what())}}
                    );
                }
                delete batch[i];  // NOLINT(cppcoreguidelines-owning-memory): queued by CreateAsync
            } else {
                batch[i]->done.set_value(std::move(results[i]));
            }
        }
        batch.clear();
        for (auto& fn : on_committed_) {
            fn();
        }
    }
}

// A create's error when the name is taken.
static core::Error NameTakenError(const Object& o) {
    core::Error e = core::MakeError(
        ErrorCode::kAlreadyExists, fmt::format("a {} named \"{}\" already exists", o.kind, o.name)
    );
    e.With("field", "metadata.name");
    return e;
}

// JSON has no spelling for NaN or ±Infinity: an object holding one could be written but never
// read back, and one such object would fail every list of its kind. Refuse it at the door.
static core::Result<void> CheckWritable(const Object& o) {
    for (auto [part, doc] :
         {std::pair<std::string_view, const json::object*>{"spec", &o.spec},
          {"status", &o.status}}) {
        if (auto at = core::FindNonFinite(*doc, std::string(part))) {
            core::Error e = core::MakeError(
                ErrorCode::kInvalidArgument,
                fmt::format("{}: is not a finite number (JSON cannot hold NaN or Infinity)", *at)
            );
            e.With("field", *at);
            return Fail(std::move(e));
        }
    }
    return {};
}

std::string Store::Insert(Tx& tx, Object& obj, std::string_view blob) {
    obj.revision = NextRevision();
    obj.generation = 1;
    std::string doc = ObjectToDoc(obj);
    tx.PutObject(obj, doc, /*insert=*/true);
    if (!blob.empty()) {
        tx.PutBlob(obj.id, blob);
    }
    Stage(obj, doc);
    tx.AppendChange(Change{obj.revision, ChangeType::kAdded, obj.kind, obj.id, obj.tenant, doc});
    return doc;
}

core::Result<Store::CreateResult> Store::Create(
    Object obj,
    const std::optional<Idempotency>& idem,
    AuditEvent audit,
    std::string_view blob
) {
    if (auto w = CheckWritable(obj); !w) {
        return Fail(w.error());
    }
    CreateResult out;
    auto r = Submit(
        [&](Tx& tx) -> core::Result<void> {
            if (idem) {
                if (auto prior = tx.GetIdempotency(idem->scope, idem->key)) {
                    if (prior->first != idem->request_hash) {
                        return Fail(
                            ErrorCode::kUnprocessable,
                            "Idempotency-Key was already used with a different request body"
                        );
                    }
                    auto o = ObjectFromDoc(prior->second);
                    if (!o) {
                        return Fail(o.error());
                    }
                    out.object = std::move(*o);
                    out.replayed = true;
                    return {};
                }
            }
            if (tx.NameTaken(obj.kind, NameScope(obj), obj.name)) {
                return Fail(NameTakenError(obj));
            }
            std::string doc = Insert(tx, obj, blob);
            if (idem) {
                tx.PutIdempotency(*idem, doc, obj.created_at);
            }
            out.object = obj;
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return out;
}

void Store::CreateAsync(
    Object obj,
    AuditEvent audit,
    std::string blob,
    bool or_existing,
    std::function<void(core::Result<CreateResult>)> done
) {
    if (auto w = CheckWritable(obj); !w) {
        done(Fail(w.error()));
        return;
    }
    struct State {
        Object obj;
        std::string blob;
        CreateResult out;
    };
    auto st = std::make_shared<State>(State{std::move(obj), std::move(blob), {}});
    auto* p =
        new Pending{// NOLINT(cppcoreguidelines-owning-memory): the writer deletes it
                    [this, st, or_existing](Tx& tx) -> core::Result<void> {
                        Object& o = st->obj;
                        if (tx.NameTaken(o.kind, NameScope(o), o.name)) {
                            if (auto doc = or_existing ? tx.FindDoc(o.kind, NameScope(o), o.name)
                                                       : std::nullopt) {
                                auto prior = ObjectFromDoc(*doc);
                                if (!prior) {
                                    return Fail(prior.error());
                                }
                                st->out.object = std::move(*prior);
                                st->out.existed = true;
                                return {};
                            }
                            return Fail(NameTakenError(o));
                        }
                        Insert(tx, o, st->blob);
                        st->out.object = o;
                        return {};
                    },
                    std::move(audit),
                    {},
                    [st, done = std::move(done)](core::Result<void> r) {
                        if (!r) {
                            done(Fail(r.error()));
                        } else {
                            done(std::move(st->out));
                        }
                    }};
    if (auto q = Enqueue(p); !q) {
        std::function<void(core::Result<void>)> then = std::move(p->then);
        delete p;  // NOLINT(cppcoreguidelines-owning-memory)
        then(Fail(q.error()));
    }
}

namespace {

// The object as this transaction sees it.
core::Result<Object> LoadCurrent(Tx& tx, std::string_view id) {
    auto doc = tx.GetDoc(id);
    if (!doc) {
        return Fail(ErrorCode::kNotFound, fmt::format("{} not found", id));
    }
    return ObjectFromDoc(*doc);
}

core::Error StaleRevision(int64_t expected, int64_t actual) {
    core::Error e = core::MakeError(
        ErrorCode::kConflict,
        fmt::format(
            "the object changed: If-Match revision {} is stale, the current revision is {}; "
            "read it again and retry",
            expected,
            actual
        )
    );
    e.With("current_revision", std::to_string(actual));
    return e;
}

}  // namespace

core::Result<Object> Store::Update(
    std::string_view id,
    std::optional<int64_t> expected_revision,
    const std::string& now,
    Mutator mutate,
    AuditEvent audit
) {
    Object out;
    auto r = Submit(
        [&](Tx& tx) -> core::Result<void> {
            auto cur = LoadCurrent(tx, id);
            if (!cur) {
                return Fail(cur.error());
            }
            Object next = *cur;
            if (auto m = mutate(next); !m) {
                return Fail(m.error());
            }
            if (expected_revision && *expected_revision != cur->revision) {
                return Fail(StaleRevision(*expected_revision, cur->revision));
            }
            // Identity is immutable whatever the mutator did.
            next.id = cur->id;
            next.kind = cur->kind;
            next.tenant = cur->tenant;
            next.created_at = cur->created_at;
            if (next.name != cur->name && tx.NameTaken(next.kind, NameScope(next), next.name)) {
                return Fail(
                    ErrorCode::kAlreadyExists,
                    fmt::format("a {} named \"{}\" already exists", next.kind, next.name)
                );
            }
            if (auto w = CheckWritable(next); !w) {
                return Fail(w.error());
            }
            next.revision = NextRevision();
            next.generation = cur->generation + (next.spec != cur->spec ? 1 : 0);
            next.updated_at = now;
            std::string ndoc = ObjectToDoc(next);
            tx.PutObject(next, ndoc, /*insert=*/false);
            Stage(next, ndoc);
            tx.AppendChange(Change{
                next.revision, ChangeType::kModified, next.kind, next.id, next.tenant, ndoc});
            out = std::move(next);
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return out;
}

core::Result<Object> Store::Delete(
    std::string_view id,
    std::optional<int64_t> expected_revision,
    Check check,
    AuditEvent audit
) {
    Object out;
    auto r = Submit(
        [&](Tx& tx) -> core::Result<void> {
            auto cur = LoadCurrent(tx, id);
            if (!cur) {
                return Fail(cur.error());
            }
            if (check) {
                if (auto c = check(*cur); !c) {
                    return Fail(c.error());
                }
            }
            if (expected_revision && *expected_revision != cur->revision) {
                return Fail(StaleRevision(*expected_revision, cur->revision));
            }
            int64_t rev = NextRevision();
            tx.DeleteObject(id);
            StageErase(std::string(id));
            cur->revision = rev;
            tx.AppendChange(Change{
                rev, ChangeType::kDeleted, cur->kind, cur->id, cur->tenant, ObjectToDoc(*cur)});
            out = std::move(*cur);
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return out;
}

core::Result<Token> Store::CreateToken(Token t, AuditEvent audit) {
    auto r = Submit(
        [&](Tx& tx) -> core::Result<void> {
            tx.PutToken(t, /*insert=*/true);
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return t;
}

core::Result<Token> Store::RevokeToken(
    std::string_view id,
    const std::string& now,
    std::function<core::Result<void>(const Token&)> check,
    AuditEvent audit
) {
    Token out;
    auto r = Submit(
        [&](Tx& tx) -> core::Result<void> {
            auto t = tx.GetToken(id);
            if (!t) {
                return Fail(ErrorCode::kNotFound, fmt::format("token {} not found", id));
            }
            if (auto c = check(*t); !c) {
                return Fail(c.error());
            }
            if (t->revoked_at.empty()) {
                t->revoked_at = now;
                tx.PutToken(*t, /*insert=*/false);
            }
            out = *t;
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return out;
}

core::Result<void> Store::AppendAudit(AuditEvent audit) {
    return Submit([](Tx&) -> core::Result<void> { return {}; }, std::move(audit));
}

}  // namespace hangar::store
