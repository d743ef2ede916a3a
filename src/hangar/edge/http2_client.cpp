#include "hangar/edge/http2_client.hpp"

#include <atomic>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "hangar/core/destination.hpp"
#include "hangar/core/log.hpp"

namespace hangar::edge {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using ErrorCode = boost::system::error_code;

constexpr const char* kStopping = "the push client is stopping";
constexpr size_t kMaxStreams = 10000;  // in flight on one connection; the rest wait their turn

struct Pending {
    H2Request req;
    H2Callback done;
    int attempts = 0;
};

struct Stream {
    Pending p;
    H2Response resp;
    size_t body_off = 0;
};

void Fail(Pending& p, const std::string& why) {
    H2Response r;
    r.error = why;
    p.done(std::move(r));
}

void FailAll(std::deque<Pending>& q, const std::string& why) {
    std::deque<Pending> taken;
    taken.swap(q);  // a callback may queue more
    for (auto& p : taken) {
        Fail(p, why);
    }
}

bool IsIpLiteral(const std::string& host) {
    in6_addr a6{};
    in_addr a4{};
    return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string SslError() {
    unsigned long e = ERR_get_error();
    if (e == 0) {
        return "the connection was closed";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// One TLS connection and its nghttp2 session; touched only on the client's strand.
struct Conn {
    explicit Conn(const Strand& strand) : sock(strand), resolver(strand), timer(strand) {}
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    ~Conn() {
        if (session != nullptr) {
            nghttp2_session_del(session);
        }
        if (ssl != nullptr) {
            SSL_free(ssl);  // the socket BIO does not own the descriptor: `sock` closes it
        }
        if (ctx != nullptr) {
            SSL_CTX_free(ctx);
        }
    }

    tcp::socket sock;
    tcp::resolver resolver;
    asio::steady_timer timer;  // the connect deadline
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    nghttp2_session* session = nullptr;
    std::string authority;
    std::string out;  // bytes nghttp2 produced that TLS has not taken yet
    std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;
    std::deque<Pending>* retry = nullptr;  // refused requests go back here
    bool open = false;                     // TLS and HTTP/2 are up
    bool goaway = false;  // no new streams: the next request takes a new connection
    bool dead = false;
    bool reading = false, writing = false;  // a readiness wait is armed

    static int OnHeader(
        nghttp2_session*,
        const nghttp2_frame* frame,
        const uint8_t* name,
        size_t namelen,
        const uint8_t* value,
        size_t valuelen,
        uint8_t,
        void* user
    ) {
        auto* c = static_cast<Conn*>(user);
        auto it = c->streams.find(frame->hd.stream_id);
        if (it == c->streams.end()) {
            return 0;
        }
        std::string_view n(reinterpret_cast<const char*>(name), namelen),
            v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") {
            it->second->resp.status = std::atoi(std::string(v).c_str());
        } else {
            it->second->resp.headers.emplace_back(n, v);
        }
        return 0;
    }
    static int OnData(
        nghttp2_session*,
        uint8_t,
        int32_t stream_id,
        const uint8_t* data,
        size_t len,
        void* user
    ) {
        auto* c = static_cast<Conn*>(user);
        if (auto it = c->streams.find(stream_id);
            it != c->streams.end() && it->second->resp.body.size() < (1 << 20)) {
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
            Fail(
                s->p,
                fmt::format(
                    "stream closed without an answer ({})", nghttp2_http2_strerror(error_code)
                )
            );
        }
        return 0;
    }
    static ssize_t
    ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
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
        size_t sent = 0;
        while (sent < out.size()) {
            ERR_clear_error();  // an I/O thread's error queue may hold someone else's errors
            int n = SSL_write(
                ssl,
                out.data() + sent,
                static_cast<int>(std::min<size_t>(out.size() - sent, 1 << 20))
            );
            if (n <= 0) {
                int err = SSL_get_error(ssl, n);
                if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
                    dead = true;
                }
                break;
            }
            sent += static_cast<size_t>(n);
        }
        out.erase(0, sent);
    }
    // Feeds nghttp2 everything TLS has, until the socket would block.
    void Read() {
        char buf[16384];
        for (;;) {
            ERR_clear_error();
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) {
                int err = SSL_get_error(ssl, n);
                if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                    dead = true;
                }
                return;
            }
            if (nghttp2_session_mem_recv(
                    session, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n)
                ) < 0) {
                dead = true;
                return;
            }
        }
    }
    // Opens a stream for `p`; false when this connection can take no more (it goes back first
    // in line).
    bool Submit(Pending p) {
        auto s = std::make_unique<Stream>();
        s->p = std::move(p);
        const H2Request& rq = s->p.req;
        std::vector<nghttp2_nv> nv;
        nv.reserve(4 + rq.headers.size());
        auto add = [&nv](const std::string& n, const std::string& v) {
            nv.push_back(nghttp2_nv{
                reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())),
                n.size(),
                v.size(),
                NGHTTP2_NV_FLAG_NONE});
        };
        static const std::string kMethod = ":method", kPath = ":path", kScheme = ":scheme",
                                 kHttps = "https", kAuthority = ":authority";
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
        int32_t id = nghttp2_submit_request(
            session, nullptr, nv.data(), nv.size(), rq.body.empty() ? nullptr : &body, nullptr
        );
        if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
            goaway = true;  // stream ids used up: the next connection takes it
            retry->push_front(std::move(s->p));
            return false;
        }
        if (id < 0) {
            Fail(s->p, fmt::format("the request could not be sent: {}", nghttp2_strerror(id)));
            return true;
        }
        streams.emplace(id, std::move(s));
        return true;
    }
};

}  // namespace

struct Http2Client::State : std::enable_shared_from_this<State> {
    State(H2Options o, asio::io_context& context)
        : opts(std::move(o)), io(context), strand(asio::make_strand(context)) {}

    H2Options opts;
    std::string host, port, authority;
    asio::io_context& io;
    Strand strand;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
        guard;  // only on the client's own io_context
    std::atomic<uint64_t> connections{0};

    // Any thread: requests not yet seen by the strand.
    std::mutex mu;
    std::deque<Pending> queue;
    bool kicked = false;  // a Kick is posted and has not taken the queue yet
    bool stopped = false;

    // The strand only.
    std::deque<Pending> waiting;  // taken from the queue, not yet on a connection
    std::shared_ptr<Conn> conn;   // connecting or open

    // Moves what Submit queued into the strand's own line; with `stop`, Submit takes no more.
    void TakeQueue(bool stop) {
        std::lock_guard lock(mu);
        kicked = false;
        stopped = stopped || stop;
        std::move(queue.begin(), queue.end(), std::back_inserter(waiting));
        queue.clear();
    }

    void Kick() {
        TakeQueue(false);
        Drive();
    }

    // Puts waiting requests on the connection, writes what it can and arms the waits; drops a
    // connection that is dead or finished and starts the next one when requests wait.
    void Drive() {
        if (conn && conn->open) {
            Conn& c = *conn;
            if (!c.dead && !c.goaway) {
                while (!waiting.empty() && c.streams.size() < kMaxStreams) {
                    Pending p = std::move(waiting.front());
                    waiting.pop_front();
                    if (!c.Submit(std::move(p))) {
                        break;
                    }
                }
            }
            if (!c.dead) {
                c.Flush();
                if (c.dead) {
                    // The peer hung up, maybe after a GOAWAY not read yet: read what is left, so
                    // streams it refused go back in line instead of failing.
                    c.Read();
                }
            }
            if (!c.dead && nghttp2_session_want_read(c.session) == 0 &&
                nghttp2_session_want_write(c.session) == 0 && c.out.empty()) {
                c.goaway = true;  // the session is over (GOAWAY handled and every stream closed)
            }
            if (c.dead || (c.goaway && c.streams.empty())) {
                Drop("the connection to the provider was lost");
            } else {
                Arm(conn, false);
                if (!c.out.empty()) {
                    Arm(conn, true);
                }
            }
        }
        if (!conn && !waiting.empty()) {
            Connect();
        }
    }

    // Waits for the socket to be readable (or writable), then drives again.
    void Arm(const std::shared_ptr<Conn>& c, bool write) {
        bool& armed = write ? c->writing : c->reading;
        if (armed) {
            return;
        }
        armed = true;
        c->sock.async_wait(
            write ? tcp::socket::wait_write : tcp::socket::wait_read,
            asio::bind_executor(
                strand,
                [self = shared_from_this(), c, write](ErrorCode ec) {
                    (write ? c->writing : c->reading) = false;
                    if (self->conn != c) {
                        return;  // dropped meanwhile
                    }
                    if (ec) {
                        c->dead = true;
                    } else if (!write) {
                        c->Read();
                    }
                    self->Drive();
                }
            )
        );
    }

    // Closes the current connection; its open streams fail with `why`.
    void Drop(const std::string& why) {
        std::shared_ptr<Conn> c = std::move(conn);
        auto streams = std::move(c->streams);
        c->streams.clear();
        ErrorCode ignored;
        c->timer.cancel();
        c->resolver.cancel();
        c->sock.close(ignored);  // armed waits end with operation_aborted and see they are stale
        for (auto& [id, s] : streams) {
            Fail(s->p, why);
        }
    }

    void Connect() {
        auto c = std::make_shared<Conn>(strand);
        c->retry = &waiting;
        c->authority = authority;
        conn = c;
        auto self = shared_from_this();
        c->timer.expires_after(opts.connect_timeout);
        c->timer.async_wait(asio::bind_executor(strand, [self, c](ErrorCode ec) {
            if (!ec) {
                self->ConnectFailed(
                    c, fmt::format("cannot connect to {}: timed out", self->authority)
                );
            }
        }));
        c->resolver.async_resolve(
            host,
            port,
            asio::bind_executor(
                strand,
                [self, c](ErrorCode ec, const tcp::resolver::results_type& found) {
                    if (ec) {
                        self->ConnectFailed(
                            c, fmt::format("cannot resolve {}: {}", self->host, ec.message())
                        );
                        return;
                    }
                    tcp::resolver::results_type allowed = found;
                    if (self->opts.check_destination) {
                        std::vector<tcp::endpoint> ok;
                        for (const auto& e : found) {
                            if (core::DestinationPolicy::Global().AllowsConnect(
                                    e.endpoint().data(), self->host
                                )) {
                                ok.push_back(e.endpoint());
                            }
                        }
                        if (ok.empty()) {
                            self->ConnectFailed(
                                c,
                                fmt::format(
                                    "{} is a private, loopback or link-local address (an operator "
                                    "can allow it with --webhook-allow)",
                                    self->host
                                )
                            );
                            return;
                        }
                        allowed = tcp::resolver::results_type::create(
                            ok.begin(), ok.end(), self->host, self->port
                        );
                    }
                    asio::async_connect(
                        c->sock,
                        allowed,
                        asio::bind_executor(
                            self->strand,
                            [self, c](ErrorCode ec2, const tcp::endpoint&) {
                                if (ec2) {
                                    self->ConnectFailed(
                                        c,
                                        fmt::format(
                                            "cannot connect to {}: {}",
                                            self->authority,
                                            ec2.message()
                                        )
                                    );
                                    return;
                                }
                                if (std::string err = self->StartTls(*c); !err.empty()) {
                                    self->ConnectFailed(c, err);
                                    return;
                                }
                                self->Handshake(c);
                            }
                        )
                    );
                }
            )
        );
    }

    std::string StartTls(Conn& c) {
        ErrorCode ec;
        c.sock.non_blocking(true, ec);
        c.sock.set_option(tcp::no_delay(true), ec);
        c.ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(c.ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(c.ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_default_verify_paths(c.ctx);
        ERR_clear_error();
        if (!opts.ca_file.empty() &&
            SSL_CTX_load_verify_locations(c.ctx, opts.ca_file.c_str(), nullptr) != 1) {
            return fmt::format("cannot read the CA file {}: {}", opts.ca_file, SslError());
        }
        static const unsigned char kAlpn[] = {2, 'h', '2'};
        SSL_CTX_set_alpn_protos(c.ctx, kAlpn, sizeof kAlpn);
        SSL_CTX_set_mode(
            c.ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
        );
        c.ssl = SSL_new(c.ctx);
        SSL_set_fd(c.ssl, c.sock.native_handle());
        X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl);
        if (IsIpLiteral(host)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        } else {
            SSL_set_tlsext_host_name(c.ssl, host.c_str());
            X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
        }
        SSL_set_connect_state(c.ssl);
        return {};
    }

    void Handshake(const std::shared_ptr<Conn>& c) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                ConnectFailed(c, fmt::format("TLS with {} failed: {}", authority, SslError()));
                return;
            }
            c->sock.async_wait(
                e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                asio::bind_executor(
                    strand,
                    [self = shared_from_this(), c](ErrorCode ec) {
                        if (self->conn != c) {
                            return;
                        }
                        if (ec) {
                            self->ConnectFailed(
                                c,
                                fmt::format("TLS with {} failed: {}", self->authority, ec.message())
                            );
                            return;
                        }
                        self->Handshake(c);
                    }
                )
            );
            return;
        }
        const unsigned char* proto = nullptr;
        unsigned int plen = 0;
        SSL_get0_alpn_selected(c->ssl, &proto, &plen);
        if (plen != 2 || std::memcmp(proto, "h2", 2) != 0) {
            ConnectFailed(c, fmt::format("{} does not speak HTTP/2 (ALPN)", authority));
            return;
        }
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(cbs, Conn::OnHeader);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Conn::OnData);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Conn::OnFrame);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Conn::OnClose);
        nghttp2_session_client_new(&c->session, cbs, c.get());
        nghttp2_session_callbacks_del(cbs);
        nghttp2_settings_entry settings[] = {
            {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
        nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, 16 << 20);
        c->timer.cancel();
        c->open = true;
        connections++;
        Drive();
    }

    // The connection being made failed: so do the requests waiting for it.
    void ConnectFailed(const std::shared_ptr<Conn>& c, const std::string& why) {
        if (conn != c || c->open) {
            return;  // already given up on (the deadline and the aborted wait both report)
        }
        core::LogWarn(
            "push provider connection failed",
            {{"provider", std::string_view(authority)}, {"error", std::string_view(why)}}
        );
        Drop(why);
        FailAll(waiting, why);
    }

    // Fails everything queued, waiting or in flight, and closes the connection.
    void Shutdown() {
        TakeQueue(true);
        if (conn) {
            Drop(kStopping);
        }
        FailAll(waiting, kStopping);
        guard.reset();
    }
};

std::string H2Response::Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

Http2Client::Http2Client(H2Options opts, asio::io_context* io) {
    if (io == nullptr) {
        own_io_ = std::make_unique<asio::io_context>(1);
        io = own_io_.get();
    }
    state_ = std::make_shared<State>(std::move(opts), *io);
    State& st = *state_;
    std::string rest = st.opts.url;
    if (rest.starts_with("https://")) {
        rest = rest.substr(8);
    }
    while (rest.ends_with('/')) {
        rest.pop_back();
    }
    st.authority = rest;
    if (rest.starts_with('[')) {
        size_t close = rest.find(']');
        st.host = rest.substr(1, close - 1);
        st.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "443";
    } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
        st.host = rest.substr(0, colon);
        st.port = rest.substr(colon + 1);
    } else {
        st.host = rest;
        st.port = "443";
    }
    if (own_io_) {
        st.guard.emplace(own_io_->get_executor());
        thread_ = std::thread([ctx = own_io_.get()] { ctx->run(); });
    }
}

Http2Client::~Http2Client() {
    std::shared_ptr<State> st = std::move(state_);
    if (own_io_) {
        asio::post(st->strand, [st] { st->Shutdown(); });
        thread_.join(
        );           // run() returns once Shutdown let go of the guard and the aborted waits ran
        st.reset();  // the strand must go before its io_context
        return;
    }
    if (st->io.stopped()) {
        st->Shutdown();  // nothing runs the strand any more: fail what is left here
        return;
    }
    asio::post(st->strand, [st] { st->Shutdown(); });
}

void Http2Client::Submit(H2Request req, H2Callback done) {
    State& st = *state_;
    const char* refused = kStopping;
    {
        std::lock_guard lock(st.mu);
        if (!st.stopped && st.queue.size() < st.opts.max_queue) {
            st.queue.push_back(Pending{std::move(req), std::move(done), 0});
            if (!st.kicked) {  // one hand-over per batch: the strand takes the whole queue
                st.kicked = true;
                asio::post(st.strand, [self = state_] { self->Kick(); });
            }
            return;
        }
        if (!st.stopped) {
            refused = "too many requests waiting for the provider connection";
        }
    }
    H2Response r;
    r.error = refused;
    done(std::move(r));
}

uint64_t Http2Client::connections() const {
    return state_->connections.load();
}

const std::string& Http2Client::authority() const {
    return state_->authority;
}

}  // namespace hangar::edge
