#include "hangar/fleet/process_provisioner.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/log.hpp"

namespace hangar::fleet {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::ErrorCode;
using core::Fail;
using Clock = std::chrono::steady_clock;
constexpr auto kExecHealthTimeout = std::chrono::seconds(5);

namespace {

std::string ReadFile(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool WriteFile(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
    return static_cast<bool>(f);
}

// Field 22 of /proc/<pid>/stat (start time in clock ticks), 0 if the process is gone or a zombie.
uint64_t StartTicks(pid_t pid) {
    std::string stat = ReadFile(fmt::format("/proc/{}/stat", pid));
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) {
        return 0;
    }
    std::istringstream in(stat.substr(close + 2));
    std::string field;
    char state = 0;
    in >> state;
    if (state == 'Z' || state == 'X') {
        return 0;
    }
    for (int i = 4; i <= 22 && in >> field; ++i) {
        if (i == 22) {
            return std::stoull(field);
        }
    }
    return 0;
}

int FreePort(int preferred) {
    auto try_bind = [](int port) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        int ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        socklen_t len = sizeof(a);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        ::close(fd);
        return ok == 0 ? static_cast<int>(ntohs(a.sin_port)) : 0;
    };
    if (preferred > 0) {
        if (int p = try_bind(preferred)) {
            return p;
        }
    }
    return try_bind(0);
}

// One HTTP GET on loopback: the status (0 if none) and the body, within `timeout`.
std::pair<int, std::string>
HttpGet(int port, const std::string& path, std::chrono::milliseconds timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left = [&] {
        return static_cast<int>(std::max<int64_t>(
            0,
            std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()
            )
                .count()
        ));
    };
    pollfd p{fd, POLLOUT, 0};
    std::string got;
    if (::poll(&p, 1, left()) == 1 && (p.revents & POLLOUT) != 0) {
        std::string req =
            "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) > 0) {
            p.events = POLLIN;
            char buf[16384];
            while (got.size() < (16u << 20) && ::poll(&p, 1, left()) == 1
            ) {  // bounded by time and size
                ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    break;
                }
                got.append(buf, static_cast<size_t>(n));
            }
        }
    }
    ::close(fd);
    if (got.size() < 12 || !got.starts_with("HTTP/1.")) {
        return {0, ""};
    }
    int status = std::atoi(got.c_str() + 9);
    size_t body = got.find("\r\n\r\n");
    std::string head = got.substr(0, body);
    std::string rest = body == std::string::npos ? "" : got.substr(body + 4);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return std::tolower(c);
    });
    if (lower.find("transfer-encoding: chunked") != std::string::npos) {
        std::string out;
        size_t pos = 0;
        for (int guard = 0; guard < 100000 && pos < rest.size(); ++guard) {
            size_t eol = rest.find("\r\n", pos);
            if (eol == std::string::npos) {
                break;
            }
            size_t n = std::strtoul(rest.c_str() + pos, nullptr, 16);
            if (n == 0 || eol + 2 + n > rest.size()) {
                break;
            }
            out.append(rest, eol + 2, n);
            pos = eol + 2 + n + 2;
        }
        rest = std::move(out);
    }
    return {status, rest};
}

// An HTTP health check's status code, or 0.
int HttpStatus(int port, const std::string& path, std::chrono::milliseconds timeout) {
    return HttpGet(port, path, timeout).first;
}

// A TCP health check: the port accepts a connection.
bool TcpOpen(int port, std::chrono::milliseconds timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (!open && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof(err);
        open = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
               ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    ::close(fd);
    return open;
}

// exec's argument form: pointers into `strings`, null-terminated (built before fork).
std::vector<char*> CStrings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& v : strings) {
        out.push_back(v.data());
    }
    out.push_back(nullptr);
    return out;
}

// Writes "<pid>\n" with write(2) alone (async-signal-safe, for a forked child).
void WritePid(int fd, pid_t pid) {
    char buf[24];
    int n = 0;
    char digits[20];
    int d = 0;
    auto v = static_cast<unsigned long>(pid);
    do {
        digits[d++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v > 0 && d < 20);
    while (d > 0) {
        buf[n++] = digits[--d];
    }
    buf[n++] = '\n';
    (void)!::write(fd, buf, static_cast<size_t>(n));
}

// In a forked child (its own session already): stdout and stderr appended to the logs, stdin
// from /dev/null, in `cwd`, no inherited descriptors, then the program. Never returns.
[[noreturn]] void
ExecInChild(const char* out_log, const char* err_log, const char* cwd, char** argv, char** envp) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);  // hangar ignores it; an ignored signal survives exec
    ::umask(022);                         // hangar's own 077 is for its data, not the instance's
    int out = ::open(out_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err = ::open(err_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    if (::chdir(cwd) != 0) {
        ::_exit(126);
    }
    for (int fd = 3; fd < 1024; ++fd) {
        ::close(fd);
    }
    ::execve(argv[0], argv, envp);
    // Only async-signal-safe calls between fork and exec: another thread may have held a lock
    // (stdio's, the allocator's) when we forked, and printf-like calls could wait on it forever.
    static constexpr char kMsg[] = "hangar: cannot run ";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    (void)!::write(2, argv[0], std::strlen(argv[0]));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
}

// Runs args to completion in its own process group (cwd, env, stdout and stderr appended to
// `log`); past `timeout` the whole group is killed. The exit status, or why there is none.
core::Result<int> RunToCompletion(
    std::vector<std::string> args,
    std::vector<std::string> env,
    const std::string& cwd,
    const std::string& log,
    std::chrono::milliseconds timeout
) {
    std::vector<char*> argv = CStrings(args), envp = CStrings(env);
    pid_t pid = ::fork();
    if (pid < 0) {
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format(
                "fork failed: {}", std::error_code(errno, std::generic_category()).message()
            )
        );
    }
    if (pid == 0) {
        ::setsid();
        ExecInChild(log.c_str(), log.c_str(), cwd.c_str(), argv.data(), envp.data());
    }
    auto deadline = Clock::now() + timeout;
    int status = 0;
    while (true) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (done < 0 && errno != EINTR) {
            return Fail(
                ErrorCode::kInternal,
                fmt::format(
                    "waitpid: {}", std::error_code(errno, std::generic_category()).message()
                )
            );
        }
        if (Clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);  // pid > 0 here: the child's own group
            ::waitpid(pid, nullptr, 0);
            return Fail(
                ErrorCode::kUnavailable,
                fmt::format("{} did not finish within {} ms", args[0], timeout.count())
            );
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

std::string Substitute(std::string s, const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
        for (size_t p; (p = s.find(k)) != std::string::npos;) {
            s.replace(p, k.size(), v);
        }
    }
    return s;
}

}  // namespace

ProcessProvisioner::ProcessProvisioner(ProcessOptions opts) : opts_(std::move(opts)) {
    fs::create_directories(opts_.root);
    opts_.root =
        fs::absolute(opts_.root).lexically_normal().string();  // instances chdir into their folder
    // How can we limit memory here? Try a cgroup of our own, v2 then v1; else RLIMIT_AS.
    std::string self = ReadFile("/proc/self/cgroup");
    std::istringstream lines(self);
    std::string line, v2_path, v1_path;
    while (std::getline(lines, line)) {
        if (line.rfind("0::", 0) == 0) {
            v2_path = line.substr(3);
        } else if (auto p = line.find(":memory:"); p != std::string::npos) {
            v1_path = line.substr(p + 8);
        }
    }
    auto probe = [](const std::string& base, const std::string& limit_file) {
        std::string dir = base + "/hangar-probe-" + std::to_string(::getpid());
        bool ok = ::mkdir(dir.c_str(), 0755) == 0 && fs::exists(dir + "/" + limit_file);
        ::rmdir(dir.c_str());
        return ok;
    };
    std::string v2 = "/sys/fs/cgroup" + v2_path;
    std::string v1 = "/sys/fs/cgroup/memory" + v1_path;
    if (fs::exists("/sys/fs/cgroup/cgroup.controllers") && probe(v2, "memory.max")) {
        limit_mode_ = "cgroup2";
        cgroup_base_ = v2;
    } else if (!v1_path.empty() && fs::exists(v1) && probe(v1, "memory.limit_in_bytes")) {
        limit_mode_ = "cgroup1";
        cgroup_base_ = v1;
    } else {
        limit_mode_ = "rlimit";
    }
    core::LogInfo(
        "process provisioner",
        {{"root", std::string_view(opts_.root)}, {"memory_limits", std::string_view(limit_mode_)}}
    );
}

std::string ProcessProvisioner::MakeCgroup(const std::string& id, int64_t memory_mb) {
    if (cgroup_base_.empty()) {
        return "";
    }
    std::string dir = cgroup_base_ + "/hangar-" + id;
    ::mkdir(dir.c_str(), 0755);
    std::string bytes = std::to_string(memory_mb * 1024 * 1024);
    bool ok = limit_mode_ == "cgroup2" ? WriteFile(dir + "/memory.max", bytes) &&
                                             WriteFile(dir + "/memory.swap.max", "0")
                                       : WriteFile(dir + "/memory.limit_in_bytes", bytes);
    if (limit_mode_ == "cgroup1") {
        WriteFile(dir + "/memory.memsw.limit_in_bytes", bytes);  // no swap either, where accounted
    }
    return ok ? dir : "";
}

uint64_t ProcessProvisioner::CgroupOoms(const std::string& cgroup) const {
    if (cgroup.empty()) {
        return 0;
    }
    std::string text =
        ReadFile(cgroup + (limit_mode_ == "cgroup2" ? "/memory.events" : "/memory.oom_control"));
    auto p = text.find("oom_kill ");
    return p == std::string::npos ? 0 : std::stoull(text.substr(p + 9));
}

ProcessProvisioner::Proc& ProcessProvisioner::Load(const std::string& id) {
    auto it = procs_.find(id);
    if (it != procs_.end()) {
        return it->second;
    }
    Proc p;
    // Adoption: what an earlier Hangar wrote about this instance.
    boost::system::error_code ec;
    json::value st = json::parse(ReadFile(Dir(id) + "/state.json"), ec);
    if (!ec && st.is_object()) {
        const auto& o = st.as_object();
        auto num = [&](const char* k) {
            return o.contains(k) && o.at(k).is_int64() ? o.at(k).as_int64() : 0;
        };
        auto str = [&](const char* k) {
            return o.contains(k) && o.at(k).is_string() ? std::string(o.at(k).as_string()) : "";
        };
        p.pid = static_cast<pid_t>(num("pid"));
        p.start_ticks = static_cast<uint64_t>(num("start_ticks"));
        p.port = static_cast<int>(num("port"));
        p.version = str("version");
        p.memory_mb = num("memory_mb");
        p.nonce = num("nonce");
        p.restarts = num("restarts");
        p.oom_kills = num("oom_kills");
        p.cgroup = str("cgroup");
        if (const json::value* ex = o.if_contains("extra_ports");
            ex != nullptr && ex->is_object()) {
            for (const auto& kv : ex->as_object()) {
                if (kv.value().is_int64()) {
                    p.extra_ports[std::string(kv.key())] = static_cast<int>(kv.value().as_int64());
                }
            }
        }
        p.cgroup_ooms = CgroupOoms(p.cgroup);
        if (p.pid > 0 && StartTicks(p.pid) != p.start_ticks) {
            p.pid = 0;  // it died while no Hangar was watching
        }
        if (p.pid > 0) {
            core::LogInfo(
                "adopted a running instance",
                {{"instance", std::string_view(id)}, {"pid", static_cast<int64_t>(p.pid)}}
            );
        }
    }
    return procs_.emplace(id, std::move(p)).first->second;
}

void ProcessProvisioner::Save(const std::string& id, const Proc& p) {
    json::object o{
        {"pid", p.pid},
        {"start_ticks", static_cast<int64_t>(p.start_ticks)},
        {"port", p.port},
        {"version", p.version},
        {"memory_mb", p.memory_mb},
        {"nonce", p.nonce},
        {"restarts", p.restarts},
        {"oom_kills", p.oom_kills},
        {"cgroup", p.cgroup}};
    json::object extra;
    for (const auto& [name, port] : p.extra_ports) {
        extra[name] = port;
    }
    o["extra_ports"] = std::move(extra);
    std::string tmp = Dir(id) + "/state.json.tmp";
    if (WriteFile(tmp, json::serialize(o))) {
        fs::rename(tmp, Dir(id) + "/state.json");
    }
}

// Notices an exit: reaps our child, reads the cgroup's OOM counter, records why.
void ProcessProvisioner::Refresh(const std::string& id, Proc& p) {
    if (p.pid <= 0) {
        return;
    }
    int status = 0;
    bool gone = false;
    std::string why;
    if (p.child) {
        pid_t r = ::waitpid(p.pid, &status, WNOHANG);
        if (r == p.pid) {
            gone = true;
            why = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                    : fmt::format("killed by signal {}", WTERMSIG(status));
        }
    } else if (StartTicks(p.pid) != p.start_ticks) {
        gone = true;
        why = "exited";
    }
    uint64_t ooms = CgroupOoms(p.cgroup);
    if (ooms > p.cgroup_ooms) {
        p.oom_kills += static_cast<int64_t>(ooms - p.cgroup_ooms);
        p.cgroup_ooms = ooms;
        why = fmt::format("OOM-killed at its {} MiB limit", p.memory_mb);
    }
    if (gone) {
        ::kill(-p.pid, SIGKILL);  // anything it left in its group
        p.pid = 0;
        p.crashed = true;
        p.last_exit = why;
        auto now = Clock::now();
        p.crashes.push_back(now);
        while (!p.crashes.empty() && now - p.crashes.front() > opts_.crash_loop_window) {
            p.crashes.pop_front();
        }
        auto backoff = opts_.restart_backoff * (1 << std::min<size_t>(p.crashes.size() - 1, 7));
        p.next_start = now + std::min<std::chrono::milliseconds>(backoff, std::chrono::seconds(60));
        core::Log(
            core::LogLevel::kWarn,
            "instance exited",
            {{"instance", std::string_view(id)}, {"why", std::string_view(why)}}
        );
        Save(id, p);
    }
}

// What {placeholders} in a recipe become for this instance.
std::map<std::string, std::string> ProcessProvisioner::Vars(const std::string& id, const Proc& p)
    const {
    std::map<std::string, std::string> vars = {
        {"{port}", std::to_string(p.port)},
        {"{data_dir}", Dir(id) + "/data"},
        {"{instance_id}", id}};
    for (const auto& [name, port] : p.extra_ports) {
        vars["{port:" + name + "}"] = std::to_string(port);
    }
    return vars;
}

std::vector<std::string> ProcessProvisioner::Environment(
    const std::string& id,
    int port,
    const Desired& want,
    const std::map<std::string, std::string>& vars
) const {
    std::string dir = Dir(id);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::string_view(*e).rfind("HANGAR_", 0) != 0) {  // never hand our secrets down
            env.emplace_back(*e);
        }
    }
    for (auto& e : env) {
        if (e.rfind("PATH=", 0) == 0 && !opts_.extra_path.empty()) {
            e = "PATH=" + opts_.extra_path + ":" + e.substr(5);
        }
    }
    env.push_back("PORT=" + std::to_string(port));
    env.push_back("DATA_DIR=" + dir + "/data");
    env.push_back("INSTANCE_ID=" + id);
    env.push_back("INSTANCE_CONFIG=" + dir + "/config.json");
    for (const auto& [key, value] : vars) {
        if (key.rfind("{port:", 0) == 0) {
            std::string name = key.substr(6, key.size() - 7);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
                return std::toupper(c);
            });
            env.push_back("PORT_" + name + "=" + value);
        }
    }
    if (const json::value* e = want.run.if_contains("env"); e != nullptr && e->is_object()) {
        for (const auto& kv : e->as_object()) {
            if (kv.value().is_string()) {
                env.push_back(
                    std::string(kv.key()) + "=" +
                    Substitute(std::string(kv.value().as_string()), vars)
                );
            }
        }
    }
    for (const auto& [key, value] : want.env) {
        env.push_back(key + "=" + value);
    }
    return env;
}

// Resolved here: execve would not search, and execvpe would search our PATH, not the instance's.
bool ProcessProvisioner::ResolveProgram(std::string& program) const {
    if (program.find('/') != std::string::npos) {
        return true;
    }
    const char* path_env = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
    std::string search =
        opts_.extra_path + ":" + (path_env != nullptr ? path_env : "/usr/bin:/bin");
    std::istringstream dirs(search);
    for (std::string d; std::getline(dirs, d, ':');) {
        if (!d.empty() && ::access((d + "/" + program).c_str(), X_OK) == 0) {
            program = d + "/" + program;
            return true;
        }
    }
    return false;
}

core::Result<void> ProcessProvisioner::Start(const std::string& id, Proc& p, const Desired& want) {
    const json::value* cmd = want.run.if_contains("command");
    if (cmd == nullptr || !cmd->is_array() || cmd->as_array().empty()) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "product {} {} has no process recipe (run.process.command)",
                want.product,
                want.version
            )
        );
    }
    std::string dir = Dir(id);
    fs::create_directories(dir + "/data");
    fs::create_directories(dir + "/logs");
    p.port = FreePort(p.port);
    if (p.port == 0) {
        return Fail(ErrorCode::kUnavailable, "no free loopback port");
    }
    // Named extra ports ({port:NAME}) for programs that listen on more than one.
    std::map<std::string, int> extra;
    if (const json::value* names = want.run.if_contains("extra_ports");
        names != nullptr && names->is_array()) {
        std::set<int> taken{p.port};
        for (const auto& n : names->as_array()) {
            std::string name = n.is_string() ? std::string(n.as_string()) : "";
            int port = 0;
            for (int tries = 0; tries < 20 && (port == 0 || taken.contains(port)); ++tries) {
                auto old = p.extra_ports.find(name);
                port = FreePort(tries == 0 && old != p.extra_ports.end() ? old->second : 0);
            }
            if (port == 0 || taken.contains(port)) {
                return Fail(ErrorCode::kUnavailable, "no free loopback port");
            }
            taken.insert(port);
            extra[name] = port;
        }
    }
    p.extra_ports = std::move(extra);
    WriteFile(dir + "/config.json", json::serialize(want.config));
    std::map<std::string, std::string> vars = Vars(id, p);
    std::vector<std::string> args;
    for (const auto& a : cmd->as_array()) {
        if (!a.is_string()) {
            return Fail(
                ErrorCode::kInvalidArgument, "run.process.command must be an array of strings"
            );
        }
        args.push_back(Substitute(std::string(a.as_string()), vars));
    }
    std::vector<std::string> env = Environment(id, p.port, want, vars);
    if (!ResolveProgram(args[0])) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "cannot find the program \"{}\" of {} {} on PATH",
                args[0],
                want.product,
                want.version
            )
        );
    }
    p.cgroup = MakeCgroup(id, want.memory_mb);
    p.cgroup_ooms = CgroupOoms(p.cgroup);
    std::string procs_file = p.cgroup.empty() ? "" : p.cgroup + "/cgroup.procs";
    std::string out_log = dir + "/logs/stdout.log";
    std::string err_log = dir + "/logs/stderr.log";
    std::string data_dir = dir + "/data";
    std::vector<char*> argv = CStrings(args), envp = CStrings(env);
    rlim_t as_limit = static_cast<rlim_t>(want.memory_mb) * 1024 * 1024;
    bool use_rlimit = p.cgroup.empty() && want.memory_mb > 0;

    pid_t pid = ::fork();
    if (pid < 0) {
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format(
                "fork failed: {}", std::error_code(errno, std::generic_category()).message()
            )
        );
    }
    if (pid == 0) {
        // The child: its own session and process group, in its cgroup, its logs, its folder.
        ::setsid();
        if (!procs_file.empty()) {
            int fd = ::open(procs_file.c_str(), O_WRONLY);
            if (fd >= 0) {
                WritePid(fd, ::getpid());
                ::close(fd);
            }
        }
        if (use_rlimit) {
            rlimit rl{as_limit, as_limit};
            ::setrlimit(RLIMIT_AS, &rl);
        }
        ExecInChild(out_log.c_str(), err_log.c_str(), data_dir.c_str(), argv.data(), envp.data());
    }
    p.pid = pid;
    p.child = true;
    p.start_ticks = StartTicks(pid);
    p.version = want.version;
    p.memory_mb = want.memory_mb;
    p.nonce = want.restart_nonce;
    return {};
}

void ProcessProvisioner::Stop(Proc& p) const {
    // Every kill below is guarded by pid > 0: kill(0) would signal Hangar's own process group.
    if (p.pid <= 0) {
        return;
    }
    ::kill(-p.pid, SIGTERM);
    auto deadline = Clock::now() + opts_.stop_timeout;
    while (Clock::now() < deadline) {
        if (p.child ? ::waitpid(p.pid, nullptr, WNOHANG) == p.pid
                    : StartTicks(p.pid) != p.start_ticks) {
            p.pid = 0;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (p.pid > 0) {
        ::kill(-p.pid, SIGKILL);  // the group: whatever the instance forked goes too
        if (p.child) {
            ::waitpid(p.pid, nullptr, 0);
        }
    }
    p.pid = 0;
    p.crashed = false;
}

bool ProcessProvisioner::Healthy(const Proc& p, const Desired& want) {
    // health.timeout_seconds bounds each kind of check; without it HTTP gets 1.3 s, TCP 0.3 s
    // and an exec command 5 s.
    const json::value* ts = want.health.if_contains("timeout_seconds");
    auto timeout = [&](std::chrono::milliseconds fallback) {
        return ts != nullptr && ts->is_int64() && ts->as_int64() > 0
                   ? std::chrono::milliseconds(ts->as_int64() * 1000)
                   : fallback;
    };
    if (const json::value* h = want.health.if_contains("http"); h != nullptr && h->is_object()) {
        const json::value* path = h->as_object().if_contains("path");
        const json::value* want_status = h->as_object().if_contains("expected_status");
        int st = HttpStatus(
            p.port,
            path != nullptr && path->is_string() ? std::string(path->as_string()) : "/",
            timeout(std::chrono::milliseconds(1300))
        );
        return want_status != nullptr && want_status->is_int64() ? st == want_status->as_int64()
                                                                 : st >= 200 && st < 400;
    }
    if (want.health.contains("tcp")) {
        return TcpOpen(p.port, timeout(std::chrono::milliseconds(300)));
    }
    if (const json::value* h = want.health.if_contains("exec"); h != nullptr && h->is_object()) {
        // A command run beside the instance (its environment, in its data folder): exit 0 is
        // healthy.
        const json::value* cmd = h->as_object().if_contains("command");
        if (cmd == nullptr || !cmd->is_array() || cmd->as_array().empty()) {
            return false;
        }
        std::map<std::string, std::string> vars = Vars(want.id, p);
        std::vector<std::string> args;
        for (const auto& a : cmd->as_array()) {
            args.push_back(a.is_string() ? Substitute(std::string(a.as_string()), vars) : "");
        }
        if (!ResolveProgram(args[0])) {
            return false;
        }
        auto code = RunToCompletion(
            args,
            Environment(want.id, p.port, want, vars),
            Dir(want.id) + "/data",
            Dir(want.id) + "/logs/health.log",
            timeout(kExecHealthTimeout)
        );
        return code && *code == 0;
    }
    return true;  // no check: alive is healthy
}

std::optional<ProbeResult> ProcessProvisioner::Probe(const Desired& want) {
    Proc p;
    {
        std::lock_guard lock(mu_);  // copied out: the check itself runs without the lock
        Proc& live = Load(want.id);
        Refresh(want.id, live);
        p = live;
    }
    ProbeResult r;
    if (p.pid <= 0) {
        r.message = p.last_exit.empty() ? "not running" : "not running: " + p.last_exit;
        return r;
    }
    auto t0 = std::chrono::steady_clock::now();
    r.healthy = Healthy(p, want);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.healthy) {
        if (const json::value* h = want.health.if_contains("http");
            h != nullptr && h->is_object()) {
            r.message = fmt::format("HTTP check of port {} failed", p.port);
        } else if (want.health.contains("tcp")) {
            r.message = fmt::format("port {} refused the connection", p.port);
        } else {
            r.message = "exec check failed (see logs/health.log)";
        }
    }
    if (!want.metrics_path.empty()) {
        auto [status, body] = HttpGet(p.port, want.metrics_path, std::chrono::seconds(5));
        if (status == 200) {
            r.metrics = std::move(body);
        }
    }
    // Process figures from /proc: resident memory, CPU time, open descriptors.
    std::ifstream st(fmt::format("/proc/{}/status", p.pid));
    std::string line;
    while (std::getline(st, line)) {
        if (line.starts_with("VmRSS:")) {
            r.rss_bytes = std::strtod(line.c_str() + 6, nullptr) * 1024;
            r.process = true;
        }
    }
    std::ifstream stat(fmt::format("/proc/{}/stat", p.pid));
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    if (size_t close = all.rfind(')'); close != std::string::npos) {
        std::istringstream rest(all.substr(close + 2));
        std::string field;
        double ticks = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14 || i == 15) {
                ticks += std::strtod(field.c_str(), nullptr);
            }
        }
        r.cpu_seconds = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    std::error_code ec;
    for (auto it = fs::directory_iterator(fmt::format("/proc/{}/fd", p.pid), ec);
         !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        r.open_fds += 1;
    }
    return r;
}

core::Result<std::string>
ProcessProvisioner::Backup(const Desired& want, const std::vector<std::string>& command) {
    std::lock_guard lock(mu_);
    Proc& p = Load(want.id);
    std::string dir = Dir(want.id);
    if (!fs::exists(dir + "/data")) {
        return std::string();  // never started: nothing to back up
    }
    std::string stamp = core::FormatRfc3339(std::chrono::system_clock::now());
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    std::string backup_dir = (fs::path(opts_.backup_root) / want.id / stamp).string();
    std::error_code ec;
    fs::create_directories(backup_dir, ec);
    if (ec) {
        return Fail(
            ErrorCode::kUnavailable, fmt::format("cannot create {}: {}", backup_dir, ec.message())
        );
    }
    std::map<std::string, std::string> vars = Vars(want.id, p);
    vars["{backup_dir}"] = backup_dir;
    std::vector<std::string> args;
    for (const auto& a : command) {
        args.push_back(Substitute(a, vars));
    }
    if (args.empty() || !ResolveProgram(args[0])) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "cannot find the backup program \"{}\" on PATH", command.empty() ? "" : command[0]
            )
        );
    }
    auto env = Environment(want.id, p.port, want, vars);
    env.push_back("BACKUP_DIR=" + backup_dir);
    auto code =
        RunToCompletion(args, env, dir + "/data", dir + "/logs/backup.log", opts_.backup_timeout);
    if (!code || *code != 0) {
        fs::remove_all(backup_dir, ec);  // a failed attempt is no backup: nothing to keep
    }
    if (!code) {
        return Fail(code.error());
    }
    if (*code != 0) {
        std::string tail = ReadFile(dir + "/logs/backup.log");
        if (tail.size() > 300) {
            tail = tail.substr(tail.size() - 300);
        }
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format("the backup command exited with status {}: {}", *code, tail)
        );
    }
    return backup_dir;
}

core::Result<std::string>
ProcessProvisioner::Exec(const Desired& want, const std::vector<std::string>& command) {
    std::map<std::string, std::string> vars;
    std::vector<std::string> env;
    std::string dir = Dir(want.id);
    {
        std::lock_guard lock(mu_);
        Proc& p = Load(want.id);
        vars = Vars(want.id, p);
        env = Environment(want.id, p.port, want, vars);
    }
    std::vector<std::string> args;
    for (const auto& a : command) {
        args.push_back(Substitute(a, vars));
    }
    if (args.empty() || !ResolveProgram(args[0])) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("cannot find the program \"{}\" on PATH", command.empty() ? "" : command[0])
        );
    }
    std::error_code ec;
    fs::create_directories(dir + "/data", ec);
    std::string log = dir + "/logs/exec.log";
    fs::remove(log, ec);
    auto code = RunToCompletion(args, env, dir + "/data", log, opts_.backup_timeout);
    if (!code) {
        return Fail(code.error());
    }
    std::string tail = ReadFile(log);
    if (tail.size() > 1000) {
        tail = tail.substr(tail.size() - 1000);
    }
    if (*code != 0) {
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format("the command exited with status {}: {}", *code, tail)
        );
    }
    return tail;
}

void ProcessProvisioner::RotateLogs(const std::string& id) {
    for (const char* name : {"stdout.log", "stderr.log"}) {
        std::string path = Dir(id) + "/logs/" + name;
        std::error_code ec;
        if (fs::file_size(path, ec) > opts_.log_max_bytes && !ec) {
            // copy-then-truncate: the process keeps appending to the same open file
            fs::copy_file(path, path + ".1", fs::copy_options::overwrite_existing, ec);
            ::truncate(path.c_str(), 0);
        }
    }
}

Observed ProcessProvisioner::View(const Proc& p, Observed::State s, std::string message) const {
    Observed o;
    o.state = s;
    o.version = p.version;
    o.restarts = p.restarts;
    o.oom_kills = p.oom_kills;
    o.limit_mode = limit_mode_;
    o.message = std::move(message);
    o.crash_loop = static_cast<int>(p.crashes.size()) >= opts_.crash_loop_restarts;
    if (s == Observed::State::kRunning || s == Observed::State::kStarting) {
        o.endpoint = fmt::format("http://127.0.0.1:{}", p.port);
    }
    return o;
}

core::Result<Observed> ProcessProvisioner::Ensure(const Desired& want) {
    std::lock_guard lock(mu_);
    Proc& p = Load(want.id);
    Refresh(want.id, p);
    if (!want.running) {
        if (p.pid > 0) {
            Stop(p);
            Save(want.id, p);
        }
        p.crashed = false;  // suspended: the resume that follows is a start, not a restart
        return View(p, Observed::State::kStopped);
    }
    bool changed =
        p.version != want.version || p.memory_mb != want.memory_mb || p.nonce != want.restart_nonce;
    if (p.pid > 0 && changed) {
        Stop(p);  // an upgrade, resize or restart: ours, not a crash
        p.restarts++;
    }
    if (p.pid <= 0) {
        auto now = Clock::now();
        if (p.crashed && now < p.next_start) {
            Observed o = View(p, Observed::State::kFailed, p.last_exit);
            // Rounded up: a remainder under 1 ms must not become "no retry".
            o.retry_after = std::chrono::ceil<std::chrono::milliseconds>(p.next_start - now) +
                            std::chrono::milliseconds(1);
            return o;
        }
        if (p.crashed) {
            p.restarts++;
        }
        auto started = Start(want.id, p, want);
        if (!started) {
            return Fail(started.error());
        }
        p.crashed = false;
        p.ready = false;
        Save(want.id, p);
        Observed o = View(p, Observed::State::kStarting, p.last_exit);
        o.retry_after = std::chrono::milliseconds(200);
        return o;
    }
    RotateLogs(want.id);
    // The health check gates the start only; once it has passed, Probe() watches health and a
    // failing check marks the instance unhealthy rather than starting again.
    if (!p.ready) {
        if (!Healthy(p, want)) {
            Observed o = View(p, Observed::State::kStarting, "waiting for its health check");
            o.retry_after = std::chrono::milliseconds(250);
            return o;
        }
        p.ready = true;
    }
    Observed o = View(p, Observed::State::kRunning, p.last_exit);
    o.retry_after = std::chrono::seconds(2);  // watch for exits
    return o;
}

core::Result<Observed> ProcessProvisioner::Observe(const std::string& id) {
    std::lock_guard lock(mu_);
    Proc& p = Load(id);
    Refresh(id, p);
    return View(p, p.pid > 0 ? Observed::State::kRunning : Observed::State::kAbsent, p.last_exit);
}

core::Result<Observed> ProcessProvisioner::Destroy(const std::string& id) {
    std::lock_guard lock(mu_);
    Proc& p = Load(id);
    Refresh(id, p);
    Stop(p);
    if (!p.cgroup.empty()) {
        // Anything that escaped the process group is still in the cgroup.
        std::istringstream pids(ReadFile(p.cgroup + "/cgroup.procs"));
        for (pid_t pid; pids >> pid;) {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
            }
        }
        for (int i = 0; i < 50 && ::rmdir(p.cgroup.c_str()) != 0 && errno == EBUSY; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    std::error_code ec;
    fs::remove_all(Dir(id), ec);
    procs_.erase(id);
    return Observed{};
}

}  // namespace hangar::fleet
