#include "pg_cluster.hpp"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hangar::testing {

namespace {
int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}
}  // namespace

int PgCluster::Run(const std::string& cmd) {
    std::string full = as_postgres_ ? fmt::format("runuser -u postgres -- sh -c '{}'", cmd) : cmd;
    return std::system(full.c_str());  // NOLINT(concurrency-mt-unsafe)
}

PgCluster::PgCluster() {
    bin_ = "/usr/lib/postgresql/15/bin";
    if (!std::filesystem::exists(bin_ + "/initdb")) {
        error_ = "postgresql-15 is not installed (run scripts/setup)";
        return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "hangar-pg-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) {
        error_ = "mkdtemp failed";
        return;
    }
    dir_ = p;
    as_postgres_ = ::geteuid() == 0;
    if (as_postgres_) {
        passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr) {
            error_ = "running as root and there is no postgres user to run the cluster as";
            return;
        }
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            error_ = "chown failed";
            return;
        }
    }
    port_ = FreePort();
    std::string data = dir_ + "/data";
    if (Run(fmt::format(
            "{}/initdb -D {} -U hangar -A trust --no-sync -E UTF8 >{}/initdb.log 2>&1",
            bin_,
            data,
            dir_
        )) != 0) {
        error_ = "initdb failed; see " + dir_ + "/initdb.log";
        return;
    }
    std::string opts = fmt::format(
        "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB",
        port_,
        dir_
    );
    if (Run(fmt::format(
            "{}/pg_ctl -D {} -o \"{}\" -l {}/pg.log -w -t 60 start >/dev/null",
            bin_,
            data,
            opts,
            dir_
        )) != 0) {
        error_ = "pg_ctl start failed; see " + dir_ + "/pg.log";
        return;
    }
    ok_ = true;
}

PgCluster::~PgCluster() {
    if (ok_) {
        Run(fmt::format("{}/pg_ctl -D {}/data -m immediate -w stop >/dev/null 2>&1", bin_, dir_));
    }
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

std::string PgCluster::Url(const std::string& db) const {
    return fmt::format("postgres://hangar@127.0.0.1:{}/{}", port_, db);
}

std::string PgCluster::NewDatabase(const std::string& name) {
    Run(fmt::format("{}/createdb -h 127.0.0.1 -p {} -U hangar {}", bin_, port_, name));
    return Url(name);
}

}  // namespace hangar::testing
