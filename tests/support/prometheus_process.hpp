#pragma once
// Starts Debian's real Prometheus (2.42) on a free loopback port with a throwaway data folder,
// as the peer the metrics tests and benchmarks compare Hangar with; or, made by Alertmanager(),
// Debian's real Alertmanager (0.25), clustering off, for the alert intake tests.

#include <string>

#include <sys/types.h>

namespace hangar::testing {

class PrometheusProcess {
public:
    // `config_yaml` is Prometheus's configuration file; remote-write receiving is enabled.
    explicit PrometheusProcess(
        std::string dir,
        std::string config_yaml = "global:\n  scrape_interval: 15s\n"
    );
    ~PrometheusProcess();
    PrometheusProcess(const PrometheusProcess&) = delete;
    PrometheusProcess& operator=(const PrometheusProcess&) = delete;

    static PrometheusProcess Alertmanager(std::string dir, std::string config_yaml);
    PrometheusProcess(PrometheusProcess&& o) noexcept
        : dir_(std::move(o.dir_)),
          config_(std::move(o.config_)),
          alertmanager_(o.alertmanager_),
          pid_(o.pid_),
          port_(o.port_) {
        o.pid_ = -1;
    }

    bool Start();  // waits (bounded, 60 s) until /-/ready answers 200
    void Stop();
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string Log() const;
    static bool Installed();
    static bool AlertmanagerInstalled();

private:
    std::string dir_, config_;
    bool alertmanager_ = false;
    pid_t pid_ = -1;
    int port_ = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace hangar::testing
