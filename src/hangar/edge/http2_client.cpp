#include "hangar/edge/http2_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "hangar/core/log.hpp"

namespace hangar::edge {

namespace {

struct Stream {
    Http2Client::Pending p;
    H2Response resp;
    size_t body_off = 0;
};

bool IsIpLiteral(const std::string& host) {
    in6_addr a6{};
    in_addr a4{};
    return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string SslError() {
    unsigned long e = ERR_get_error();
    if (e == 0) {
        return std::strerror(errno);
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool WaitFd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
        return false;
    }
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) > 0;
}

}  // namespace

std::string H2Response::Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

struct Http2Client::Conn {
    int fd = -1;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    nghttp2_session* session = nullptr;
    std::string out;  // bytes nghttp2 produced that TLS has not taken yet
    std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;
    std::deque<Pending>* retry = nullptr;  // refused requests go back here
    bool goaway = false;
    bool dead = false;

    ~Conn() {
        if (session != nullptr) {
            nghttp2_session_del(session);
        }
        if (ssl != nullptr) {
            SSL_free(ssl);
        }
        if (ctx != nullptr) {
            SSL_CTX_free(ctx);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }

    static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen, const uint8_t* value, size_t valuelen,
                        uint8_t, void* user) {
        auto* c = static_cast<Conn*>(user);
        auto it = c->streams.find(frame->hd.stream_id);
        if (it == c->streams.end()) {
            return 0;
        }
        std::string_view n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") {
            it->second->resp.status = std::atoi(std::string(v).c_str());
        } else {
            it->second->resp.headers.emplace_back(n, v);
        }
        return 0;
    }
    static int OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user) {
        auto* c = static_cast<Conn*>(user);
        if (auto it = c->streams.find(stream_id); it != c->streams.end() && it->second->resp.body.size() < (1 << 20)) {
            it->second->resp.body.append(reinterpret_cast<const char*>(data), len);
        }
        return 0;
    }
    static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            static_cast<Conn*>(user)->goaway = true;
        }
        return 0;
    }
    static int OnClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
        auto* c = static_cast<Conn*>(user);
        auto it = c->streams.find(stream_id);
        if (it == c->streams.end()) {
            return 0;
        }
        std::unique_ptr<Stream> s = std::move(it->second);
        c->streams.erase(it);
        if (s->resp.status != 0) {
            s->p.done(std::move(s->resp));
        } else if (error_code == NGHTTP2_REFUSED_STREAM && s->p.attempts < 3) {
            s->p.attempts++;  // the server did not process it (GOAWAY): send it again
            c->retry->push_back(std::move(s->p));
        } else {
            H2Response r;
            r.error = fmt::format("stream closed without an answer ({})", nghttp2_http2_strerror(error_code));
            s->p.done(std::move(r));
        }
        return 0;
    }
    static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* s = static_cast<Stream*>(source->ptr);
        size_t n = std::min(length, s->p.req.body.size() - s->body_off);
        std::memcpy(buf, s->p.req.body.data() + s->body_off, n);
        s->body_off += n;
        if (s->body_off == s->p.req.body.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }

    // Moves nghttp2's output into TLS as far as the socket takes it.
    void Flush() {
        for (;;) {
            const uint8_t* data = nullptr;
            ssize_t n = nghttp2_session_mem_send(session, &data);
            if (n < 0) {
                dead = true;
                return;
            }
            if (n == 0) {
                break;
            }
            out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        }
        while (!out.empty()) {
            int n = SSL_write(ssl, out.data(), static_cast<int>(std::min<size_t>(out.size(), 1 << 20)));
            if (n <= 0) {
                int err = SSL_get_error(ssl, n);
                if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
                    dead = true;
                }
                return;
            }
            out.erase(0, static_cast<size_t>(n));
        }
    }
    void Read() {
        char buf[16384];
        for (;;) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) {
                int err = SSL_get_error(ssl, n);
                if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                    dead = true;
                }
                return;
            }
            if (nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n)) < 0) {
                dead = true;
                return;
            }
        }
    }
    bool Submit(Pending p) {
        auto s = std::make_unique<Stream>();
        s->p = std::move(p);
        const H2Request& rq = s->p.req;
        std::vector<nghttp2_nv> nv;
        auto add = [&nv](const std::string& n, const std::string& v) {
            nv.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())), reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())),
                                    n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
        };
        static const std::string kMethod = ":method", kPath = ":path", kScheme = ":scheme", kHttps = "https", kAuthority = ":authority";
        add(kMethod, rq.method);
        add(kPath, rq.path);
        add(kScheme, kHttps);
        add(kAuthority, authority);
        for (const auto& [k, v] : rq.headers) {
            add(k, v);
        }
        nghttp2_data_provider body{};
        body.source.ptr = s.get();
        body.read_callback = ReadBody;
        int32_t id = nghttp2_submit_request(session, nullptr, nv.data(), nv.size(), rq.body.empty() ? nullptr : &body, nullptr);
        if (id < 0) {
            retry->push_front(std::move(s->p));
            return false;
        }
        streams.emplace(id, std::move(s));
        return true;
    }
    std::string authority;
};

Http2Client::Http2Client(H2Options opts) : opts_(std::move(opts)) {
    std::string rest = opts_.url;
    if (rest.starts_with("https://")) {
        rest = rest.substr(8);
    }
    while (rest.ends_with('/')) {
        rest.pop_back();
    }
    authority_ = rest;
    if (rest.starts_with('[')) {
        size_t close = rest.find(']');
        host_ = rest.substr(1, close - 1);
        port_ = close + 2 <= rest.size() ? rest.substr(close + 2) : "443";
    } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
        host_ = rest.substr(0, colon);
        port_ = rest.substr(colon + 1);
    } else {
        host_ = rest;
        port_ = "443";
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    thread_ = std::thread([this] { Run(); });
}

Http2Client::~Http2Client() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
}

void Http2Client::Submit(H2Request req, H2Callback done) {
    {
        std::lock_guard lock(mu_);
        if (!stop_ && queue_.size() < opts_.max_queue) {
            queue_.push_back(Pending{std::move(req), std::move(done), 0});
            if (!wake_pending_) {  // one wake-up per batch: the loop drains the whole queue
                wake_pending_ = true;
                uint64_t one = 1;
                (void)!::write(wake_fd_, &one, sizeof one);
            }
            return;
        }
    }
    H2Response r;
    r.error = "too many requests waiting for the provider connection";
    done(std::move(r));
}

void Http2Client::FailAll(std::deque<Pending>& q, const std::string& why) {
    while (!q.empty()) {
        Pending p = std::move(q.front());
        q.pop_front();
        H2Response r;
        r.error = why;
        p.done(std::move(r));
    }
}

void Http2Client::Run() {
    std::unique_ptr<Conn> c;
    std::deque<Pending> waiting;  // taken from the queue, not yet on a connection
    auto connect = [&]() -> std::string {
        auto conn = std::make_unique<Conn>();
        conn->retry = &waiting;
        conn->authority = authority_;
        auto deadline = std::chrono::steady_clock::now() + opts_.connect_timeout;
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (int rc = getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res); rc != 0) {
            return fmt::format("cannot resolve {}: {}", host_, gai_strerror(rc));
        }
        conn->fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int rc = ::connect(conn->fd, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        if (rc != 0 && errno != EINPROGRESS) {
            return fmt::format("cannot connect to {}: {}", authority_, std::strerror(errno));
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (!WaitFd(conn->fd, POLLOUT, deadline) || getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            return fmt::format("cannot connect to {}: {}", authority_, err != 0 ? std::strerror(err) : "timed out");
        }
        conn->ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(conn->ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(conn->ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_default_verify_paths(conn->ctx);
        if (!opts_.ca_file.empty() && SSL_CTX_load_verify_locations(conn->ctx, opts_.ca_file.c_str(), nullptr) != 1) {
            return fmt::format("cannot read the CA file {}: {}", opts_.ca_file, SslError());
        }
        static const unsigned char kAlpn[] = {2, 'h', '2'};
        SSL_CTX_set_alpn_protos(conn->ctx, kAlpn, sizeof kAlpn);
        SSL_CTX_set_mode(conn->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        conn->ssl = SSL_new(conn->ctx);
        SSL_set_fd(conn->ssl, conn->fd);
        X509_VERIFY_PARAM* param = SSL_get0_param(conn->ssl);
        if (IsIpLiteral(host_)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str());
        } else {
            SSL_set_tlsext_host_name(conn->ssl, host_.c_str());
            X509_VERIFY_PARAM_set1_host(param, host_.c_str(), 0);
        }
        SSL_set_connect_state(conn->ssl);
        for (;;) {
            int r = SSL_do_handshake(conn->ssl);
            if (r == 1) {
                break;
            }
            int e = SSL_get_error(conn->ssl, r);
            if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
                !WaitFd(conn->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                return fmt::format("TLS with {} failed: {}", authority_, e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? "timed out" : SslError());
            }
        }
        const unsigned char* proto = nullptr;
        unsigned int plen = 0;
        SSL_get0_alpn_selected(conn->ssl, &proto, &plen);
        if (plen != 2 || std::memcmp(proto, "h2", 2) != 0) {
            return fmt::format("{} does not speak HTTP/2 (ALPN)", authority_);
        }
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(cbs, Conn::OnHeader);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Conn::OnData);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Conn::OnFrame);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Conn::OnClose);
        nghttp2_session_client_new(&conn->session, cbs, conn.get());
        nghttp2_session_callbacks_del(cbs);
        nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
        nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, 2);
        nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, 16 << 20);
        c = std::move(conn);
        connections_++;
        return {};
    };
    auto fail_streams = [&](Conn& conn, const std::string& why) {
        for (auto& [id, s] : conn.streams) {
            H2Response r;
            r.error = why;
            s->p.done(std::move(r));
        }
        conn.streams.clear();
    };
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stop_) {
                break;
            }
            wake_pending_ = false;
            while (!queue_.empty()) {
                waiting.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (c && (c->dead || (c->goaway && c->streams.empty()))) {
            if (c->dead) {
                fail_streams(*c, "the connection to the provider was lost");
            }
            c.reset();
        }
        if (!c && !waiting.empty()) {
            if (std::string err = connect(); !err.empty()) {
                core::LogWarn("push provider connection failed", {{"provider", std::string_view(authority_)}, {"error", std::string_view(err)}});
                c.reset();
                FailAll(waiting, err);
                continue;
            }
        }
        if (c && !c->goaway) {
            while (!waiting.empty() && c->streams.size() < 10000) {
                Pending p = std::move(waiting.front());
                waiting.pop_front();
                if (!c->Submit(std::move(p))) {
                    break;
                }
            }
        }
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
        int nfds = 1;
        if (c) {
            c->Flush();
            fds[1] = {c->fd, static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0};
            nfds = 2;
        }
        if (c && c->dead) {
            continue;
        }
        if (::poll(fds, static_cast<nfds_t>(nfds), 1000) < 0 && errno != EINTR) {
            break;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            uint64_t n = 0;
            (void)!::read(wake_fd_, &n, sizeof n);
        }
        if (c && nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            c->Read();
            if ((fds[1].revents & (POLLHUP | POLLERR)) != 0 && (fds[1].revents & POLLIN) == 0) {
                c->dead = true;
            }
        }
        if (c && !c->dead) {
            c->Flush();
            if (nghttp2_session_want_read(c->session) == 0 && nghttp2_session_want_write(c->session) == 0 && c->out.empty()) {
                c->goaway = true;  // the session is over (GOAWAY handled and every stream closed)
            }
        }
    }
    if (c) {
        fail_streams(*c, "the push client is stopping");
    }
    FailAll(waiting, "the push client is stopping");
    std::lock_guard lock(mu_);
    FailAll(queue_, "the push client is stopping");
}

}  // namespace hangar::edge
