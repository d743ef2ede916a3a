#pragma once
// Starts the real `hangar serve` on a loopback port (port 0; the port is read from its log)
// with its own data folder, and stops it (SIGTERM, or SIGKILL for crash tests).

#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace hangar::testing {

std::string HangarBinary();
// A fresh temporary folder, removed with the object.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Kills (by process group) every process other than this one whose working folder, command
// line or DATA_DIR lies inside `dir`, and describes each ("pid 123: cmd... (cwd ...)"). Instances
// outlive a stopped server by design (the next one adopts them), so a test that stops its
// server without deleting them leaves them running: the fixture calls this to find them.
std::vector<std::string> KillProcessesUsing(const std::string& dir);

class ServerProcess {
public:
    // `data_dir` is kept across restarts; `extra` are more serve flags.
    explicit ServerProcess(
        std::string data_dir,
        std::vector<std::string> extra = {},
        std::map<std::string, std::string> env = {}
    );
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    bool Start();  // waits until it listens; false if it did not
    int Stop();    // SIGTERM; returns the exit status (or -1)
    void Kill();   // SIGKILL
    bool Running();
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string AdminToken() const;
    std::string Log() const;
    const std::string& data_dir() const { return data_dir_; }

private:
    std::string data_dir_;
    std::vector<std::string> extra_;
    std::map<std::string, std::string> env_;
    std::string log_path_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// Forks and execs `args` (args[0] a path) with stdout and stderr appended to `log_path` and
// `env` set; returns the child's pid (or -1).
pid_t SpawnLogged(
    std::vector<std::string> args,
    const std::string& log_path,
    const std::map<std::string, std::string>& env = {}
);

// Runs the hangar CLI; returns exit code, stdout in `out`, stderr in `err`.
int RunCli(
    const std::vector<std::string>& args,
    std::string& out,
    std::string& err,
    std::map<std::string, std::string> env = {}
);

}  // namespace hangar::testing
