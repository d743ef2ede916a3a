// The embedded default: one SQLite file in WAL mode, one writer connection (the Store's
// group-commit thread) and a pool of read connections. synchronous=FULL: an acknowledged
// write has been fsynced.

#include <filesystem>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include "hangar/store/backend.hpp"
#include "hangar/store/pool.hpp"
#include "hangar/store/sqlite/sqlite_db.hpp"

namespace hangar::store {

namespace {

using sqlite::Db;
using sqlite::Stmt;

// Versioned migrations: each entry runs once, in order, in its own transaction.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL, text TEXT NOT NULL DEFAULT '');
INSERT INTO meta (key, value, text) VALUES ('revision', 0, ''), ('compacted', 0, ''),
    ('audit_seq', 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE objects (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant TEXT NOT NULL, scope TEXT NOT NULL,
    name TEXT NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE UNIQUE INDEX objects_name ON objects (kind, scope, name);
CREATE INDEX objects_kind_id ON objects (kind, id);
CREATE INDEX objects_kind_tenant_id ON objects (kind, tenant, id);
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    tenant TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, doc TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE tokens (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, role TEXT NOT NULL,
    name TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, revoked_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, tenant TEXT NOT NULL,
    action TEXT NOT NULL, object TEXT NOT NULL, request_id TEXT NOT NULL, source TEXT NOT NULL,
    outcome TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_time ON audit (time);
)sql",
    // Bytes kept beside an object (a statistics report's document), outside its document.
    R"sql(
CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
)sql",
};

Token ReadToken(Stmt& s) {
    Token t;
    t.id = s.Text(0);
    t.hash = s.Text(1);
    t.tenant = s.Text(2);
    t.role = s.Text(3);
    t.name = s.Text(4);
    t.user_id = s.Text(5);
    t.created_at = s.Text(6);
    t.expires_at = s.Text(7);
    t.revoked_at = s.Text(8);
    t.created_by = s.Text(9);
    return t;
}

constexpr const char* kTokenCols =
    "id, hash, tenant, role, name, user_id, created_at, expires_at, revoked_at, created_by";

// The first column of the statement's one row, if it has a row.
std::optional<std::string> OneText(Stmt& s) {
    if (!s.Step()) {
        return std::nullopt;
    }
    std::string text = s.Text(0);
    s.Reset();
    return text;
}

class SqliteTx final : public Tx {
public:
    explicit SqliteTx(Db& db) : db_(db) { db_.Prepare("BEGIN IMMEDIATE").Run(); }
    ~SqliteTx() override {
        if (open_) {
            try {
                db_.Prepare("ROLLBACK").Run();
            } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to do in a destructor
            }
        }
    }
    void Savepoint() override { db_.Prepare("SAVEPOINT op").Run(); }
    void RollbackToSavepoint() override { db_.Prepare("ROLLBACK TO op").Run(); }
    void ReleaseSavepoint() override { db_.Prepare("RELEASE op").Run(); }
    void Commit() override {
        db_.Prepare("COMMIT").Run();
        open_ = false;
    }
    void Rollback() override {
        db_.Prepare("ROLLBACK").Run();
        open_ = false;
    }

    Heads LoadHeads() override {
        Heads h;
        Stmt& s =
            db_.Prepare("SELECT key, value, text FROM meta WHERE key IN ('revision', 'audit_seq')");
        while (s.Step()) {
            if (s.Text(0) == "revision") {
                h.revision = s.Int(1);
            } else {
                h.audit_seq = s.Int(1);
                h.audit_hash = s.Text(2);
            }
        }
        return h;
    }
    void SaveHeads(const Heads& h) override {
        db_.Prepare("UPDATE meta SET value = ? WHERE key = 'revision'").Bind(1, h.revision).Run();
        db_.Prepare("UPDATE meta SET value = ?, text = ? WHERE key = 'audit_seq'")
            .Bind(1, h.audit_seq)
            .Bind(2, h.audit_hash)
            .Run();
    }
    std::optional<std::string> GetDoc(std::string_view id) override {
        Stmt& s = db_.Prepare("SELECT doc FROM objects WHERE id = ?");
        s.Bind(1, id);
        return OneText(s);
    }
    std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) override {
        Stmt& s = db_.Prepare("SELECT doc FROM objects WHERE kind = ? AND scope = ? AND name = ?");
        s.Bind(1, kind).Bind(2, scope).Bind(3, name);
        return OneText(s);
    }
    bool NameTaken(std::string_view kind, std::string_view scope, std::string_view name) override {
        Stmt& s = db_.Prepare("SELECT 1 FROM objects WHERE kind = ? AND scope = ? AND name = ?");
        s.Bind(1, kind).Bind(2, scope).Bind(3, name);
        bool taken = s.Step();
        s.Reset();
        return taken;
    }
    void PutObject(const Object& o, const std::string& doc, bool insert) override {
        Stmt& s = insert
                      ? db_.Prepare(
                            "INSERT INTO objects (id, kind, tenant, name, revision, doc, scope) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)"
                        )
                      : db_.Prepare(
                            "UPDATE objects SET kind = ?2, tenant = ?3, name = ?4, revision = ?5, "
                            "doc = ?6, scope = ?7 WHERE id = ?1"
                        );
        s.Bind(1, o.id).Bind(2, o.kind).Bind(3, o.tenant).Bind(4, o.name).Bind(5, o.revision);
        s.Bind(6, doc).Bind(7, NameScope(o)).Run();
    }
    void DeleteObject(std::string_view id) override {
        db_.Prepare("DELETE FROM objects WHERE id = ?").Bind(1, id).Run();
        db_.Prepare("DELETE FROM blobs WHERE id = ?").Bind(1, id).Run();
    }
    void PutBlob(std::string_view id, std::string_view bytes) override {
        db_.Prepare("INSERT OR REPLACE INTO blobs (id, data) VALUES (?, ?)")
            .Bind(1, id)
            .BindBlob(2, bytes)
            .Run();
    }
    void AppendChange(const Change& c) override {
        Stmt& s = db_.Prepare(
            "INSERT INTO changes (revision, type, kind, id, tenant, doc) VALUES (?, ?, ?, ?, ?, ?)"
        );
        s.Bind(1, c.revision).Bind(2, ChangeTypeName(c.type)).Bind(3, c.kind).Bind(4, c.id);
        s.Bind(5, c.tenant).Bind(6, c.doc).Run();
    }
    std::optional<std::pair<std::string, std::string>>
    GetIdempotency(std::string_view scope, std::string_view key) override {
        Stmt& s =
            db_.Prepare("SELECT request_hash, doc FROM idempotency WHERE scope = ? AND key = ?");
        s.Bind(1, scope).Bind(2, key);
        if (!s.Step()) {
            return std::nullopt;
        }
        auto out = std::make_pair(s.Text(0), s.Text(1));
        s.Reset();
        return out;
    }
    void PutIdempotency(const Idempotency& i, const std::string& doc, std::string_view at)
        override {
        Stmt& s = db_.Prepare(
            "INSERT INTO idempotency (scope, key, request_hash, doc, created_at) VALUES (?, ?, ?, "
            "?, ?)"
        );
        s.Bind(1, i.scope).Bind(2, i.key).Bind(3, i.request_hash).Bind(4, doc).Bind(5, at).Run();
    }
    std::optional<Token> GetToken(std::string_view id) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE id = ?", kTokenCols);
        Stmt& s = db_.Prepare(sql.c_str());
        s.Bind(1, id);
        if (!s.Step()) {
            return std::nullopt;
        }
        Token t = ReadToken(s);
        s.Reset();
        return t;
    }
    void PutToken(const Token& t, bool insert) override {
        Stmt& s =
            insert ? db_.Prepare(
                         "INSERT INTO tokens (id, hash, tenant, role, name, user_id, created_at, "
                         "expires_at, revoked_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                     )
                   : db_.Prepare(
                         "UPDATE tokens SET hash = ?2, tenant = ?3, role = ?4, name = ?5, "
                         "user_id = ?6, created_at = ?7, expires_at = ?8, revoked_at = ?9, "
                         "created_by = ?10 WHERE id = ?1"
                     );
        s.Bind(1, t.id).Bind(2, t.hash).Bind(3, t.tenant).Bind(4, t.role).Bind(5, t.name);
        s.Bind(6, t.user_id).Bind(7, t.created_at).Bind(8, t.expires_at).Bind(9, t.revoked_at);
        s.Bind(10, t.created_by).Run();
    }
    void InsertAudit(const StoredAuditEvent& se) override {
        const AuditEvent& e = se.event;
        Stmt& s = db_.Prepare(
            "INSERT INTO audit (seq, time, actor, tenant, action, object, request_id, source, "
            "outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        s.Bind(1, e.seq).Bind(2, e.time).Bind(3, e.actor).Bind(4, e.tenant).Bind(5, e.action);
        s.Bind(6, e.object).Bind(7, e.request_id).Bind(8, e.source).Bind(9, e.outcome);
        s.Bind(10, se.prev_hash).Bind(11, se.hash).Run();
    }
    void CompactChanges(int64_t through) override {
        Stmt& s = db_.Prepare(
            "UPDATE meta SET value = max(value, ?) WHERE key = 'compacted' RETURNING value"
        );
        s.Bind(1, through);
        s.Step();
        int64_t upto = s.Int(0);
        s.Reset();
        db_.Prepare("DELETE FROM changes WHERE revision <= ?").Bind(1, upto).Run();
    }
    void ExpireIdempotency(std::string_view before) override {
        db_.Prepare("DELETE FROM idempotency WHERE created_at < ?").Bind(1, before).Run();
    }

private:
    Db& db_;
    bool open_ = true;
};

class SqliteReader final : public Reader {
public:
    SqliteReader(const std::string& path, size_t n) {
        for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) {
            auto db = std::make_unique<Db>(path, /*readonly=*/true);
            pool_.Add(std::move(db));
        }
    }

    std::optional<std::string> GetDoc(std::string_view id) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare("SELECT doc FROM objects WHERE id = ?");
        s.Bind(1, id);
        return OneText(s);
    }

    std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare("SELECT doc FROM objects WHERE kind = ? AND scope = ? AND name = ?");
        s.Bind(1, kind).Bind(2, scope).Bind(3, name);
        return OneText(s);
    }

    std::optional<std::string> GetBlob(std::string_view id) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare("SELECT data FROM blobs WHERE id = ?");
        s.Bind(1, id);
        return OneText(s);
    }

    std::vector<std::pair<std::string, int64_t>>
    CountBy(std::string_view kind, std::string_view tenant, std::string_view field) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare(
            "SELECT coalesce(json_extract(doc, '$.spec.' || ?3), ''), count(*) FROM objects "
            "WHERE kind = ?1 AND tenant = ?2 AND json_extract(doc, "
            "'$.metadata.deletion_requested_at') "
            "IS NULL GROUP BY 1"
        );
        s.Bind(1, kind).Bind(2, tenant).Bind(3, field);
        std::vector<std::pair<std::string, int64_t>> out;
        while (s.Step()) {
            out.emplace_back(s.Text(0), s.Int(1));
        }
        return out;
    }

    std::pair<std::vector<std::string>, int64_t> ListDocs(const ListQuery& q, size_t chunk)
        override {
        auto db = pool_.Acquire();
        db->Prepare("BEGIN").Run();
        std::pair<std::vector<std::string>, int64_t> out;
        try {
            out.second = Meta(*db, "revision");
            Stmt& s = q.tenant ? db->Prepare(
                                     "SELECT doc FROM objects WHERE kind = ?1 AND tenant = ?4 "
                                     "AND id > ?2 ORDER BY id LIMIT ?3"
                                 )
                               : db->Prepare(
                                     "SELECT doc FROM objects WHERE kind = ?1 AND id > ?2 "
                                     "ORDER BY id LIMIT ?3"
                                 );
            s.Bind(1, q.kind).Bind(2, q.after_id).Bind(3, static_cast<int64_t>(chunk));
            if (q.tenant) {
                s.Bind(4, *q.tenant);
            }
            while (s.Step()) {
                out.first.push_back(s.Text(0));
            }
        } catch (...) {
            db->Prepare("ROLLBACK").Run();
            throw;
        }
        db->Prepare("COMMIT").Run();
        return out;
    }

    std::vector<Change> ChangesAfter(int64_t revision, size_t limit) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare(
            "SELECT revision, type, kind, id, tenant, doc FROM changes WHERE revision > ? "
            "ORDER BY revision LIMIT ?"
        );
        s.Bind(1, revision).Bind(2, static_cast<int64_t>(limit));
        std::vector<Change> out;
        while (s.Step()) {
            Change c;
            c.revision = s.Int(0);
            c.type = ChangeTypeFromName(s.Text(1));
            c.kind = s.Text(2);
            c.id = s.Text(3);
            c.tenant = s.Text(4);
            c.doc = s.Text(5);
            out.push_back(std::move(c));
        }
        return out;
    }

    int64_t CurrentRevision() override {
        auto db = pool_.Acquire();
        return Meta(*db, "revision");
    }
    int64_t CompactedThrough() override {
        auto db = pool_.Acquire();
        return Meta(*db, "compacted");
    }

    std::optional<Token> TokenByHash(std::string_view hash) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE hash = ?", kTokenCols);
        return OneToken(sql.c_str(), hash);
    }
    std::optional<Token> TokenById(std::string_view id) override {
        static const std::string sql =
            fmt::format("SELECT {} FROM tokens WHERE id = ?", kTokenCols);
        return OneToken(sql.c_str(), id);
    }
    std::vector<Token> ListTokens(const std::optional<std::string>& tenant) override {
        static const std::string all = fmt::format("SELECT {} FROM tokens ORDER BY id", kTokenCols);
        static const std::string one =
            fmt::format("SELECT {} FROM tokens WHERE tenant = ? ORDER BY id", kTokenCols);
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare(tenant ? one.c_str() : all.c_str());
        if (tenant) {
            s.Bind(1, *tenant);
        }
        std::vector<Token> out;
        while (s.Step()) {
            out.push_back(ReadToken(s));
        }
        return out;
    }

    std::vector<StoredAuditEvent> ListAudit(const AuditQuery& q) override {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare(
            "SELECT seq, time, actor, tenant, action, object, request_id, source, outcome, "
            "prev_hash, hash FROM audit WHERE seq > ?1 AND (?2 = '' OR tenant = ?2) AND "
            "(?3 = '' OR actor = ?3) AND (?4 = '' OR action = ?4) AND (?5 = '' OR time >= ?5) "
            "AND (?6 = '' OR time <= ?6) ORDER BY seq LIMIT ?7"
        );
        s.Bind(1, q.after_seq).Bind(2, q.tenant).Bind(3, q.actor).Bind(4, q.action);
        s.Bind(5, q.since).Bind(6, q.until).Bind(7, static_cast<int64_t>(q.limit));
        std::vector<StoredAuditEvent> out;
        while (s.Step()) {
            StoredAuditEvent se;
            AuditEvent& e = se.event;
            e.seq = s.Int(0);
            e.time = s.Text(1);
            e.actor = s.Text(2);
            e.tenant = s.Text(3);
            e.action = s.Text(4);
            e.object = s.Text(5);
            e.request_id = s.Text(6);
            e.source = s.Text(7);
            e.outcome = s.Text(8);
            se.prev_hash = s.Text(9);
            se.hash = s.Text(10);
            out.push_back(std::move(se));
        }
        return out;
    }

    void Ping() override {
        auto db = pool_.Acquire();
        Meta(*db, "revision");
    }

private:
    static int64_t Meta(Db& db, std::string_view key) {
        Stmt& s = db.Prepare("SELECT value FROM meta WHERE key = ?");
        s.Bind(1, key);
        int64_t v = s.Step() ? s.Int(0) : 0;
        s.Reset();
        return v;
    }
    std::optional<Token> OneToken(const char* sql, std::string_view arg) {
        auto db = pool_.Acquire();
        Stmt& s = db->Prepare(sql);
        s.Bind(1, arg);
        if (!s.Step()) {
            return std::nullopt;
        }
        Token t = ReadToken(s);
        s.Reset();
        return t;
    }

    Pool<Db> pool_;
};

// Holds an exclusive flock on "<db>.lock" so that two servers never share one database file
// (each would otherwise trust a cache the other cannot update).
class ExclusiveLock {
public:
    explicit ExclusiveLock(const std::string& path) {
        fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            if (fd_ >= 0) {
                ::close(fd_);
            }
            throw StoreFault(fmt::format(
                "{} is in use by another hangar process (lock {}.lock); give each server its own "
                "--data-dir, or share PostgreSQL",
                path,
                path
            ));
        }
    }
    ~ExclusiveLock() { ::close(fd_); }
    ExclusiveLock(const ExclusiveLock&) = delete;
    ExclusiveLock& operator=(const ExclusiveLock&) = delete;

private:
    int fd_ = -1;
};

class SqliteBackend final : public Backend {
public:
    SqliteBackend(const std::string& path, size_t readers)
        : lock_(path), writer_(path, /*readonly=*/false) {
        writer_.Exec("PRAGMA journal_mode = WAL");
        writer_.Exec("PRAGMA synchronous = FULL");
        writer_.Exec("PRAGMA cache_size = -65536");  // 64 MiB: the writer re-reads index pages
        writer_.Exec("PRAGMA temp_store = MEMORY");
        Migrate();
        reader_ = std::make_unique<SqliteReader>(path, readers);
    }
    std::string_view Name() const override { return "sqlite"; }
    std::unique_ptr<Tx> Begin() override { return std::make_unique<SqliteTx>(writer_); }
    Reader& reader() override { return *reader_; }
    bool SingleWriter() const override { return true; }

private:
    void Migrate() {
        writer_.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
        Stmt& s = writer_.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
        s.Step();
        int64_t have = s.Int(0);
        s.Reset();
        int64_t want = static_cast<int64_t>(std::size(kMigrations));
        if (have > want) {
            throw StoreFault(fmt::format(
                "the database is at schema version {}, newer than this binary knows ({}); "
                "upgrade hangar",
                have,
                want
            ));
        }
        for (int64_t v = have + 1; v <= want; ++v) {
            writer_.Exec("BEGIN IMMEDIATE");
            try {
                writer_.Exec(kMigrations[v - 1]);
                writer_.Prepare("INSERT INTO schema_migrations (version) VALUES (?)")
                    .Bind(1, v)
                    .Run();
                writer_.Exec("COMMIT");
            } catch (...) {
                writer_.Exec("ROLLBACK");
                throw;
            }
        }
    }

    ExclusiveLock lock_;
    Db writer_;
    std::unique_ptr<SqliteReader> reader_;
};

}  // namespace

std::unique_ptr<Backend> OpenSqlite(const std::string& path, size_t readers) {
    if (auto parent = std::filesystem::path(path).parent_path(); !parent.empty()) {
        std::filesystem::create_directories(parent);
    }
    return std::make_unique<SqliteBackend>(path, readers);
}

}  // namespace hangar::store
