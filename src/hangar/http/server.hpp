#pragma once
// HTTP/1.1 server on Boost.Beast: I/O threads (one per core) parse and write; handlers run on a
// bounded worker pool so nothing blocks an I/O thread. Limits: body size, header time
// (slow-loris), the whole request's time, idle keep-alive time, connections per client
// address, worker queue depth (503 with Retry-After past it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "hangar/core/error.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/http/router.hpp"

namespace boost::asio {
class io_context;
}

namespace hangar::http {

struct ServerOptions {
    std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
    size_t io_threads = 0;                  // 0: one per CPU this process may run on
    size_t workers = 64;
    size_t max_pending = 4096;  // handler calls queued or running before 503
    size_t body_limit = 1 << 20;
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{30000};
    std::chrono::milliseconds body_timeout{30000};
    // From a request's first byte to its last (headers and body together): a client that
    // dribbles its body a byte at a time is answered 408 and closed once this has passed.
    std::chrono::milliseconds request_timeout{30000};
    size_t max_connections_per_address = 256;  // open connections from one client address
    std::chrono::milliseconds drain_timeout{15000};
    std::chrono::milliseconds heartbeat{15000};  // SSE comment lines keep streams alive
};

class Server {
public:
    Server(ServerOptions opts, const Router& router, core::MetricsRegistry& metrics);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listener; after this, port() is known.
    core::Result<void> Bind();
    uint16_t port() const;
    // Serves until SIGTERM/SIGINT or Stop(), then drains in-flight requests and returns.
    void Run();
    void Stop();
    bool Draining() const;
    // The I/O threads' context, for clients whose sockets belong beside the server's (the push
    // gateway's provider connections). It stops when Run() returns.
    boost::asio::io_context& io_context();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// CPUs this process may run on (taskset-aware), at least 1.
size_t UsableCpus();

}  // namespace hangar::http
