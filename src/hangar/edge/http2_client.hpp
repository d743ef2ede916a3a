#pragma once
// An HTTP/2 client over TLS (nghttp2 and OpenSSL) holding one multiplexed connection, as APNs
// wants: many requests in flight on one connection, a thread of its own driving it. When the
// server sends GOAWAY, or the connection drops, requests the server did not process are sent
// again on a new connection; the rest complete or fail with `retryable` set.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
};

class Http2Client {
public:
    explicit Http2Client(H2Options opts);
    ~Http2Client();
    Http2Client(const Http2Client&) = delete;
    Http2Client& operator=(const Http2Client&) = delete;

    // Queues a request; `done` runs once, on the client's thread.
    void Submit(H2Request req, H2Callback done);
    // Connections made so far (a GOAWAY makes a new one).
    uint64_t connections() const { return connections_.load(); }
    const std::string& authority() const { return authority_; }

    struct Conn;  // one TLS connection and its nghttp2 session (http2_client.cpp)
    struct Pending {
        H2Request req;
        H2Callback done;
        int attempts = 0;
    };

private:
    void Run();
    void FailAll(std::deque<Pending>& q, const std::string& why);

    H2Options opts_;
    std::string host_, port_, authority_;
    std::mutex mu_;
    std::deque<Pending> queue_;
    bool stop_ = false;
    bool wake_pending_ = false;  // the eventfd was written and the loop has not drained the queue yet
    int wake_fd_ = -1;
    std::atomic<uint64_t> connections_{0};
    std::thread thread_;
};

}  // namespace hangar::edge
