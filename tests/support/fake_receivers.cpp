#include "fake_receivers.hpp"

#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hangar::testing {

namespace {

// Reads one line (up to CRLF) from fd with a buffer; false on EOF, error or 10 s of silence.
bool ReadLine(int fd, std::string& buf, std::string& line) {
    for (int guard = 0; guard < 100000; ++guard) {
        if (auto pos = buf.find("\r\n"); pos != std::string::npos) {
            line = buf.substr(0, pos);
            buf.erase(0, pos + 2);
            return true;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0) {
            return false;
        }
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0) {
            return false;
        }
        buf.append(tmp, static_cast<size_t>(n));
    }
    return false;
}

bool ReadExactly(int fd, std::string& buf, size_t n, std::string& out) {
    for (int guard = 0; buf.size() < n && guard < 100000; ++guard) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0) {
            return false;
        }
        char tmp[4096];
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r <= 0) {
            return false;
        }
        buf.append(tmp, static_cast<size_t>(r));
    }
    if (buf.size() < n) {
        return false;
    }
    out = buf.substr(0, n);
    buf.erase(0, n);
    return true;
}

void WriteAll(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = write(fd, s.data(), s.size());
        if (n <= 0) {
            return;
        }
        s.remove_prefix(static_cast<size_t>(n));
    }
}

std::string Lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

}  // namespace

LoopbackServer::LoopbackServer(int port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 64) != 0) {
        throw std::runtime_error("fake receiver: cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
}

LoopbackServer::~LoopbackServer() {
    StopThread();
    if (listen_fd_ >= 0) {
        close(listen_fd_);
    }
}

void LoopbackServer::StartThread() {
    thread_ = std::thread([this] {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            Serve(fd);
            close(fd);
        }
    });
}

void LoopbackServer::StopThread() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

WebhookReceiver::WebhookReceiver(int status) : status_(status) {
    StartThread();
}
WebhookReceiver::~WebhookReceiver() {
    StopThread();
}

void WebhookReceiver::Serve(int fd) {
    std::string buf;
    for (int requests = 0; requests < 1000; ++requests) {  // keep-alive, bounded
        std::string line;
        if (!ReadLine(fd, buf, line)) {
            return;
        }
        HttpRecord r;
        auto sp1 = line.find(' '), sp2 = line.rfind(' ');
        r.method = line.substr(0, sp1);
        r.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t length = 0;
        while (ReadLine(fd, buf, line) && !line.empty()) {
            auto colon = line.find(':');
            std::string name = Lower(line.substr(0, colon));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            if (name == "content-length") {
                length = std::stoul(value);
            }
            r.headers.emplace_back(name, value);
        }
        if (length > 0 && !ReadExactly(fd, buf, length, r.body)) {
            return;
        }
        {
            std::lock_guard lock(mu_);
            requests_.push_back(std::move(r));
        }
        cv_.notify_all();
        WriteAll(
            fd,
            "HTTP/1.1 " + std::to_string(status_) +
                " OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
        );
    }
}

std::vector<HttpRecord> WebhookReceiver::Requests() {
    std::lock_guard lock(mu_);
    return requests_;
}

bool WebhookReceiver::WaitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

SmtpServer::SmtpServer(int port) : LoopbackServer(port) {
    StartThread();
}
SmtpServer::~SmtpServer() {
    StopThread();
}

void SmtpServer::Serve(int fd) {
    std::string buf, line;
    WriteAll(fd, "220 fake-smtp.test ESMTP ready\r\n");
    MailRecord m;
    for (int commands = 0; commands < 1000 && ReadLine(fd, buf, line); ++commands) {
        std::string verb = Lower(line.substr(0, 4));
        if (verb == "ehlo") {
            WriteAll(fd, "250-fake-smtp.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
        } else if (verb == "helo") {
            WriteAll(fd, "250 fake-smtp.test\r\n");
        } else if (verb == "mail") {
            m = MailRecord{};
            auto a = line.find('<'), b = line.find('>');
            m.from = a != std::string::npos && b != std::string::npos
                         ? line.substr(a + 1, b - a - 1)
                         : "";
            WriteAll(fd, "250 2.1.0 Ok\r\n");
        } else if (verb == "rcpt") {
            auto a = line.find('<'), b = line.find('>');
            if (a == std::string::npos || b == std::string::npos ||
                line.find('@') == std::string::npos) {
                WriteAll(fd, "501 5.1.3 Bad recipient address syntax\r\n");
                continue;
            }
            m.to.push_back(line.substr(a + 1, b - a - 1));
            WriteAll(fd, "250 2.1.5 Ok\r\n");
        } else if (verb == "data") {
            if (m.to.empty()) {
                WriteAll(fd, "554 5.5.1 No valid recipients\r\n");
                continue;
            }
            WriteAll(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
            std::string data;
            bool complete = false;
            for (int lines = 0; lines < 100000 && ReadLine(fd, buf, line); ++lines) {
                if (line == ".") {
                    complete = true;
                    break;
                }
                data += (line.starts_with("..") ? line.substr(1) : line) + "\r\n";
            }
            if (!complete) {
                return;
            }
            m.data = std::move(data);
            {
                std::lock_guard lock(mu_);
                messages_.push_back(m);
            }
            cv_.notify_all();
            WriteAll(fd, "250 2.0.0 Ok: queued\r\n");
        } else if (verb == "rset") {
            m = MailRecord{};
            WriteAll(fd, "250 2.0.0 Ok\r\n");
        } else if (verb == "noop") {
            WriteAll(fd, "250 2.0.0 Ok\r\n");
        } else if (verb == "quit") {
            WriteAll(fd, "221 2.0.0 Bye\r\n");
            return;
        } else {
            WriteAll(fd, "502 5.5.2 Error: command not recognized\r\n");
        }
    }
}

std::vector<MailRecord> SmtpServer::Messages() {
    std::lock_guard lock(mu_);
    return messages_;
}

bool SmtpServer::WaitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

}  // namespace hangar::testing
