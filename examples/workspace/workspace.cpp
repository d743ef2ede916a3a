// `hangar-workspace`: a small stand-in for a chat workspace server, run by Hangar as a sample
// product. It serves GET /healthz, Prometheus GET /metrics (users, messages, resident memory),
// POST /messages (counts one), and POST /leak?mb=N (or WORKSPACE_LEAK_MB_PER_SEC) to grow its
// memory until its limit stops it: the fault Hangar's OOM handling is tested against.
// With HANGAR_CLOUD_URL (and HANGAR_REGISTRATION_TOKEN the first time) it registers with
// Hangar's workspace cloud, syncs and reports statistics (cloud_client.cpp); GET /cloud shows
// how far it got.
//
// Usage: hangar-workspace --port N [--data-dir DIR]   (PORT and DATA_DIR in the environment too)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloud_client.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<long> g_messages{0};
std::vector<std::vector<char>> g_leak;
std::atomic<long> g_leaked_mb{0};

long RssBytes() {
    std::ifstream f("/proc/self/statm");
    long pages = 0, rss = 0;
    f >> pages >> rss;
    return rss * sysconf(_SC_PAGESIZE);
}

void Leak(long mb) {
    for (long i = 0; i < mb; ++i) {
        std::vector<char> block(1 << 20);
        std::memset(block.data(), 1, block.size());  // touch it: resident, not just reserved
        g_leak.push_back(std::move(block));
        g_leaked_mb++;
    }
}

std::string Reply(int status, const std::string& type, const std::string& body) {
    const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Other";
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
}

std::string Handle(const std::string& req) {
    auto sp1 = req.find(' ');
    auto sp2 = req.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        return Reply(400, "text/plain", "bad request\n");
    }
    std::string method = req.substr(0, sp1);
    std::string target = req.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method == "GET" && target == "/healthz") {
        return Reply(200, "application/json", "{\"status\":\"ok\"}");
    }
    if (method == "GET" && target == "/metrics") {
        std::string m =
            "# HELP workspace_users Registered users.\n# TYPE workspace_users "
            "gauge\nworkspace_users 42\n"
            "# HELP workspace_messages_total Messages sent.\n# TYPE workspace_messages_total "
            "counter\n"
            "workspace_messages_total " +
            std::to_string(g_messages.load()) +
            "\n"
            "# HELP workspace_resident_memory_bytes Resident memory.\n# TYPE "
            "workspace_resident_memory_bytes gauge\n"
            "workspace_resident_memory_bytes " +
            std::to_string(RssBytes()) + "\n";
        return Reply(200, "text/plain; version=0.0.4", m);
    }
    if (method == "GET" && target == "/cloud") {
        return Reply(200, "application/json", workspace::CloudStateJson());
    }
    if (method == "POST" && target.rfind("/push?", 0) == 0) {
        // /push?service=apn|gcm&token=<device>[&idonly=1]
        auto param = [&](const std::string& name) {
            size_t at = target.find(name + "=");
            if (at == std::string::npos) {
                return std::string();
            }
            size_t end = target.find('&', at);
            return target.substr(
                at + name.size() + 1,
                end == std::string::npos ? std::string::npos : end - at - name.size() - 1
            );
        };
        std::string body;
        long status =
            workspace::Push(param("service"), param("token"), param("idonly") == "1", body);
        return Reply(static_cast<int>(status), "application/json", body);
    }
    if (method == "POST" && target == "/messages") {
        g_messages++;
        return Reply(200, "application/json", "{}");
    }
    if (method == "POST" && target.rfind("/leak?mb=", 0) == 0) {
        long mb = std::strtol(target.c_str() + 9, nullptr, 10);
        if (mb <= 0 || mb > 65536) {
            return Reply(400, "text/plain", "mb must be 1..65536\n");
        }
        Leak(mb);
        return Reply(
            200, "application/json", "{\"leaked_mb\":" + std::to_string(g_leaked_mb.load()) + "}"
        );
    }
    return Reply(404, "text/plain", "not found\n");
}

}  // namespace

int main(int argc, char** argv) {
    int port = std::getenv("PORT") != nullptr ? std::atoi(std::getenv("PORT"))
                                              : 0;  // NOLINT(concurrency-mt-unsafe)
    std::string data_dir = std::getenv("DATA_DIR") != nullptr
                               ? std::getenv("DATA_DIR")
                               : ".";  // NOLINT(concurrency-mt-unsafe)
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0) {
            port = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--data-dir") == 0) {
            data_dir = argv[i + 1];
        }
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "hangar-workspace: give --port N (or PORT)\n");
        return 2;
    }
    signal(SIGTERM, [](int) { g_stop = true; });
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0) {
        std::perror("hangar-workspace: listen");
        return 1;
    }
    std::printf("hangar-workspace listening on 127.0.0.1:%d\n", port);
    std::fflush(stdout);
    if (const char* rate =
            std::getenv("WORKSPACE_LEAK_MB_PER_SEC")) {  // NOLINT(concurrency-mt-unsafe)
        long mb = std::atol(rate);
        std::thread([mb] {
            while (!g_stop) {
                Leak(mb);
                std::this_thread::sleep_for(std::chrono::seconds(1));
            }
        }).detach();
    }
    auto env = [](const char* name, const char* fallback) {
        const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
        return std::string(v != nullptr ? v : fallback);
    };
    workspace::CloudConfig cloud;
    cloud.cloud_url = env("HANGAR_CLOUD_URL", "");
    cloud.registration_token = env("HANGAR_REGISTRATION_TOKEN", "");
    cloud.collector_url = env("HANGAR_COLLECTOR_URL", "");
    cloud.state_file = data_dir + "/cloud.json";
    // A managed instance is unique by its instance id; a hand-started one by its port.
    cloud.unique_id =
        env("WORKSPACE_UNIQUE_ID",
            env("INSTANCE_ID", ("workspace-" + std::to_string(port)).c_str()).c_str());
    cloud.site_name = env("WORKSPACE_SITE_NAME", "Sample workspace");
    cloud.version = env("WORKSPACE_VERSION", "1.0.0");
    cloud.address = "http://127.0.0.1:" + std::to_string(port);
    cloud.sync_seconds = std::max(1, std::atoi(env("WORKSPACE_SYNC_SECONDS", "43200").c_str()));
    workspace::StartCloud(cloud);
    timeval tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (!g_stop) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0) {
            continue;
        }
        timeval ctv{2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &ctv, sizeof(ctv));
        char buf[4096];
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n > 0) {
            std::string out = Handle(std::string(buf, static_cast<size_t>(n)));
            send(c, out.data(), out.size(), MSG_NOSIGNAL);
        }
        close(c);
    }
    std::printf("hangar-workspace stopping\n");
    return 0;
}
