// bench/push driver. It hosts the APNs fake (tests/support/fake_push), starts `hangar serve` on
// core 0 pointed at it, and measures on core 1:
//   throughput  N notifications through POST /push/apn/send, C in flight on keep-alive
//               connections, every answer checked (200 with an apns-id) and every delivery
//               counted by the fake; Hangar's CPU time per notification;
//   latency     one at a time: through the gateway, and straight to the fake over HTTP/2
//               (Hangar's own client), p50/p99; the difference is what the gateway adds;
//   peer        @parse/node-apn (bench/push/peer.js on core 0) sending the same notifications
//               straight to the fake, C in flight, its CPU time per notification.
// Usage: push_bench <hangar> <work dir> <n> <concurrency> <peer.js>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "hangar/edge/push_providers.hpp"

#include "bench_support.hpp"
#include "cloud_support.hpp"
#include "fake_push.hpp"
#include "http_client.hpp"
#include "load_client.hpp"
#include "server_process.hpp"

namespace json = boost::json;
using namespace hangar::testing;

namespace {

const std::string kDevice = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

json::object Options() {
    return json::object{
        {"title", "alice"},
        {"text", "Lunch at noon?"},
        {"badge", 1},
        {"sound", "default"},
        {"topic", "chat.hangar.ios"},
        {"payload",
         {{"host", "https://chat.acme.test"},
          {"messageId", "m1"},
          {"rid", "GENERAL"},
          {"notificationType", "message"}}}};
}

bool ApnsAnswerOk(const std::string& head, const std::string& body) {
    return head.starts_with("HTTP/1.1 200") &&
           body.find("\"id\":\"11111111-2222-3333-4444-") != std::string::npos;
}

std::string Field(const HttpResponse& r, std::initializer_list<const char*> path) {
    return Str(r.Json(), path);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: push_bench <hangar> <work dir> <n> <concurrency> <peer.js>\n");
        return 2;
    }
    std::string hangar = argv[1], work = argv[2], peer = argv[5];
    int n = std::atoi(argv[3]), conc = std::atoi(argv[4]);
    signal(SIGPIPE, SIG_IGN);
    FakePushProviders fake(work);
    std::ofstream(work + "/apns.p8") << fake.apns_key_pem;

    // Hangar on core 0, trusting the fake's CA; no per-workspace limit in the way.
    ServerProcess server(
        work + "/hangar",
        {"--provisioner",
         "simulated",
         "--log-level",
         "warn",
         "--push-ca-file",
         fake.CaFile(),
         "--apns-url",
         fake.Url(),
         "--push-rate",
         "1000000000",
         "--tenant-rate",
         "0",
         "--webhook-allow",
         "127.0.0.1"}
    );
    if (!server.Start()) {
        std::fprintf(stderr, "push_bench: hangar did not start\n%s\n", server.Log().c_str());
        return 1;
    }
    // Pin the server (and its threads) to core 0; this driver and the fake stay on core 1.
    std::system(fmt::format("taskset -a -p -c 0 {} >/dev/null", server.pid()).c_str());
    Client admin("127.0.0.1", server.port());
    admin.SetToken(server.AdminToken());
    auto t = admin.Do("POST", "/v1/tenants", R"({"metadata":{"name":"acme"},"spec":{}})");
    std::string tenant = Field(t, {"metadata", "id"});
    auto op_tok = admin.Do(
        "POST",
        "/v1/tokens",
        json::serialize(json::object{{"role", "operator"}, {"tenant", tenant}})
    );
    Client op("127.0.0.1", server.port());
    op.SetToken(Field(op_tok, {"token"}));
    json::object ios{
        {"metadata", {{"name", "ios"}}},
        {"spec",
         {{"apns",
           {{"key_p8", fake.apns_key_pem},
            {"key_id", fake.apns_key_id},
            {"team_id", fake.apns_team_id},
            {"topic", "chat.hangar.ios"}}}}}};
    if (op.Do("POST", "/v1/pushapps", json::serialize(ios)).status != 201) {
        std::fprintf(stderr, "push_bench: push app refused\n");
        return 1;
    }
    std::string access = RegisterWorkspace(op, "bench", "workspace:push:send").access;
    std::string body = json::serialize(json::object{{"token", kDevice}, {"options", Options()}});
    std::string request = fmt::format(
        "POST /push/apn/send HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        "{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        access,
        body.size(),
        body
    );

    // Warm up (connection to the fake, JWT, caches), then the measured run.
    Load(server.port(), request, 2000, conc, ApnsAnswerOk);
    int delivered0 = fake.delivered();
    double cpu0 = CpuSeconds(server.pid());
    LoadResult thr = Load(server.port(), request, n, conc, ApnsAnswerOk);
    double cpu = CpuSeconds(server.pid()) - cpu0;
    int delivered = fake.delivered() - delivered0;

    // Latency one at a time: through the gateway, then straight to the fake.
    LoadResult lat = Load(server.port(), request, 2000, 1, ApnsAnswerOk);
    std::vector<double> direct;
    {
        hangar::edge::Http2Client h2({.url = fake.Url(), .ca_file = fake.CaFile()});
        auto sign = [&] {
            // A provider token as the gateway makes one (ES256 over the fake's key).
            auto key = hangar::edge::PrivateKey::FromPem(fake.apns_key_pem, "EC");
            return key->SignJwt(
                fmt::format(R"({{"alg":"ES256","kid":"{}"}})", fake.apns_key_id),
                fmt::format(R"({{"iss":"{}","iat":{}}})", fake.apns_team_id, std::time(nullptr))
            );
        };
        std::string jwt = sign();
        std::string payload =
            R"({"aps":{"alert":{"title":"alice","body":"Lunch at noon?"},"badge":1,"sound":"default"},"ejson":"{}"})";
        for (int i = 0; i < 2000; ++i) {
            hangar::edge::H2Request rq;
            rq.path = "/3/device/" + kDevice;
            rq.headers = {
                {"authorization", "bearer " + jwt},
                {"apns-topic", "chat.hangar.ios"},
                {"apns-push-type", "alert"},
                {"apns-priority", "10"}};
            rq.body = payload;
            auto s = Clock::now();
            auto r =
                hangar::edge::Exchange(h2, std::move(rq), Clock::now() + std::chrono::seconds(5));
            if (r.status != 200) {
                std::fprintf(
                    stderr, "push_bench: direct send answered %d %s\n", r.status, r.body.c_str()
                );
                return 1;
            }
            direct.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
    }
    server.Stop();

    // The peer: node-apn straight to the fake, on core 0.
    int peer_delivered0 = fake.delivered();
    std::string out_file = work + "/peer.json";
    std::string cmd = fmt::format(
        "NODE_EXTRA_CA_CERTS={} taskset -c 0 node {} 127.0.0.1 {} {} {}/apns.p8 {} {} {} {} {} > "
        "{}",
        fake.CaFile(),
        peer,
        fake.port(),
        fake.CaFile(),
        work,
        fake.apns_key_id,
        fake.apns_team_id,
        kDevice,
        n,
        conc,
        out_file
    );
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "push_bench: the peer failed: %s\n", cmd.c_str());
        return 1;
    }
    std::ifstream pin(out_file);
    std::string ptext((std::istreambuf_iterator<char>(pin)), std::istreambuf_iterator<char>());
    json::value pj = json::parse(ptext);
    int peer_delivered = fake.delivered() - peer_delivered0;
    double psec = pj.at("seconds").to_number<double>();
    double pcpu = pj.at("cpu_seconds").to_number<double>();
    int psent = static_cast<int>(pj.at("sent").to_number<double>());

    std::printf(
        "| sender | notifications | answered 200 | delivered (fake) | s | notifications/s | sender "
        "CPU µs/notification | p50 ms | p99 ms |\n"
    );
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::printf(
        "| Hangar gateway (HTTP/1.1 in, %d in flight) | %d | %d | %d | %.2f | **%.0f** | %.1f | "
        "%.2f | %.2f |\n",
        conc,
        n,
        thr.ok,
        delivered,
        thr.seconds,
        thr.ok / thr.seconds,
        cpu / n * 1e6,
        Pct(thr.latencies_ms, 0.5),
        Pct(thr.latencies_ms, 0.99)
    );
    std::printf(
        "| @parse/node-apn %s, direct (%d in flight) | %d | %d | %d | %.2f | **%.0f** | %.1f | "
        "%.2f | %.2f |\n",
        pj.at("version").as_string().c_str(),
        conc,
        n,
        psent,
        peer_delivered,
        psec,
        psent / psec,
        pcpu / n * 1e6,
        pj.at("p50_ms").to_number<double>(),
        pj.at("p99_ms").to_number<double>()
    );
    std::printf(
        "\nOne at a time (2,000 each): through the gateway p50 %.3f ms, p99 %.3f ms; straight to "
        "the fake p50 %.3f ms, p99 %.3f ms; "
        "**the gateway adds %.3f ms at p50, %.3f ms at p99**.\n",
        Pct(lat.latencies_ms, 0.5),
        Pct(lat.latencies_ms, 0.99),
        Pct(direct, 0.5),
        Pct(direct, 0.99),
        Pct(lat.latencies_ms, 0.5) - Pct(direct, 0.5),
        Pct(lat.latencies_ms, 0.99) - Pct(direct, 0.99)
    );
    if (thr.bad > 0 || delivered != n || peer_delivered != n + 2000 ||
        psent != n) {  // the peer warms up with 2,000 as the gateway does
        std::fprintf(
            stderr,
            "push_bench: answers or deliveries do not add up (bad %d, delivered %d, peer %d/%d); "
            "first bad answer:\n%s\n",
            thr.bad,
            delivered,
            psent,
            peer_delivered,
            thr.first_bad.c_str()
        );
        return 1;
    }
    return 0;
}
