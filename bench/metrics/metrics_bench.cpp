// bench/metrics driver. `ingest` remote-writes the synthetic hour (instances × 10 series, one
// sample per series every 15 s) to one server over `conns` keep-alive connections, each owning
// a shard of the series as Prometheus's sender does, and checks every answer is 204.
// `query` runs the same range queries against Hangar and Prometheus, checks that each answer
// holds data and that both agree, and reports latency and server CPU per query.
//
//   metrics_bench ingest PORT PID INSTANCES CONNS START_MS TOKEN SCOPE
//   metrics_bench query PORT PID PEER_PORT PEER_PID START_MS ITERATIONS TOKEN SCOPE

#include <algorithm>
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

#include "hangar/metrics/remote_write.hpp"

#include "bench_support.hpp"
#include "http_client.hpp"
#include "metrics_data.hpp"
#include "metrics_helpers.hpp"
#include "prom_answer.hpp"

using namespace hangar;
using namespace hangar::testing;

namespace {

std::string Request(
    const std::string& method,
    const std::string& path,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers
) {
    std::string r = fmt::format(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n", method, path, body.size()
    );
    for (const auto& [k, v] : headers) {
        r += k + ": " + v + "\r\n";
    }
    return r + "\r\n" + body;
}

std::vector<std::pair<std::string, std::string>>
AuthHeaders(const std::string& token, const std::string& scope) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!token.empty() && token != "-") {
        h.emplace_back("Authorization", "Bearer " + token);
    }
    if (!scope.empty() && scope != "-") {
        h.emplace_back("X-Scope-OrgID", scope);
    }
    return h;
}

int Ingest(
    int port,
    int pid,
    int instances,
    int conns,
    int64_t start_ms,
    const std::string& token,
    const std::string& scope
) {
    SyntheticOptions o;
    o.instances = instances;
    o.start_ms = start_ms;
    SyntheticGenerator gen(o);
    // Encode every request up front: the clock then measures the server, not the encoder.
    std::vector<std::vector<std::string>> shards(static_cast<size_t>(conns));
    std::vector<metrics::Sample> step;
    uint64_t samples = 0;
    auto headers = AuthHeaders(token, scope);
    headers.emplace_back("Content-Type", "application/x-protobuf");
    headers.emplace_back("Content-Encoding", "snappy");
    headers.emplace_back("X-Prometheus-Remote-Write-Version", "0.1.0");
    while (gen.Next(step)) {
        for (int c = 0; c < conns; ++c) {
            std::vector<metrics::SeriesData> batch;
            for (size_t i = static_cast<size_t>(c); i < step.size();
                 i += static_cast<size_t>(conns)) {
                batch.push_back({gen.labels(i), {step[i]}});
            }
            samples += batch.size();
            shards[static_cast<size_t>(c)].push_back(
                Request("POST", "/api/v1/write", metrics::EncodeWriteRequest(batch), headers)
            );
        }
    }
    std::atomic<int> failures{0};
    std::string first_failure;
    std::mutex mu;
    double cpu0 = CpuSeconds(pid);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < conns; ++c) {
        threads.emplace_back([&, c] {
            Connection conn("127.0.0.1", port);
            for (const auto& req : shards[static_cast<size_t>(c)]) {
                auto r = conn.SendRaw(req) ? conn.Read(std::chrono::seconds(60)) : std::nullopt;
                if (!r || r->status != 204) {
                    if (failures++ == 0) {
                        std::lock_guard lock(mu);
                        first_failure = r ? fmt::format("{} {}", r->status, r->body) : "no answer";
                    }
                    return;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds(pid) - cpu0;
    if (failures > 0) {
        fmt::print(
            stderr, "ingest: {} requests failed; first: {}\n", failures.load(), first_failure
        );
        return 1;
    }
    size_t requests = shards[0].size() * static_cast<size_t>(conns);
    // samples | requests | wall s | samples/s | server CPU s | CPU ns/sample
    fmt::print(
        "{} | {} | {:.2f} | {:.0f} | {:.2f} | {:.0f}\n",
        samples,
        requests,
        secs,
        static_cast<double>(samples) / secs,
        cpu,
        cpu * 1e9 / static_cast<double>(samples)
    );
    return 0;
}

const char* const kBenchQueries[] = {
    "sum by (code) (rate(demo_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (le) (rate(demo_latency_seconds_bucket[5m])))",
    "avg_over_time(demo_temperature[10m])",
    "topk(5, rate(demo_requests_total[5m]))",
    "demo_temperature{instance=\"i7\"}",
    "max by (room) (demo_temperature)",
};

int Query(
    int port,
    int pid,
    int peer_port,
    int peer_pid,
    int64_t start_ms,
    int iterations,
    const std::string& token,
    const std::string& scope
) {
    int64_t end_ms = start_ms + 60 * 60'000;
    std::string range = fmt::format("&start={}&end={}&step=60", start_ms / 1000, end_ms / 1000);
    auto hangar_headers = AuthHeaders(token, scope);
    int failures = 0;
    for (const char* q : kBenchQueries) {
        std::string path = "/api/v1/query_range?query=" + UrlEncode(q) + range;
        Answer answers[2];
        double median_ms[2], cpu_ms[2];
        size_t series = 0;
        for (int side = 0; side < 2; ++side) {
            int p = side == 0 ? port : peer_port;
            int who = side == 0 ? pid : peer_pid;
            auto headers =
                side == 0 ? hangar_headers : std::vector<std::pair<std::string, std::string>>{};
            Connection conn("127.0.0.1", p);
            std::vector<double> times;
            double cpu0 = CpuSeconds(who);
            for (int i = 0; i < iterations; ++i) {
                auto t0 = std::chrono::steady_clock::now();
                auto r = conn.SendRaw(Request("GET", path, "", headers))
                             ? conn.Read(std::chrono::seconds(60))
                             : std::nullopt;
                times.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count()
                );
                if (!r || r->status != 200) {
                    fmt::print(
                        stderr,
                        "query {} on {}: {}\n",
                        q,
                        side == 0 ? "hangar" : "prometheus",
                        r ? r->body : "no answer"
                    );
                    return 1;
                }
                if (i == 0) {
                    answers[side] = Normalize(json::parse(r->body));
                }
            }
            cpu_ms[side] = (CpuSeconds(who) - cpu0) * 1000 / iterations;
            std::sort(times.begin(), times.end());
            median_ms[side] = times[times.size() / 2];
            series = answers[side].size();
        }
        std::string diff = Diff(answers[0], answers[1]);
        if (answers[1].empty() || !diff.empty()) {
            fmt::print(
                stderr,
                "query {}: {}\n",
                q,
                answers[1].empty() ? "Prometheus answered nothing" : diff
            );
            ++failures;
        }
        // query | series | hangar ms | prometheus ms | hangar CPU ms | prometheus CPU ms | same
        // answer
        fmt::print(
            "`{}` | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {}\n",
            q,
            series,
            median_ms[0],
            median_ms[1],
            cpu_ms[0],
            cpu_ms[1],
            diff.empty() ? "yes" : "NO"
        );
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 8 && a[0] == "ingest") {
        return Ingest(
            std::stoi(a[1]),
            std::stoi(a[2]),
            std::stoi(a[3]),
            std::stoi(a[4]),
            std::stoll(a[5]),
            a[6],
            a[7]
        );
    }
    if (a.size() == 9 && a[0] == "query") {
        return Query(
            std::stoi(a[1]),
            std::stoi(a[2]),
            std::stoi(a[3]),
            std::stoi(a[4]),
            std::stoll(a[5]),
            std::stoi(a[6]),
            a[7],
            a[8]
        );
    }
    fmt::print(
        stderr,
        "usage: metrics_bench ingest PORT PID INSTANCES CONNS START_MS TOKEN SCOPE\n"
        "       metrics_bench query PORT PID PEER_PORT PEER_PID START_MS ITERATIONS TOKEN SCOPE\n"
    );
    return 2;
}
