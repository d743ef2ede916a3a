// PostgreSQL, for teams that outgrow one machine: several Hangar replicas share it. Writers
// serialise on the `revision` row so revisions commit in order; NOTIFY wakes the watchers of
// every replica.

#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <poll.h>

#include "hangar/core/ids.hpp"
#include "hangar/store/backend.hpp"
#include "hangar/store/pool.hpp"
#include "hangar/store/postgres/pg_conn.hpp"

namespace hangar::store {

namespace {

using pg::PgConn;
using pg::PgResult;

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL, text TEXT NOT NULL DEFAULT '');
INSERT INTO meta (key, value, text) VALUES ('revision', 0, ''), ('compacted', 0, ''),
    ('audit_seq', 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE objects (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant TEXT NOT NULL, scope TEXT NOT NULL,
    name TEXT NOT NULL, revision BIGINT NOT NULL, doc TEXT NOT NULL);
CREATE UNIQUE INDEX objects_name ON objects (kind, scope, name);
CREATE INDEX objects_kind_id ON objects (kind, id COLLATE "C");
CREATE INDEX objects_kind_tenant_id ON objects (kind, tenant, id COLLATE "C");
CREATE TABLE changes (
    revision BIGINT PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    tenant TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, doc TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE tokens (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, role TEXT NOT NULL,
    name TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, revoked_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, tenant TEXT NOT NULL,
    action TEXT NOT NULL, object TEXT NOT NULL, request_id TEXT NOT NULL, source TEXT NOT NULL,
    outcome TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_time ON audit (time);
)sql",
    // Bytes kept beside an object, as base64url text (libpq's text parameters carry no NUL).
    R"sql(
CREATE TABLE blobs (id TEXT PRIMARY KEY, data TEXT NOT NULL);
)sql",
};

constexpr const char* kTokenCols =
    "id, hash, tenant, role, name, user_id, created_at, expires_at, revoked_at, created_by";

Token ReadToken(const PgResult& r, int row) {
    Token t;
    t.id = r.Text(row, 0);
    t.hash = r.Text(row, 1);
    t.tenant = r.Text(row, 2);
    t.role = r.Text(row, 3);
    t.name = r.Text(row, 4);
    t.user_id = r.Text(row, 5);
    t.created_at = r.Text(row, 6);
    t.expires_at = r.Text(row, 7);
    t.revoked_at = r.Text(row, 8);
    t.created_by = r.Text(row, 9);
    return t;
}

class PgTx final : public Tx {
public:
    explicit PgTx(PgConn& c) : c_(c) {
        c_.Exec("BEGIN");
        // Every writer takes this row lock first: revisions commit in order, no deadlocks.
        c_.Exec("SELECT value FROM meta WHERE key = 'revision' FOR UPDATE");
    }
    ~PgTx() override {
        if (open_) {
            try {
                c_.Exec("ROLLBACK");
            } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to do in a destructor
            }
        }
    }
    void Savepoint() override { c_.Exec("SAVEPOINT op"); }
    void RollbackToSavepoint() override { c_.Exec("ROLLBACK TO SAVEPOINT op"); }
    void ReleaseSavepoint() override { c_.Exec("RELEASE SAVEPOINT op"); }
    void Commit() override {
        c_.Exec("NOTIFY hangar_changes");
        c_.Exec("COMMIT");
        open_ = false;
    }
    void Rollback() override {
        c_.Exec("ROLLBACK");
        open_ = false;
    }
    Heads LoadHeads() override {
        // The revision row is already locked (constructor); lock the audit row too.
        auto r = c_.Exec(
            "SELECT key, value, text FROM meta WHERE key IN ('revision', 'audit_seq') ORDER BY key "
            "FOR UPDATE"
        );
        Heads h;
        for (int i = 0; i < r.Rows(); ++i) {
            if (r.Text(i, 0) == "revision") {
                h.revision = r.Int(i, 1);
            } else {
                h.audit_seq = r.Int(i, 1);
                h.audit_hash = r.Text(i, 2);
            }
        }
        return h;
    }
    void SaveHeads(const Heads& h) override {
        c_.Exec("UPDATE meta SET value = $1 WHERE key = 'revision'", {h.revision});
        c_.Exec(
            "UPDATE meta SET value = $1, text = $2 WHERE key = 'audit_seq'",
            {h.audit_seq, h.audit_hash}
        );
    }
    std::optional<std::string> GetDoc(std::string_view id) override {
        auto r = c_.Exec("SELECT doc FROM objects WHERE id = $1", {id});
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return r.Text(0, 0);
    }
    std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) override {
        auto r = c_.Exec(
            "SELECT doc FROM objects WHERE kind = $1 AND scope = $2 AND name = $3",
            {kind, scope, name}
        );
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return r.Text(0, 0);
    }
    bool NameTaken(std::string_view kind, std::string_view scope, std::string_view name) override {
        return c_.Exec(
                     "SELECT 1 FROM objects WHERE kind = $1 AND scope = $2 AND name = $3",
                     {kind, scope, name}
               )
                   .Rows() > 0;
    }
    void PutObject(const Object& o, const std::string& doc, bool insert) override {
        c_.Exec(
            insert
                ? "INSERT INTO objects (id, kind, tenant, name, revision, doc, scope) VALUES ($1, "
                  "$2, $3, $4, $5, $6, $7)"
                : "UPDATE objects SET kind = $2, tenant = $3, name = $4, revision = $5, doc = $6, "
                  "scope = $7 WHERE id = $1",
            {o.id, o.kind, o.tenant, o.name, o.revision, doc, NameScope(o)}
        );
    }
    void DeleteObject(std::string_view id) override {
        c_.Exec("DELETE FROM objects WHERE id = $1", {id});
        c_.Exec("DELETE FROM blobs WHERE id = $1", {id});
    }
    void PutBlob(std::string_view id, std::string_view bytes) override {
        c_.Exec(
            "INSERT INTO blobs (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = "
            "excluded.data",
            {id, core::Base64UrlEncode(bytes)}
        );
    }
    void AppendChange(const Change& c) override {
        c_.Exec(
            "INSERT INTO changes (revision, type, kind, id, tenant, doc) VALUES ($1, $2, $3, $4, "
            "$5, $6)",
            {c.revision, ChangeTypeName(c.type), c.kind, c.id, c.tenant, c.doc}
        );
    }
    std::optional<std::pair<std::string, std::string>>
    GetIdempotency(std::string_view scope, std::string_view key) override {
        auto r = c_.Exec(
            "SELECT request_hash, doc FROM idempotency WHERE scope = $1 AND key = $2", {scope, key}
        );
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return std::make_pair(r.Text(0, 0), r.Text(0, 1));
    }
    void PutIdempotency(const Idempotency& i, const std::string& doc, std::string_view at)
        override {
        c_.Exec(
            "INSERT INTO idempotency (scope, key, request_hash, doc, created_at) VALUES ($1, $2, "
            "$3, "
            "$4, $5)",
            {i.scope, i.key, i.request_hash, doc, at}
        );
    }
    std::optional<Token> GetToken(std::string_view id) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE id = $1", kTokenCols);
        auto r = c_.Exec(sql.c_str(), {id});
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return ReadToken(r, 0);
    }
    void PutToken(const Token& t, bool insert) override {
        c_.Exec(
            insert
                ? "INSERT INTO tokens (id, hash, tenant, role, name, user_id, created_at, "
                  "expires_at, revoked_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                  "$9, $10)"
                : "UPDATE tokens SET hash = $2, tenant = $3, role = $4, name = $5, user_id = $6, "
                  "created_at = $7, expires_at = $8, revoked_at = $9, created_by = $10 WHERE id = "
                  "$1",
            {t.id,
             t.hash,
             t.tenant,
             t.role,
             t.name,
             t.user_id,
             t.created_at,
             t.expires_at,
             t.revoked_at,
             t.created_by}
        );
    }
    void InsertAudit(const StoredAuditEvent& se) override {
        const AuditEvent& e = se.event;
        c_.Exec(
            "INSERT INTO audit (seq, time, actor, tenant, action, object, request_id, source, "
            "outcome, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            {e.seq,
             e.time,
             e.actor,
             e.tenant,
             e.action,
             e.object,
             e.request_id,
             e.source,
             e.outcome,
             se.prev_hash,
             se.hash}
        );
    }
    void CompactChanges(int64_t through) override {
        auto r = c_.Exec(
            "UPDATE meta SET value = greatest(value, $1) WHERE key = 'compacted' RETURNING value",
            {through}
        );
        c_.Exec("DELETE FROM changes WHERE revision <= $1", {r.Int(0, 0)});
    }
    void ExpireIdempotency(std::string_view before) override {
        c_.Exec("DELETE FROM idempotency WHERE created_at < $1", {before});
    }

private:
    PgConn& c_;
    bool open_ = true;
};

class PgReader final : public Reader {
public:
    PgReader(const std::string& conninfo, size_t n) {
        for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) {
            pool_.Add(std::make_unique<PgConn>(conninfo));
        }
    }
    std::optional<std::string> GetDoc(std::string_view id) override {
        auto c = pool_.Acquire();
        auto r = c->Exec("SELECT doc FROM objects WHERE id = $1", {id});
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return r.Text(0, 0);
    }
    std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) override {
        auto c = pool_.Acquire();
        auto r = c->Exec(
            "SELECT doc FROM objects WHERE kind = $1 AND scope = $2 AND name = $3",
            {kind, scope, name}
        );
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return r.Text(0, 0);
    }

    std::optional<std::string> GetBlob(std::string_view id) override {
        auto c = pool_.Acquire();
        auto r = c->Exec("SELECT data FROM blobs WHERE id = $1", {id});
        std::string bytes;
        if (r.Rows() == 0 || !core::Base64UrlDecode(r.Text(0, 0), bytes)) {
            return std::nullopt;
        }
        return bytes;
    }
    std::vector<std::pair<std::string, int64_t>>
    CountBy(std::string_view kind, std::string_view tenant, std::string_view field) override {
        auto c = pool_.Acquire();
        auto r = c->Exec(
            "SELECT coalesce(doc::jsonb->'spec'->>$3, ''), count(*) FROM objects WHERE kind = $1 "
            "AND "
            "tenant = $2 AND doc::jsonb->'metadata'->'deletion_requested_at' IS NULL GROUP BY 1",
            {std::string(kind), std::string(tenant), std::string(field)}
        );
        std::vector<std::pair<std::string, int64_t>> out;
        for (int i = 0; i < r.Rows(); ++i) {
            out.emplace_back(r.Text(i, 0), r.Int(i, 1));
        }
        return out;
    }

    std::pair<std::vector<std::string>, int64_t> ListDocs(const ListQuery& q, size_t chunk)
        override {
        auto c = pool_.Acquire();
        c->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        std::pair<std::vector<std::string>, int64_t> out;
        try {
            out.second = c->Exec("SELECT value FROM meta WHERE key = 'revision'").Int(0, 0);
            auto limit = static_cast<int64_t>(chunk);
            auto r = q.tenant
                         ? c->Exec(
                               "SELECT doc FROM objects WHERE kind = $1 AND tenant = $4 AND "
                               "id COLLATE \"C\" > $2 ORDER BY id COLLATE \"C\" LIMIT $3",
                               {q.kind, q.after_id, limit, *q.tenant}
                           )
                         : c->Exec(
                               "SELECT doc FROM objects WHERE kind = $1 AND id COLLATE \"C\" > "
                               "$2 ORDER BY id COLLATE \"C\" LIMIT $3",
                               {q.kind, q.after_id, limit}
                           );
            for (int i = 0; i < r.Rows(); ++i) {
                out.first.push_back(r.Text(i, 0));
            }
            c->Exec("COMMIT");
        } catch (...) {
            c->Exec("ROLLBACK");
            throw;
        }
        return out;
    }
    std::vector<Change> ChangesAfter(int64_t revision, size_t limit) override {
        auto c = pool_.Acquire();
        auto r = c->Exec(
            "SELECT revision, type, kind, id, tenant, doc FROM changes WHERE revision > $1 ORDER "
            "BY "
            "revision LIMIT $2",
            {revision, static_cast<int64_t>(limit)}
        );
        std::vector<Change> out;
        for (int i = 0; i < r.Rows(); ++i) {
            Change ch;
            ch.revision = r.Int(i, 0);
            ch.type = ChangeTypeFromName(r.Text(i, 1));
            ch.kind = r.Text(i, 2);
            ch.id = r.Text(i, 3);
            ch.tenant = r.Text(i, 4);
            ch.doc = r.Text(i, 5);
            out.push_back(std::move(ch));
        }
        return out;
    }
    int64_t CurrentRevision() override { return Meta("revision"); }
    int64_t CompactedThrough() override { return Meta("compacted"); }
    std::optional<Token> TokenByHash(std::string_view hash) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE hash = $1", kTokenCols);
        return OneToken(sql.c_str(), hash);
    }
    std::optional<Token> TokenById(std::string_view id) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE id = $1", kTokenCols);
        return OneToken(sql.c_str(), id);
    }
    std::vector<Token> ListTokens(const std::optional<std::string>& tenant) override {
        static const std::string all = fmt::format("SELECT {} FROM tokens ORDER BY id", kTokenCols);
        static const std::string one =
            fmt::format("SELECT {} FROM tokens WHERE tenant = $1 ORDER BY id", kTokenCols);
        auto c = pool_.Acquire();
        auto r = tenant ? c->Exec(one.c_str(), {*tenant}) : c->Exec(all.c_str());
        std::vector<Token> out;
        for (int i = 0; i < r.Rows(); ++i) {
            out.push_back(ReadToken(r, i));
        }
        return out;
    }
    std::vector<StoredAuditEvent> ListAudit(const AuditQuery& q) override {
        auto c = pool_.Acquire();
        auto r = c->Exec(
            "SELECT seq, time, actor, tenant, action, object, request_id, source, outcome, "
            "prev_hash, hash FROM audit WHERE seq > $1 AND ($2 = '' OR tenant = $2) AND "
            "($3 = '' OR actor = $3) AND ($4 = '' OR action = $4) AND ($5 = '' OR time >= $5) "
            "AND ($6 = '' OR time <= $6) ORDER BY seq LIMIT $7",
            {q.after_seq,
             q.tenant,
             q.actor,
             q.action,
             q.since,
             q.until,
             static_cast<int64_t>(q.limit)}
        );
        std::vector<StoredAuditEvent> out;
        for (int i = 0; i < r.Rows(); ++i) {
            StoredAuditEvent se;
            AuditEvent& e = se.event;
            e.seq = r.Int(i, 0);
            e.time = r.Text(i, 1);
            e.actor = r.Text(i, 2);
            e.tenant = r.Text(i, 3);
            e.action = r.Text(i, 4);
            e.object = r.Text(i, 5);
            e.request_id = r.Text(i, 6);
            e.source = r.Text(i, 7);
            e.outcome = r.Text(i, 8);
            se.prev_hash = r.Text(i, 9);
            se.hash = r.Text(i, 10);
            out.push_back(std::move(se));
        }
        return out;
    }
    void Ping() override { Meta("revision"); }

private:
    int64_t Meta(const char* key) {
        auto c = pool_.Acquire();
        return c->Exec("SELECT value FROM meta WHERE key = $1", {key}).Int(0, 0);
    }
    std::optional<Token> OneToken(const char* sql, std::string_view arg) {
        auto c = pool_.Acquire();
        auto r = c->Exec(sql, {arg});
        if (r.Rows() == 0) {
            return std::nullopt;
        }
        return ReadToken(r, 0);
    }
    Pool<PgConn> pool_;
};

class PgBackend final : public Backend {
public:
    PgBackend(std::string conninfo, size_t readers)
        : conninfo_(std::move(conninfo)), writer_(conninfo_) {
        Migrate();
        reader_ = std::make_unique<PgReader>(conninfo_, readers);
    }
    ~PgBackend() override { StopListening(); }
    std::string_view Name() const override { return "postgres"; }
    std::unique_ptr<Tx> Begin() override { return std::make_unique<PgTx>(writer_); }
    Reader& reader() override { return *reader_; }

    void ListenForChanges(std::function<void()> wake) override {
        listener_ = std::thread([this, wake = std::move(wake)] {
            while (!stop_) {
                try {
                    PgConn c(conninfo_);
                    c.Exec("LISTEN hangar_changes");
                    while (!stop_) {
                        pollfd pfd{PQsocket(c.raw()), POLLIN, 0};
                        if (poll(&pfd, 1, 200) < 0 || PQconsumeInput(c.raw()) == 0) {
                            break;
                        }
                        bool any = false;
                        while (PGnotify* n = PQnotifies(c.raw())) {
                            PQfreemem(n);
                            any = true;
                        }
                        if (any) {
                            wake();
                        }
                    }
                } catch (const std::exception&) {
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                }
            }
        });
    }
    void StopListening() override {
        stop_ = true;
        if (listener_.joinable()) {
            listener_.join();
        }
    }

private:
    void Migrate() {
        writer_.Exec("SELECT pg_advisory_lock(727274)");  // one replica migrates at a time
        try {
            writer_.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)"
            );
            int64_t have =
                writer_.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations").Int(0, 0);
            auto want = static_cast<int64_t>(std::size(kMigrations));
            if (have > want) {
                throw StoreFault(fmt::format(
                    "the database is at schema version {}, newer than this binary knows ({})",
                    have,
                    want
                ));
            }
            for (int64_t v = have + 1; v <= want; ++v) {
                writer_.Exec("BEGIN");
                try {
                    writer_.ExecScript(kMigrations[v - 1]);
                    writer_.Exec("INSERT INTO schema_migrations (version) VALUES ($1)", {v});
                    writer_.Exec("COMMIT");
                } catch (...) {
                    writer_.Exec("ROLLBACK");
                    throw;
                }
            }
        } catch (...) {
            writer_.Exec("SELECT pg_advisory_unlock(727274)");
            throw;
        }
        writer_.Exec("SELECT pg_advisory_unlock(727274)");
    }

    std::string conninfo_;
    PgConn writer_;
    std::unique_ptr<PgReader> reader_;
    std::atomic<bool> stop_{false};
    std::thread listener_;
};

}  // namespace

std::unique_ptr<Backend> OpenPostgres(const std::string& conninfo, size_t readers) {
    return std::make_unique<PgBackend>(conninfo, readers);
}

}  // namespace hangar::store
