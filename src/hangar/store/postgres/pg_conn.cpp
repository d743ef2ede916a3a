#include "hangar/store/postgres/pg_conn.hpp"

#include <fmt/format.h>

#include "hangar/store/backend.hpp"

namespace hangar::store::pg {

PgConn::PgConn(const std::string& conninfo) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn_);
        PQfinish(conn_);
        conn_ = nullptr;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        throw StoreFault(fmt::format("cannot connect to PostgreSQL: {}", msg));
    }
    PgResult r(PQexec(conn_, "SET client_min_messages = warning"));
}

PgConn::~PgConn() {
    if (conn_ != nullptr) {
        PQfinish(conn_);
    }
}

PgResult PgConn::Exec(const char* sql, std::initializer_list<Param> params) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<std::string> copies;  // libpq wants NUL-terminated text
    copies.reserve(params.size());
    for (const Param& p : params) {
        copies.emplace_back(p.text);
    }
    for (const auto& c : copies) {
        values.push_back(c.c_str());
        lengths.push_back(static_cast<int>(c.size()));
    }
    const int n = static_cast<int>(values.size());
    const char* name = Prepared(sql, n);
    PGresult* r =
        name != nullptr
            ? PQexecPrepared(conn_, name, n, values.data(), lengths.data(), nullptr, 0)
            : PQexecParams(conn_, sql, n, nullptr, values.data(), lengths.data(), nullptr, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        if (PQstatus(conn_) == CONNECTION_BAD) {
            PQreset(conn_);
            prepared_.clear();  // a new session has none of them
        }
        throw StoreFault(fmt::format("postgres: {} ({})", msg, sql));
    }
    return PgResult(r);
}

const char* PgConn::Prepared(const char* sql, int params) {
    if (auto it = prepared_.find(std::string_view(sql)); it != prepared_.end()) {
        return it->second.c_str();
    }
    if (prepared_.size() >= kMaxPrepared || PQtransactionStatus(conn_) == PQTRANS_INERROR) {
        return nullptr;
    }
    std::string name = fmt::format("hangar_{}", prepared_.size());
    PGresult* p = PQprepare(conn_, name.c_str(), sql, params, nullptr);
    bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
    PQclear(p);
    if (!ok) {
        return nullptr;
    }
    return prepared_.emplace(sql, std::move(name)).first->second.c_str();
}

void PgConn::ExecScript(const char* sql) {
    PGresult* r = PQexec(conn_, sql);  // returns the last statement's result
    ExecStatusType st = PQresultStatus(r);
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        throw StoreFault(fmt::format("postgres: {}", msg));
    }
}

}  // namespace hangar::store::pg
