#pragma once
// A deliberately small blocking HTTP/1.1 client over a raw socket, so tests can send exactly
// the bytes they mean (malformed requests, slow headers) and read exactly what came back.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace hangar::testing {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    boost::json::value Json() const;
    std::string ErrorCode() const;  // error.code of an error body, "" otherwise
};

class Connection {
public:
    Connection(const std::string& host, int port);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    bool ok() const { return fd_ >= 0; }
    bool SendRaw(const std::string& bytes);
    // Reads one response; nullopt on timeout or a closed connection.
    std::optional<HttpResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads whatever arrives within `timeout` (for streams).
    std::string ReadSome(std::chrono::milliseconds timeout);
    // True once the peer has closed the connection (within `timeout`).
    bool WaitClosed(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
    std::string buf_;
};

class Client {
public:
    Client(std::string host, int port) : host_(std::move(host)), port_(port) {}
    HttpResponse Do(
        const std::string& method,
        const std::string& path,
        const std::string& body = "",
        const std::vector<std::pair<std::string, std::string>>& headers = {}
    );
    void SetToken(std::string token) { token_ = std::move(token); }
    const std::string& token() const { return token_; }

private:
    std::string host_;
    int port_;
    std::string token_;
};

}  // namespace hangar::testing
