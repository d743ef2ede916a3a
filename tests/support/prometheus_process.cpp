#include "prometheus_process.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_client.hpp"
#include "server_process.hpp"

namespace hangar::testing {

namespace {
constexpr const char* kBinary = "/usr/bin/prometheus";
constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
}  // namespace

int FreeLoopbackPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

bool PrometheusProcess::Installed() {
    return ::access(kBinary, X_OK) == 0;
}
bool PrometheusProcess::AlertmanagerInstalled() {
    return ::access(kAlertmanager, X_OK) == 0;
}

PrometheusProcess PrometheusProcess::Alertmanager(std::string dir, std::string config_yaml) {
    PrometheusProcess p(std::move(dir), std::move(config_yaml));
    p.alertmanager_ = true;
    return p;
}

PrometheusProcess::PrometheusProcess(std::string dir, std::string config_yaml)
    : dir_(std::move(dir)), config_(std::move(config_yaml)) {}

PrometheusProcess::~PrometheusProcess() {
    Stop();
}

std::string PrometheusProcess::Log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool PrometheusProcess::Start() {
    std::filesystem::create_directories(dir_ + "/data");
    {
        std::ofstream cfg(dir_ + "/prometheus.yml");
        cfg << config_;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
        port_ = FreeLoopbackPort();
        std::vector<std::string> args = {
            kBinary,
            "--config.file=" + dir_ + "/prometheus.yml",
            "--storage.tsdb.path=" + dir_ + "/data",
            "--web.listen-address=127.0.0.1:" + std::to_string(port_),
            "--web.enable-remote-write-receiver",
            "--log.level=warn",
        };
        if (alertmanager_) {
            // An empty cluster address turns gossip off (it would listen on every interface).
            args = {
                kAlertmanager,
                "--config.file=" + dir_ + "/prometheus.yml",
                "--storage.path=" + dir_ + "/data",
                "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                "--cluster.listen-address=",
                "--log.level=warn"};
        }
        pid_ = SpawnLogged(args, dir_ + "/prometheus.log");
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            Client c("127.0.0.1", port_);
            if (c.Do("GET", "/-/ready").status == 200) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        Stop();
    }
    return false;
}

void PrometheusProcess::Stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 300; ++i) {  // 15 s, then SIGKILL
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

}  // namespace hangar::testing
