#pragma once
// An HTTP/2 client over TLS (nghttp2 and OpenSSL) holding one multiplexed connection, as APNs
// wants: many requests in flight on one connection. The connection is driven by asio readiness
// waits on a strand of an io_context: the HTTP server's own (so a notification handed over on an
// I/O thread costs no thread switch or wake-up), or, when none is given, one with a thread of
// its own. When the server sends GOAWAY, or the connection drops, requests the server did not
// process are sent again on a new connection; the rest complete or fail with `error` set.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace hangar::edge {

struct H2Request {
    std::string method = "POST";
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
    std::string body;
};

struct H2Response {
    int status = 0;  // 0: no answer (see error)
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;  // transport trouble, when status is 0
    std::string Header(std::string_view name) const;
};

using H2Callback = std::function<void(H2Response)>;

struct H2Options {
    std::string url;      // https://host[:port]
    std::string ca_file;  // trust these roots too (tests' own CA); system roots otherwise
    std::chrono::milliseconds connect_timeout{5000};
    size_t max_queue = 20000;  // requests waiting beyond this fail at once
    // A URL a tenant named (its push app's): connect only to the addresses the destination
    // policy allows (core/destination.hpp), checked on what the name resolved to.
    bool check_destination = false;
};

class Http2Client {
public:
    // With `io`, the connection runs on it. Destroy the client while `io` runs (requests still
    // in flight then fail on it, later) or after its run() returned on every thread (they fail
    // at once). Without `io`, the client runs an io_context on a thread of its own, and the
    // destructor returns once every request has had its callback.
    explicit Http2Client(H2Options opts, boost::asio::io_context* io = nullptr);
    ~Http2Client();
    Http2Client(const Http2Client&) = delete;
    Http2Client& operator=(const Http2Client&) = delete;

    // Queues a request from any thread; `done` runs once, on the connection's strand. Never wait
    // for it on a thread of `io` (Exchange below does: not on an I/O thread).
    void Submit(H2Request req, H2Callback done);
    // Connections made so far (a GOAWAY makes a new one).
    uint64_t connections() const;
    const std::string& authority() const;

    struct State;  // the queue, the strand and the current connection (http2_client.cpp)

private:
    std::shared_ptr<State> state_;
    std::unique_ptr<boost::asio::io_context> own_io_;
    std::thread thread_;
};

}  // namespace hangar::edge
