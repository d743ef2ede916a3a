#pragma once
// A minimal RAII layer over libpq: text parameters in, text columns out.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <libpq-fe.h>

namespace hangar::store::pg {

class PgResult {
public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    int Rows() const { return PQntuples(r_.get()); }
    std::string Text(int row, int col) const {
        return {
            PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
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
    // NOLINTNEXTLINE(google-explicit-constructor)
    Param(int64_t v) : owned(std::to_string(v)), text(owned) {}
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
    // The named statement for `sql`, prepared on first use, or null (too many, or it cannot be
    // prepared: the plain path then runs it and reports any error). A prepared statement skips
    // PostgreSQL's parse and plan, which were a fifth of its CPU for Hangar's one-row reads.
    const char* Prepared(const char* sql, int params);

    struct Hash {
        using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    static constexpr size_t kMaxPrepared = 256;  // dynamic SQL beyond this runs unprepared
    PGconn* conn_ = nullptr;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> prepared_;
};

}  // namespace hangar::store::pg
