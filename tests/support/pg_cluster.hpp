#pragma once
// A throwaway PostgreSQL cluster from Debian's postgresql-15 binaries: initdb and pg_ctl in a
// temporary folder, listening on a free loopback port. Nothing pre-installed or pre-started.
// As root (CI), the cluster runs as the `postgres` system user, since PostgreSQL refuses root.

#include <string>

namespace hangar::testing {

class PgCluster {
public:
    PgCluster();
    ~PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    // postgres://... for a new, empty database.
    std::string NewDatabase(const std::string& name);
    std::string Url(const std::string& db) const;

private:
    std::string dir_, bin_, error_;
    int port_ = 0;
    bool ok_ = false;
    bool as_postgres_ = false;
    int Run(const std::string& cmd);
};

}  // namespace hangar::testing
