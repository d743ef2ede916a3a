#pragma once
// A closed-loop HTTP/1.1 load generator for the benchmark drivers: keep-alive connections on one
// epoll loop, one request in flight on each, every answer judged and timed.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hangar::testing {

using Clock = std::chrono::steady_clock;

struct LoadResult {
    int ok = 0, bad = 0;
    double seconds = 0;
    std::vector<double> latencies_ms;
    std::string first_bad;
};

inline int Connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// `n` requests over `conns` keep-alive connections, one in flight on each; `ok` judges each
// answer (status line and headers, body). `requests` may hold one request or one per request.
inline LoadResult Load(
    int port,
    const std::vector<std::string>& requests,
    int n,
    int conns,
    const std::function<bool(const std::string&, const std::string&)>& ok
) {
    struct Conn {
        int fd;
        std::string in;
        Clock::time_point sent;
    };
    LoadResult res;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> cs(static_cast<size_t>(conns));
    int started = 0;
    auto send_one = [&](Conn& c) {
        c.sent = Clock::now();
        c.in.clear();
        const std::string& request = requests[static_cast<size_t>(started) % requests.size()];
        if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
            std::perror("send");
            std::exit(1);
        }
        ++started;
    };
    auto t0 = Clock::now();
    for (size_t i = 0; i < cs.size() && started < n; ++i) {
        cs[i].fd = Connect(port);
        epoll_event ev{EPOLLIN, {.u64 = i}};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        send_one(cs[i]);
    }
    std::vector<epoll_event> evs(cs.size());
    char buf[65536];
    int done = 0;
    while (done < n) {
        int k = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 10000);
        if (k <= 0) {
            std::fprintf(stderr, "load: no answer for 10 s (%d of %d done)\n", done, n);
            std::exit(1);
        }
        for (int e = 0; e < k; ++e) {
            Conn& c = cs[evs[e].data.u64];
            ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
            if (r <= 0) {
                std::fprintf(stderr, "load: the server closed a connection\n");
                std::exit(1);
            }
            c.in.append(buf, static_cast<size_t>(r));
            size_t head = c.in.find("\r\n\r\n");
            if (head == std::string::npos) {
                continue;
            }
            size_t cl = c.in.find("Content-Length: ");
            if (cl == std::string::npos) {
                cl = c.in.find("content-length: ");
            }
            size_t len = cl == std::string::npos ? 0 : std::stoul(c.in.substr(cl + 16));
            if (c.in.size() < head + 4 + len) {
                continue;
            }
            std::string body = c.in.substr(head + 4, len);
            bool good = ok(c.in.substr(0, head), body);
            if (good) {
                ++res.ok;
            } else {
                if (res.bad++ == 0) {
                    res.first_bad = c.in.substr(0, 400);
                }
            }
            res.latencies_ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count()
            );
            ++done;
            if (started < n) {
                send_one(c);
            }
        }
    }
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& c : cs) {
        if (c.fd > 0) {
            ::close(c.fd);
        }
    }
    ::close(ep);
    return res;
}

inline LoadResult Load(
    int port,
    const std::string& request,
    int n,
    int conns,
    const std::function<bool(const std::string&, const std::string&)>& ok
) {
    return Load(port, std::vector<std::string>{request}, n, conns, ok);
}

inline double Pct(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace hangar::testing
