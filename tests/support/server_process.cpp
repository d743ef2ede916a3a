#include "server_process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hangar::testing {

std::string HangarBinary() {
    const char* b = std::getenv("HANGAR_BIN");  // NOLINT(concurrency-mt-unsafe)
    return b != nullptr ? b : HANGAR_BIN_DEFAULT;
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hangar-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p != nullptr ? p : "";
}

TempDir::~TempDir() {
    if (std::getenv("HANGAR_KEEP_TEST_DIRS") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

ServerProcess::ServerProcess(
    std::string data_dir,
    std::vector<std::string> extra,
    std::map<std::string, std::string> env
)
    : data_dir_(std::move(data_dir)), extra_(std::move(extra)), env_(std::move(env)) {
    log_path_ = data_dir_ + "/server.log";
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) {
        Kill();
    }
}

namespace {
std::string ReadFile(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
}  // namespace

std::vector<std::string> KillProcessesUsing(const std::string& dir) {
    std::vector<std::string> found;
    if (dir.empty()) {
        return found;
    }
    const std::string prefix = dir + "/";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string n = e.path().filename().string();
        if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        pid_t pid = std::stoi(n);
        if (pid == ::getpid()) {
            continue;
        }
        std::error_code lec;
        std::string cwd = std::filesystem::read_symlink(e.path() / "cwd", lec).string();
        std::string cmd = ReadFile(e.path().string() + "/cmdline");
        std::string env = std::string(1, '\0') + ReadFile(e.path().string() + "/environ");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        bool hit = cwd.starts_with(prefix) || cwd == dir || cmd.find(prefix) != std::string::npos ||
                   env.find(std::string("\0DATA_DIR=", 10) + prefix) != std::string::npos;
        if (!hit) {
            continue;
        }
        pid_t group = ::getpgid(pid);
        ::kill(group > 1 && group != ::getpgrp() ? -group : pid, SIGKILL);
        for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {  // bounded: 2 s
            ::waitpid(pid, nullptr, WNOHANG);                   // in case it is our child
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        found.push_back("pid " + n + ": " + cmd + "(cwd " + cwd + ")");
    }
    return found;
}

pid_t SpawnLogged(
    std::vector<std::string> args,
    const std::string& log_path,
    const std::map<std::string, std::string>& env
) {
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        // A test that crashes takes its servers with it (no stray hangar or prometheus left).
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        for (const auto& [k, v] : env) {
            ::setenv(k.c_str(), v.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

bool ServerProcess::Start() {
    std::filesystem::create_directories(data_dir_);
    // Each start appends; the port is read from the last "listening" line.
    size_t log_offset =
        std::filesystem::exists(log_path_) ? std::filesystem::file_size(log_path_) : 0;
    std::vector<std::string> args = {
        HangarBinary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir_};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = SpawnLogged(args, log_path_, env_);
    std::regex re(R"("msg":"listening".*"port":(\d+))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        std::string log = ReadFile(log_path_);
        if (log.size() > log_offset) {
            std::smatch m;
            std::string tail = log.substr(log_offset);
            if (std::regex_search(tail, m, re)) {
                port_ = std::stoi(m[1]);
                return true;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

int ServerProcess::Stop() {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return -1;
}

void ServerProcess::Kill() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

bool ServerProcess::Running() {
    if (pid_ <= 0) {
        return false;
    }
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
}

std::string ServerProcess::AdminToken() const {
    std::string t = ReadFile(data_dir_ + "/admin-token");
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) {
        t.pop_back();
    }
    return t;
}

std::string ServerProcess::Log() const {
    return ReadFile(log_path_);
}

int RunCli(
    const std::vector<std::string>& args,
    std::string& out,
    std::string& err,
    std::map<std::string, std::string> env
) {
    TempDir tmp;
    std::string out_path = tmp.path() + "/out";
    std::string err_path = tmp.path() + "/err";
    pid_t pid = ::fork();
    if (pid == 0) {
        int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::unsetenv("HANGAR_SERVER");              // NOLINT(concurrency-mt-unsafe)
        ::unsetenv("HANGAR_TOKEN");               // NOLINT(concurrency-mt-unsafe)
        ::setenv("HOME", tmp.path().c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
        for (const auto& [k, v] : env) {
            ::setenv(k.c_str(), v.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
        }
        std::vector<std::string> full = {HangarBinary()};
        full.insert(full.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : full) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    out = ReadFile(out_path);
    err = ReadFile(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace hangar::testing
