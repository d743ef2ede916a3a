#pragma once
// What a storage engine provides to the generic Store: transactions for the single writer
// and pooled snapshot reads. Infrastructure faults are thrown (StoreFault); expected failures
// (not found, conflict) are decided by the generic code in store.cpp, once for every engine.

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/store/types.hpp"

namespace hangar::store {

struct StoreFault : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Tx {
public:
    virtual ~Tx() = default;
    virtual void Savepoint() = 0;
    virtual void RollbackToSavepoint() = 0;
    virtual void ReleaseSavepoint() = 0;
    virtual void Commit() = 0;
    virtual void Rollback() = 0;

    // The revision and audit-chain heads, read once per batch (and locked, where several
    // replicas write) and written back once before the commit.
    struct Heads {
        int64_t revision = 0;
        int64_t audit_seq = 0;  // the last event's sequence number
        std::string audit_hash;
    };
    virtual Heads LoadHeads() = 0;
    virtual void SaveHeads(const Heads& h) = 0;
    virtual std::optional<std::string> GetDoc(std::string_view id) = 0;
    virtual std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) = 0;
    // Is `name` used by another object of `kind` in the naming scope (see NameScope)?
    virtual bool
    NameTaken(std::string_view kind, std::string_view scope, std::string_view name) = 0;
    virtual void PutObject(const Object& o, const std::string& doc, bool insert) = 0;
    // Deletes the object and its blob.
    virtual void DeleteObject(std::string_view id) = 0;
    // Bytes kept beside object `id` (no document, change log or cache holds them).
    virtual void PutBlob(std::string_view id, std::string_view bytes) = 0;
    virtual void AppendChange(const Change& c) = 0;
    // Returns {request_hash, response doc} of an earlier create with this key.
    virtual std::optional<std::pair<std::string, std::string>>
    GetIdempotency(std::string_view scope, std::string_view key) = 0;
    virtual void
    PutIdempotency(const Idempotency& idem, const std::string& doc, std::string_view at) = 0;
    virtual std::optional<Token> GetToken(std::string_view id) = 0;
    virtual void PutToken(const Token& t, bool insert) = 0;
    virtual void InsertAudit(const StoredAuditEvent& e) = 0;
    // Drops change-log entries up to `through`, remembering how far it dropped.
    virtual void CompactChanges(int64_t through) = 0;
    // Forgets idempotency keys recorded before `before` (RFC 3339).
    virtual void ExpireIdempotency(std::string_view before) = 0;
};

class Reader {
public:
    virtual ~Reader() = default;
    virtual std::optional<std::string> GetDoc(std::string_view id) = 0;
    virtual std::optional<std::string>
    FindDoc(std::string_view kind, std::string_view scope, std::string_view name) = 0;
    virtual std::optional<std::string> GetBlob(std::string_view id) = 0;
    // Objects of q.kind (and q.tenant) with id > after_id in id order, at most `chunk`, plus the
    // revision they were read at.
    virtual std::pair<std::vector<std::string>, int64_t>
    ListDocs(const ListQuery& q, size_t chunk) = 0;
    // Live objects (no deletion requested) of a kind in a tenant, counted by the value of the
    // top-level spec field `field` ("" when absent). `field` is [a-z_]+, checked by the Store.
    virtual std::vector<std::pair<std::string, int64_t>>
    CountBy(std::string_view kind, std::string_view tenant, std::string_view field) = 0;
    virtual std::vector<Change> ChangesAfter(int64_t revision, size_t limit) = 0;
    virtual int64_t CurrentRevision() = 0;
    virtual int64_t CompactedThrough() = 0;
    virtual std::optional<Token> TokenByHash(std::string_view hash) = 0;
    virtual std::optional<Token> TokenById(std::string_view id) = 0;
    virtual std::vector<Token> ListTokens(const std::optional<std::string>& tenant) = 0;
    virtual std::vector<StoredAuditEvent> ListAudit(const AuditQuery& q) = 0;
    virtual void Ping() = 0;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string_view Name() const = 0;
    virtual std::unique_ptr<Tx> Begin() = 0;
    virtual Reader& reader() = 0;
    // True when this process is the database's only writer (it may then cache documents).
    virtual bool SingleWriter() const { return false; }
    // Engines shared by several replicas call `wake` when another replica commits.
    // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep it
    virtual void ListenForChanges(std::function<void()> /*wake*/) {}
    virtual void StopListening() {}
};

std::unique_ptr<Backend> OpenSqlite(const std::string& path, size_t readers);
std::unique_ptr<Backend> OpenPostgres(const std::string& conninfo, size_t readers);

}  // namespace hangar::store
