// bench/fleet driver: creates N instances through the API over C keep-alive connections (every
// response checked), then polls /metrics until hangar_instances{phase="Running"} reaches N.
// Prints one Markdown row: creates/s, time to converge, reconciles/s, Hangar's RSS and CPU.
// Usage: fleet_bench PORT ADMIN_TOKEN HANGAR_PID INSTANCES TENANTS CONNS

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "http_client.hpp"

namespace {

using hangar::testing::Client;
using hangar::testing::Connection;
using Clock = std::chrono::steady_clock;

std::string Request(
    const std::string& method,
    const std::string& path,
    const std::string& token,
    const std::string& body
) {
    return fmt::format(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: "
        "application/json\r\n"
        "Content-Length: {}\r\n\r\n{}",
        method,
        path,
        token,
        body.size(),
        body
    );
}

long RssKiB(int pid) {
    std::ifstream f(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

double CpuSeconds(int pid) {
    std::ifstream f(fmt::format("/proc/{}/stat", pid));
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stol(field);
        if (i == 15)
            stime = std::stol(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The value of one exposition line "name{labels} value" in /metrics, or -1.
double Metric(const std::string& body, const std::string& series) {
    size_t at = body.find("\n" + series + " ");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stod(body.substr(at + series.size() + 2));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(
            stderr, "usage: fleet_bench PORT ADMIN_TOKEN HANGAR_PID INSTANCES TENANTS CONNS\n"
        );
        return 2;
    }
    int port = std::stoi(argv[1]);
    std::string admin = argv[2];
    int pid = std::stoi(argv[3]);
    int n = std::stoi(argv[4]);
    int tenants = std::stoi(argv[5]);
    int conns = std::stoi(argv[6]);
    Client c("127.0.0.1", port);
    c.SetToken(admin);

    // The catalogue and the tenants (not timed).
    std::string tag = fmt::format("b{}", n);
    auto plan = c.Do(
        "POST",
        "/v1/plans",
        fmt::format(
            R"({{"metadata":{{"name":"{}"}},"spec":{{"memory_mb":64,"cpu_millis":100,"entitlements":{{"max_instances":{}}}}}}})",
            tag,
            n / tenants + 1
        )
    );
    auto product = c.Do(
        "POST",
        "/v1/products",
        fmt::format(
            R"({{"metadata":{{"name":"{}"}},"spec":{{"versions":[{{"version":"1.0.0","run":{{"simulated":{{}}}}}}]}}}})",
            tag
        )
    );
    if (plan.status != 201 || product.status != 201) {
        std::fprintf(
            stderr,
            "fleet_bench: catalogue: %d %s / %d %s\n",
            plan.status,
            plan.body.c_str(),
            product.status,
            product.body.c_str()
        );
        return 1;
    }
    std::vector<std::string> tenant_ids;
    for (int t = 0; t < tenants; ++t) {
        auto r = c.Do(
            "POST",
            "/v1/tenants",
            fmt::format(
                R"({{"metadata":{{"name":"{}-t{}"}},"spec":{{"display_name":"Bench {}"}}}})",
                tag,
                t,
                t
            )
        );
        if (r.status != 201) {
            std::fprintf(stderr, "fleet_bench: tenant: %d %s\n", r.status, r.body.c_str());
            return 1;
        }
        tenant_ids.push_back(r.Json().at("metadata").at("id").as_string().c_str());
    }
    auto metrics_before = c.Do("GET", "/metrics").body;
    double reconciles_before =
        Metric(metrics_before, R"(hangar_reconciles_total{controller="instance",result="ok"})");
    double running_before =
        std::max(0.0, Metric(metrics_before, R"(hangar_instances{phase="Running"})"));
    long rss_before = RssKiB(pid);
    double cpu_before = CpuSeconds(pid);

    // Creates: C connections, each its share, every response checked.
    auto start = Clock::now();
    std::atomic<int> next{0}, bad{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < conns; ++k) {
        threads.emplace_back([&] {
            Connection conn("127.0.0.1", port);
            for (int i = next++; i < n; i = next++) {
                std::string body = fmt::format(
                    R"({{"metadata":{{"name":"i{}","tenant":"{}","labels":{{"bench":"{}"}}}},"spec":{{"product":"{}","plan":"{}"}}}})",
                    i,
                    tenant_ids[static_cast<size_t>(i % tenants)],
                    tag,
                    tag,
                    tag
                );
                if (!conn.SendRaw(Request("POST", "/v1/instances", admin, body))) {
                    bad++;
                    return;
                }
                auto r = conn.Read(std::chrono::seconds(30));
                if (!r || r->status != 201) {
                    if (bad++ < 3) {
                        std::fprintf(
                            stderr,
                            "fleet_bench: create %d: %d %s\n",
                            i,
                            r ? r->status : 0,
                            r ? r->body.c_str() : "(no answer)"
                        );
                    }
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    double create_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (bad > 0) {
        std::fprintf(stderr, "fleet_bench: %d creates failed\n", bad.load());
        return 1;
    }

    // Convergence: bounded at 10 minutes.
    double running = 0, reconciles = 0;
    long rss_peak = 0;
    std::string m;
    while (Clock::now() - start < std::chrono::minutes(10)) {
        m = c.Do("GET", "/metrics").body;
        running = Metric(m, R"(hangar_instances{phase="Running"})") - running_before;
        rss_peak = std::max(rss_peak, RssKiB(pid));
        if (running >= n) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    double converge_s = std::chrono::duration<double>(Clock::now() - start).count();
    reconciles = Metric(m, R"(hangar_reconciles_total{controller="instance",result="ok"})") -
                 std::max(0.0, reconciles_before);
    double cpu = CpuSeconds(pid) - cpu_before;
    long rss_after = RssKiB(pid);
    if (running < n) {
        std::fprintf(stderr, "fleet_bench: only %.0f of %d Running after 10 minutes\n", running, n);
        return 1;
    }
    std::printf(
        "| %d | %d | %.1f | %.0f | %.1f | %.0f | %.0f | %.1f | %.2f | %ld | %.0f |\n",
        n,
        tenants,
        create_s,
        n / create_s,
        converge_s,
        reconciles,
        reconciles / converge_s,
        cpu,
        cpu * 1e6 / n,
        rss_after / 1024,
        static_cast<double>(rss_after - rss_before) * 1024.0 / n
    );
    (void)rss_peak;
    return 0;
}
