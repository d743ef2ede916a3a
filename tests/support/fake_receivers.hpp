#pragma once
// Loopback stand-ins for services outside the machine, speaking their real protocols:
// - WebhookReceiver: an HTTP/1.1 server that records each request (a Slack incoming webhook);
// - SmtpServer: an SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that records
//   each message.
// Both run one thread, take connections one at a time and stop with the object.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hangar::testing {

class LoopbackServer {
public:
    explicit LoopbackServer(int port = 0);  // 0: any free port
    virtual ~LoopbackServer();
    int port() const { return port_; }

protected:
    void StartThread();
    void StopThread();
    virtual void Serve(int fd) = 0;
    std::mutex mu_;
    std::condition_variable cv_;

private:
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

struct HttpRecord {
    std::string method, path, body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class WebhookReceiver : public LoopbackServer {
public:
    explicit WebhookReceiver(int status = 200);
    ~WebhookReceiver() override;
    std::string Url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }
    std::vector<HttpRecord> Requests();
    // Waits (bounded) until at least n requests arrived; true if they did.
    bool WaitFor(size_t n, std::chrono::milliseconds timeout);

private:
    void Serve(int fd) override;
    int status_;
    std::vector<HttpRecord> requests_;
};

struct MailRecord {
    std::string from;
    std::vector<std::string> to;
    std::string data;  // the message as sent, headers and body, dot-stuffing removed
};

class SmtpServer : public LoopbackServer {
public:
    explicit SmtpServer(int port = 0);
    ~SmtpServer() override;
    std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
    std::vector<MailRecord> Messages();
    bool WaitFor(size_t n, std::chrono::milliseconds timeout);

private:
    void Serve(int fd) override;
    std::vector<MailRecord> messages_;
};

}  // namespace hangar::testing
