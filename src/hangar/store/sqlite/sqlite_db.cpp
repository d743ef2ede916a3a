#include "hangar/store/sqlite/sqlite_db.hpp"

#include <fmt/format.h>

#include "hangar/store/backend.hpp"

namespace hangar::store::sqlite {

Stmt& Stmt::Bind(int i, std::string_view v) {
    if (sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
    }
    return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view v) {
    if (sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) !=
        SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
    }
    return *this;
}

Stmt& Stmt::Bind(int i, int64_t v) {
    if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
    }
    return *this;
}

Stmt& Stmt::BindStatic(int i, std::string_view v) {
    if (sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) !=
        SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
    }
    return *this;
}

Stmt& Stmt::BindReal(int i, double v) {
    if (sqlite3_bind_double(s_, i, v) != SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
    }
    return *this;
}

bool Stmt::Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    throw StoreFault(fmt::format("sqlite: {} ({})", sqlite3_errmsg(db_), sqlite3_sql(s_)));
}

void Stmt::Run() {
    while (Step()) {
    }
}

void Stmt::Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    if (p == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col))};
}

int64_t Stmt::Int(int col) const {
    return sqlite3_column_int64(s_, col);
}

Db::Db(const std::string& path, bool readonly) {
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreFault(fmt::format("cannot open {}: {}", path, msg));
    }
    sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() {
    cache_.clear();
    sqlite3_close(db_);
}

void Db::Exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err != nullptr ? err : "unknown error";
        sqlite3_free(err);
        throw StoreFault(fmt::format("sqlite: {}", msg));
    }
}

Stmt& Db::Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
        it->second->Reset();
        return *it->second;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
        throw StoreFault(fmt::format("sqlite prepare: {} ({})", sqlite3_errmsg(db_), sql));
    }
    auto [pos, _] = cache_.emplace(sql, std::make_unique<Stmt>(db_, s));
    return *pos->second;
}

}  // namespace hangar::store::sqlite
