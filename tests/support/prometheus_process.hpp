#pragma once
// Starts Debian's real Prometheus (2.42) on a free loopback port with a throwaway data folder,
// as the peer the metrics tests and benchmarks compare Hangar with.

#include <sys/types.h>

#include <string>

namespace hangar::testing {

class PrometheusProcess {
public:
    // `config_yaml` is Prometheus's configuration file; remote-write receiving is enabled.
    explicit PrometheusProcess(std::string dir, std::string config_yaml = "global:\n  scrape_interval: 15s\n");
    ~PrometheusProcess();
    PrometheusProcess(const PrometheusProcess&) = delete;
    PrometheusProcess& operator=(const PrometheusProcess&) = delete;

    bool Start();  // waits (bounded, 60 s) until /-/ready answers 200
    void Stop();
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string Log() const;
    static bool Installed();

private:
    std::string dir_, config_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace hangar::testing
