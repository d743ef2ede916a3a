// bench/collector driver: statistics documents of about 30 KB, each different (as a day's
// report from each of many servers), posted to POST /collector by a registered workspace with
// C in flight; every answer checked (200 with a statsToken) and the reports counted back from
// the workspace's status. Then the same documents again: a resend is stored once, so those are
// answered from the existing report. Hangar (SQLite, synchronous=FULL) on core 0, the driver
// on core 1; Hangar's CPU per document.
// Usage: collector_bench <hangar> <work dir> <n> <concurrency>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <signal.h>

#include <boost/json.hpp>

#include "bench_support.hpp"
#include "cloud_support.hpp"
#include "http_client.hpp"
#include "load_client.hpp"
#include "server_process.hpp"

namespace json = boost::json;
using namespace hangar::testing;

namespace {

// A statistics document like a chat server's, about 30 KB; `i` makes it unique.
std::string Document(int i) {
    json::object doc{
        {"uniqueId", "bench-workspace"},
        {"version", "6.12.1"},
        {"installedAt", "2025-01-01T00:00:00.000Z"},
        {"totalUsers", 1000 + i % 50},
        {"activeUsers", 300 + i % 40},
        {"totalMessages", 500000 + i},
        {"deploy", {{"method", "docker"}, {"platform", "linux"}}},
        {"push", i % 1000},
        {"host", "https://chat.bench.test"},
        {"day", i}};
    json::array rooms;
    for (int r = 0; r < 220; ++r) {
        rooms.push_back(json::object{
            {"id", fmt::format("room-{:04}", r)},
            {"name", fmt::format("team-channel-{}", r)},
            {"messages", (r * 7919 + i) % 100000},
            {"type", r % 3 == 0 ? "c" : "p"},
            {"lastActivity", fmt::format("2026-11-{:02}T10:{:02}:00.000Z", 1 + r % 28, r % 60)},
            {"members", (r * 31 + i) % 500}});
    }
    doc["rooms"] = std::move(rooms);
    return json::serialize(doc);
}

std::string Field(const HttpResponse& r, std::initializer_list<const char*> path) {
    return Str(r.Json(), path);
}

bool TokenOk(const std::string& head, const std::string& body) {
    return head.starts_with("HTTP/1.1 200") && body.starts_with("{\"statsToken\":\"");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: collector_bench <hangar> <work dir> <n> <concurrency>\n");
        return 2;
    }
    std::string work = argv[2];
    int n = std::atoi(argv[3]), conc = std::atoi(argv[4]);
    signal(SIGPIPE, SIG_IGN);
    ServerProcess server(
        work + "/hangar",
        {"--provisioner",
         "simulated",
         "--log-level",
         "warn",
         "--tenant-rate",
         "0",
         "--body-limit",
         "4194304"}
    );
    if (!server.Start()) {
        std::fprintf(stderr, "collector_bench: hangar did not start\n%s\n", server.Log().c_str());
        return 1;
    }
    std::system(fmt::format("taskset -a -p -c 0 {} >/dev/null", server.pid()).c_str());
    Client admin("127.0.0.1", server.port());
    admin.SetToken(server.AdminToken());
    std::string tenant = Field(
        admin.Do("POST", "/v1/tenants", R"({"metadata":{"name":"acme"},"spec":{}})"),
        {"metadata", "id"}
    );
    Client op("127.0.0.1", server.port());
    op.SetToken(Field(
        admin.Do(
            "POST",
            "/v1/tokens",
            json::serialize(json::object{{"role", "operator"}, {"tenant", tenant}})
        ),
        {"token"}
    ));
    RegisteredWorkspace w = RegisterWorkspace(op, "bench", "workspace:stats:write");
    std::string ws = w.id, access = w.access;
    std::vector<std::string> requests;
    size_t bytes = 0;
    for (int i = 0; i < n; ++i) {
        std::string body = Document(i);
        bytes += body.size();
        requests.push_back(fmt::format(
            "POST /collector HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            "{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            access,
            body.size(),
            body
        ));
    }
    double cpu0 = CpuSeconds(server.pid());
    LoadResult fresh = Load(server.port(), requests, n, conc, TokenOk);
    double cpu_fresh = CpuSeconds(server.pid()) - cpu0;
    cpu0 = CpuSeconds(server.pid());
    LoadResult again = Load(server.port(), requests, n, conc, TokenOk);
    double cpu_again = CpuSeconds(server.pid()) - cpu0;
    // The workspace's report count catches up within the collector's flush (2 s).
    int64_t reports = 0;
    for (int i = 0; i < 100 && reports != n; ++i) {
        json::value v = op.Do("GET", "/v1/workspaces/" + ws).Json();
        const json::value* st = v.at("status").as_object().if_contains("statistics");
        reports = st != nullptr ? st->at("reports").as_int64() : 0;
        if (reports != n) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    std::string db = work + "/hangar/hangar.db";
    long db_bytes = 0;
    for (const auto& f : {db, db + "-wal"}) {
        if (FILE* fp = std::fopen(f.c_str(), "rb")) {
            std::fseek(fp, 0, SEEK_END);
            db_bytes += std::ftell(fp);
            std::fclose(fp);
        }
    }
    server.Stop();
    std::printf(
        "| run | documents | KB each | answered 200 + statsToken | s | documents/s | Hangar CPU "
        "µs/document | p50 ms | p99 ms |\n"
    );
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::printf(
        "| new documents | %d | %.1f | %d | %.2f | **%.0f** | %.0f | %.2f | %.2f |\n",
        n,
        bytes / 1024.0 / n,
        fresh.ok,
        fresh.seconds,
        fresh.ok / fresh.seconds,
        cpu_fresh / n * 1e6,
        Pct(fresh.latencies_ms, 0.5),
        Pct(fresh.latencies_ms, 0.99)
    );
    std::printf(
        "| the same documents resent | %d | %.1f | %d | %.2f | **%.0f** | %.0f | %.2f | %.2f |\n",
        n,
        bytes / 1024.0 / n,
        again.ok,
        again.seconds,
        again.ok / again.seconds,
        cpu_again / n * 1e6,
        Pct(again.latencies_ms, 0.5),
        Pct(again.latencies_ms, 0.99)
    );
    std::printf(
        "\nReports stored: %lld of %d documents (resends stored once); database and WAL: %.1f MB "
        "for %.1f MB of documents.\n",
        static_cast<long long>(reports),
        n,
        db_bytes / 1048576.0,
        bytes / 1048576.0
    );
    if (fresh.bad > 0 || again.bad > 0 || reports != n) {
        std::fprintf(
            stderr,
            "collector_bench: answers or reports do not add up (bad %d + %d, reports %lld); first "
            "bad:\n%s%s\n",
            fresh.bad,
            again.bad,
            static_cast<long long>(reports),
            fresh.first_bad.c_str(),
            again.first_bad.c_str()
        );
        return 1;
    }
    return 0;
}
