#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

namespace hangar::testing {

boost::json::value HttpResponse::Json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return ec ? boost::json::value() : v;
}

std::string HttpResponse::ErrorCode() const {
    auto v = Json();
    if (!v.is_object()) {
        return "";
    }
    const auto* e = v.as_object().if_contains("error");
    if (e == nullptr || !e->is_object()) {
        return "";
    }
    const auto* c = e->as_object().if_contains("code");
    return c != nullptr && c->is_string() ? std::string(c->as_string()) : "";
}

Connection::Connection(const std::string& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool Connection::SendRaw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        off += static_cast<size_t>(n);
    }
    return true;
}

namespace {
// Reads more bytes into buf; false on timeout/close.
bool Fill(int fd, std::string& buf, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()
    );
    if (left.count() <= 0) {
        return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
    }
    char tmp[65536];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) {
        return false;
    }
    buf.append(tmp, static_cast<size_t>(n));
    return true;
}
}  // namespace

std::optional<HttpResponse> Connection::Read(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill(fd_, buf_, deadline)) {
            return std::nullopt;
        }
    }
    HttpResponse r;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) {
            e = head.size();
        }
        std::string line = head.substr(pos, e - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            r.headers[name] = value;
        }
        pos = e + 2;
    }
    if (r.headers.count("content-length") != 0) {
        size_t len = std::stoul(r.headers["content-length"]);
        while (buf_.size() < len) {
            if (!Fill(fd_, buf_, deadline)) {
                return std::nullopt;
            }
        }
        r.body = buf_.substr(0, len);
        buf_.erase(0, len);
    } else if (r.headers["transfer-encoding"].find("chunked") != std::string::npos) {
        // Peers such as Prometheus stream large answers in chunks: size CRLF data CRLF ... 0 CRLF
        // CRLF.
        for (int guard = 0; guard < 1'000'000; ++guard) {
            size_t eol = std::string::npos;
            while ((eol = buf_.find("\r\n")) == std::string::npos) {
                if (!Fill(fd_, buf_, deadline)) {
                    return std::nullopt;
                }
            }
            size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
            while (buf_.size() < eol + 2 + size + 2) {
                if (!Fill(fd_, buf_, deadline)) {
                    return std::nullopt;
                }
            }
            r.body += buf_.substr(eol + 2, size);
            buf_.erase(0, eol + 2 + size + 2);
            if (size == 0) {
                break;
            }
        }
    }
    return r;
}

std::string Connection::ReadSome(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(fd_, buf_, deadline)) {
    }
    std::string out;
    out.swap(buf_);
    return out;
}

bool Connection::WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
            if (n <= 0) {
                return true;
            }
            buf_.append(tmp, static_cast<size_t>(n));
        }
    }
    return false;
}

HttpResponse Client::Do(
    const std::string& method,
    const std::string& path,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers
) {
    Connection c(host_, port_);
    if (!c.ok()) {
        return HttpResponse{};
    }
    std::string req =
        method + " " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nConnection: close\r\n";
    bool has_ct = false;
    bool has_auth = false;
    for (const auto& [k, v] : headers) {
        req += k + ": " + v + "\r\n";
        has_ct = has_ct || k == "Content-Type";
        has_auth = has_auth || k == "Authorization";
    }
    if (!token_.empty() && !has_auth) {
        req += "Authorization: Bearer " + token_ + "\r\n";
    }
    if (!body.empty() && !has_ct) {
        req += "Content-Type: application/json\r\n";
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    c.SendRaw(req);
    auto r = c.Read(std::chrono::seconds(30));
    return r ? *r : HttpResponse{};
}

}  // namespace hangar::testing
