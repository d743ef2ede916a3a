#pragma once
// A minimal RAII layer over libpq: text parameters in, text columns out.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

namespace hangar::store::pg {

class PgResult {
public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    int Rows() const { return PQntuples(r_.get()); }
    std::string Text(int row, int col) const {
        return std::string(PQgetvalue(r_.get(), row, col), PQgetlength(r_.get(), row, col));
    }
    int64_t Int(int row, int col) const { return std::stoll(Text(row, col)); }

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

// A parameter: text, or an integer rendered as text.
struct Param {
    Param(std::string_view s) : text(s) {}    // NOLINT(google-explicit-constructor)
    Param(const std::string& s) : text(s) {}  // NOLINT(google-explicit-constructor)
    Param(const char* s) : text(s) {}         // NOLINT(google-explicit-constructor)
    Param(int64_t v)
        : owned(std::to_string(v)), text(owned) {}  // NOLINT(google-explicit-constructor)
    Param(const Param& o)
        : owned(o.owned), text(o.owned.empty() ? o.text : std::string_view(owned)) {}
    Param& operator=(const Param&) = delete;
    std::string owned;
    std::string_view text;
};

class PgConn {
public:
    explicit PgConn(const std::string& conninfo);
    ~PgConn();
    PgConn(const PgConn&) = delete;
    PgConn& operator=(const PgConn&) = delete;

    // Throws StoreFault on failure.
    PgResult Exec(const char* sql, std::initializer_list<Param> params = {});
    // Several statements at once, no parameters (migrations).
    void ExecScript(const char* sql);
    PGconn* raw() { return conn_; }

private:
    PGconn* conn_ = nullptr;
};

}  // namespace hangar::store::pg
