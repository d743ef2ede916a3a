#pragma once
// A minimal RAII layer over the SQLite C API: a connection with a statement cache.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace hangar::store::sqlite {

class Stmt {
public:
    Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& Bind(int i, std::string_view v);
    Stmt& Bind(int i, int64_t v);
    Stmt& BindReal(int i, double v);
    // Text the caller keeps alive until the statement is reset (no copy).
    Stmt& BindStatic(int i, std::string_view v);
    Stmt& BindBlob(int i, std::string_view v);
    // True while there is a row; throws StoreFault on error.
    bool Step();
    void Run();  // steps to completion
    void Reset();
    std::string Text(int col) const;
    int64_t Int(int col) const;
    double Real(int col) const { return sqlite3_column_double(s_, col); }
    bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

private:
    sqlite3* db_;
    sqlite3_stmt* s_;
};

class Db {
public:
    Db(const std::string& path, bool readonly);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void Exec(std::string_view sql);
    // A cached prepared statement, reset and with bindings cleared.
    Stmt& Prepare(const char* sql);
    // Rows the last INSERT, UPDATE or DELETE changed.
    int64_t Changes() const { return sqlite3_changes64(db_); }
    int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

private:
    sqlite3* db_ = nullptr;
    std::map<const char*, std::unique_ptr<Stmt>> cache_;
};

}  // namespace hangar::store::sqlite
