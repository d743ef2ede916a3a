#include "hangar/http/server.hpp"

#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <sched.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"

namespace hangar::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;  // NOLINT(readability-identifier-naming): Asio's own name
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

size_t UsableCpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1U, std::thread::hardware_concurrency());
}

namespace {

std::string ErrorBody(core::ErrorCode code, std::string message) {
    return core::ToJson(core::ErrorToJson(core::MakeError(code, std::move(message))));
}

bool SafeRequestId(std::string_view s) {
    if (s.empty() || s.size() > 64) {
        return false;
    }
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

// An SSE sink: producers push from any thread; the session coroutine drains on its strand.
class SseSink final : public StreamSink, public std::enable_shared_from_this<SseSink> {
public:
    explicit SseSink(const asio::any_io_executor& strand) : strand_(strand), timer_(strand) {}

    bool Send(std::string data) override {
        {
            std::lock_guard lock(mu_);
            if (!open_) {
                return false;
            }
            if (queue_.size() >= kMaxQueued) {
                open_ = false;  // too slow a reader: drop it; it resumes from its last revision
            } else {
                queue_.push_back(std::move(data));
            }
        }
        Wake();
        return IsOpen();
    }
    void Close() override {
        {
            std::lock_guard lock(mu_);
            open_ = false;
        }
        Wake();
    }
    bool IsOpen() const override {
        std::lock_guard lock(mu_);
        return open_;
    }
    // Takes what is queued; false when closed and drained.
    bool Drain(std::string& out) {
        std::lock_guard lock(mu_);
        for (auto& s : queue_) {
            out += s;
        }
        queue_.clear();
        return open_;
    }
    asio::steady_timer& timer() { return timer_; }

private:
    void Wake() {
        asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
    }
    static constexpr size_t kMaxQueued = 10000;
    asio::any_io_executor strand_;  // the session's strand
    asio::steady_timer timer_;
    mutable std::mutex mu_;
    std::deque<std::string> queue_;
    bool open_ = true;
};

// One timer per connection that cancels the socket's operations once the current deadline
// passes. Moving the deadline is a store, not a timer operation: the timer is re-armed only when
// it wakes (at most every `max_sleep`) or when a deadline comes earlier than its wake-up. Three
// arm-and-cancel pairs per request (each may cost a timerfd system call) took a third off the
// request rate. Runs on the session's strand; it outlives the session through its own handler,
// so the session closes it before the socket goes.
class Watchdog final : public std::enable_shared_from_this<Watchdog> {
public:
    using Clock = std::chrono::steady_clock;
    Watchdog(
        const asio::any_io_executor& strand,
        tcp::socket& sock,
        std::chrono::milliseconds max_sleep
    )
        : timer_(strand), sock_(&sock), max_sleep_(max_sleep) {}

    // The current operation must end by `when`; clears an earlier firing.
    void Expect(Clock::time_point when) {
        deadline_ = when;
        fired_ = false;
        if (!waiting_ || when < wake_at_) {
            Arm(std::min(when, Clock::now() + max_sleep_));
        }
    }
    // The current operation has no deadline (a handler runs); the next wake-up lets it be.
    void Relax() { deadline_ = Clock::time_point::max(); }
    // True when the deadline passed and the socket's operations were cancelled.
    bool Fired() const { return fired_; }
    void Close() noexcept {
        sock_ = nullptr;
        try {
            timer_.cancel();
        } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch)
            // Only a broken reactor fails a cancel; the wake-up then finds sock_ gone.
        }
    }

private:
    void Arm(Clock::time_point at) {
        wake_at_ = at;
        waiting_ = true;
        timer_.expires_at(at);
        timer_.async_wait([self = shared_from_this(),
                           generation = ++generation_](const boost::system::error_code&) {
            self->Wake(generation);
        });
    }
    void Wake(uint64_t generation) {
        if (generation != generation_ || sock_ == nullptr) {
            return;  // re-armed since, or the session is over
        }
        waiting_ = false;
        if (deadline_ == Clock::time_point::max()) {
            return;  // nothing to watch; the next Expect arms again
        }
        auto now = Clock::now();
        if (now >= deadline_) {
            fired_ = true;
            boost::system::error_code ignored;
            sock_->cancel(ignored);
            return;
        }
        Arm(std::min(deadline_, now + max_sleep_));
    }

    asio::steady_timer timer_;
    tcp::socket* sock_;
    std::chrono::milliseconds max_sleep_;
    Clock::time_point deadline_ = Clock::time_point::max();
    Clock::time_point wake_at_{};
    bool waiting_ = false;
    bool fired_ = false;
    uint64_t generation_ = 0;
};

}  // namespace

struct Server::Impl {
    ServerOptions opts;
    const Router& router;
    asio::io_context ioc;
    asio::thread_pool workers;
    tcp::acceptor acceptor{ioc};
    asio::signal_set signals{ioc, SIGTERM, SIGINT};
    std::atomic<size_t> pending{0};
    std::atomic<size_t> sessions{0};
    std::atomic<bool> draining{false};
    std::mutex streams_mu;
    std::vector<std::weak_ptr<SseSink>> streams;
    std::mutex per_address_mu;
    std::unordered_map<std::string, size_t> per_address;  // open connections by client address

    core::CounterFamily& requests;
    core::HistogramFamily& latency;
    core::GaugeFamily& inflight;
    core::CounterFamily& rejected;

    Impl(ServerOptions o, const Router& r, core::MetricsRegistry& m)
        : opts(std::move(o)),
          router(r),
          workers(o.workers == 0 ? 32 : o.workers),
          requests(m.Counter(
              "hangar_http_requests_total",
              "HTTP requests answered, by route, method and status code.",
              {"route", "method", "code"}
          )),
          latency(m.Histogram(
              "hangar_http_request_duration_seconds",
              "Time from the full request read to the response handed to the socket.",
              {"route", "method"},
              core::LatencyBuckets()
          )),
          inflight(m.Gauge("hangar_http_inflight_requests", "Handler calls queued or running.", {})
          ),
          rejected(m.Counter(
              "hangar_http_rejected_total",
              "Requests refused before a handler ran, by reason.",
              {"reason"}
          )) {}

    awaitable<void> Accept();
    // `address` is the client's, counted in per_address (empty: not counted).
    awaitable<void> Session(tcp::socket sock, std::string address);
    awaitable<void> Stream(beast::tcp_stream& stream, Response& res, const std::string& rid);
    std::optional<Response> Route(Request& req, const Router::Route*& route);
    Response Dispatch(Request& req, const Router::Route& route);
    void BeginStop();
};

// Finds the route on the I/O thread; answers routing errors, and inline handlers, right there.
std::optional<Response> Server::Impl::Route(Request& req, const Router::Route*& route) {
    std::string allow;
    switch (router.Find(req, route, allow)) {
        case Router::Match::kFound:
            break;
        case Router::Match::kNoPath:
            req.route = "unmatched";
            return Response{
                404,
                "application/json",
                {},
                ErrorBody(core::ErrorCode::kNotFound, fmt::format("no route for {}", req.path)),
                {}};
        case Router::Match::kNoMethod:
            req.route = "unmatched";
            return Response{
                405,
                "application/json",
                {{"allow", allow}},
                ErrorBody(
                    core::ErrorCode::kMethodNotAllowed,
                    fmt::format("{} does not accept {}; it accepts {}", req.path, req.method, allow)
                ),
                {}};
    }
    if (route->fast) {
        try {
            return route->fast(req);
        } catch (const std::exception& e) {
            return std::nullopt;  // the pool handler will answer properly
        }
    }
    return std::nullopt;
}

Response Server::Impl::Dispatch(Request& req, const Router::Route& route) {
    try {
        return route.handler(req);
    } catch (const std::exception& e) {
        core::LogError(
            "handler failed",
            {{"request_id", std::string_view(req.request_id)},
             {"error", std::string_view(e.what())}}
        );
        return Response{
            500,
            "application/json",
            {},
            ErrorBody(
                core::ErrorCode::kInternal, "internal error; see the server log with the request id"
            ),
            {}};
    }
}

awaitable<void> Server::Impl::Accept() {
    while (true) {
        auto [ec, sock] = co_await acceptor.async_accept(kTuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
                co_return;
            }
            continue;  // EMFILE and friends: keep serving the connections we have
        }
        sock.set_option(tcp::no_delay(true));
        boost::system::error_code rec;
        std::string address = sock.remote_endpoint(rec).address().to_string();
        if (rec) {
            address.clear();  // not counted, so never uncounted
        } else {
            std::lock_guard lock(per_address_mu);
            size_t& n = per_address[address];
            if (n >= opts.max_connections_per_address) {
                // Refused before any read: one address cannot hold every connection slot.
                rejected.Inc({"connections_per_address"});
                static const std::string kRefusal = [] {
                    std::string body = ErrorBody(
                        core::ErrorCode::kUnavailable, "too many open connections from this address"
                    );
                    return fmt::format(
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                        "application/json\r\nRetry-After: 1\r\n"
                        "Connection: close\r\nContent-Length: {}\r\n\r\n{}",
                        body.size(),
                        body
                    );
                }();
                boost::system::error_code ignored;
                sock.non_blocking(true, ignored);
                sock.write_some(asio::buffer(kRefusal), ignored);
                sock.close(ignored);
                continue;
            }
            ++n;
        }
        auto strand = asio::make_strand(ioc);
        asio::co_spawn(strand, Session(std::move(sock), std::move(address)), asio::detached);
    }
}

awaitable<void> Server::Impl::Session(tcp::socket sock, std::string address) {
    sessions++;
    struct Guard {
        Impl& impl;
        std::string address;
        ~Guard() {
            impl.sessions--;
            if (!address.empty()) {
                std::lock_guard lock(impl.per_address_mu);
                if (auto it = impl.per_address.find(address);
                    it != impl.per_address.end() && --it->second == 0) {
                    impl.per_address.erase(it);
                }
            }
        }
    } guard{*this, address};
    beast::tcp_stream stream(std::move(sock));
    std::string remote;
    {
        boost::system::error_code rec;
        auto ep = stream.socket().remote_endpoint(rec);
        if (!rec) {
            remote = fmt::format("{}:{}", ep.address().to_string(), ep.port());
        }
    }
    beast::flat_buffer buf;
    bool first = true;
    // Our own timer, not tcp_stream's expiry: that one closes the socket, and a client that
    // dribbles its headers (slow-loris) should still be told 408. It sleeps at most the
    // shortest timeout, so the header deadline after an idle wait never re-arms it.
    auto dog = std::make_shared<Watchdog>(
        co_await asio::this_coro::executor,
        stream.socket(),
        std::max(std::chrono::milliseconds(1), std::min(opts.header_timeout, opts.request_timeout))
    );
    struct DogGuard {
        Watchdog& dog;
        ~DogGuard() { dog.Close(); }
    } dog_guard{*dog};
    stream.expires_never();
    while (!draining) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(16 * 1024);
        // Beast checks Content-Length against the body limit while it reads the headers; the
        // limit is the route's (uploads take more), known only once the headers are in, so it
        // is set then, and the Content-Length checked below.
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        // Between requests the connection is idle; the request's clock starts at its first byte.
        if (buf.size() == 0) {
            dog->Expect(
                std::chrono::steady_clock::now() + (first ? opts.header_timeout : opts.idle_timeout)
            );
            auto [wec] = co_await stream.socket().async_wait(tcp::socket::wait_read, kTuple);
            if (wec || dog->Fired()) {
                co_return;  // an idle keep-alive connection, or one that never spoke: close quietly
            }
        }
        first = false;
        auto request_start = std::chrono::steady_clock::now();
        auto request_end = request_start + opts.request_timeout;
        dog->Expect(std::min(request_start + opts.header_timeout, request_end));
        auto [hec, hn] = co_await bhttp::async_read_header(stream, buf, parser, kTuple);
        if (dog->Fired()) {
            hec = beast::error::timeout;
        }
        dog->Relax();  // an error answer below has its own five seconds
        bhttp::response<bhttp::string_body> res;
        res.version(11);
        std::string rid = core::NewRequestId();
        auto fail = [&](int status, core::ErrorCode code, std::string msg, std::string_view reason
                    ) {
            rejected.Inc({std::string(reason)});
            res.result(static_cast<unsigned>(status));
            res.set(bhttp::field::content_type, "application/json");
            res.set("x-request-id", rid);
            res.keep_alive(false);
            res.body() = ErrorBody(code, std::move(msg));
            res.prepare_payload();
        };
        if (hec) {
            if (hec == bhttp::error::end_of_stream || hec == asio::error::eof ||
                hec == asio::error::connection_reset) {
                co_return;
            }
            if (hec == beast::error::timeout) {
                fail(
                    408,
                    core::ErrorCode::kRequestTimeout,
                    "request headers took too long",
                    "header_timeout"
                );
            } else if (hec == bhttp::error::body_limit) {
                fail(
                    413,
                    core::ErrorCode::kPayloadTooLarge,
                    fmt::format("request body exceeds {} bytes", opts.body_limit),
                    "body_limit"
                );
            } else if (hec == bhttp::error::header_limit) {
                fail(
                    431,
                    core::ErrorCode::kInvalidArgument,
                    "request headers exceed 16 KiB",
                    "header_limit"
                );
            } else {
                fail(
                    400,
                    core::ErrorCode::kInvalidArgument,
                    fmt::format("malformed HTTP request: {}", hec.message()),
                    "malformed"
                );
            }
            stream.expires_after(std::chrono::seconds(5));
            co_await bhttp::async_write(stream, res, kTuple);
            stream.socket().shutdown(tcp::socket::shutdown_both);
            co_return;
        }
        auto& hdr = parser.get();
        if (auto it = hdr.find("x-request-id"); it != hdr.end() && SafeRequestId(it->value())) {
            rid = std::string(it->value());
        }
        // An upload route takes larger bodies; every other keeps the server's limit.
        size_t body_limit = opts.body_limit;
        if (size_t own = router.MaxBodyFor(
                std::string_view(hdr.method_string()), std::string_view(hdr.target())
            );
            own != 0) {
            body_limit = own;
        }
        parser.body_limit(body_limit);
        if (hdr.has_content_length() && parser.content_length() &&
            *parser.content_length() > body_limit) {
            fail(
                413,
                core::ErrorCode::kPayloadTooLarge,
                fmt::format("request body exceeds {} bytes", body_limit),
                "body_limit"
            );
            stream.expires_after(std::chrono::seconds(5));
            co_await bhttp::async_write(stream, res, kTuple);
            stream.socket().shutdown(tcp::socket::shutdown_both);
            co_return;
        }
        // Only "chunked" is a transfer coding we read. Any other (xchunked, gzip) would leave
        // the body unread and parsed as the next request: a request-smuggling building block
        // behind a proxy. Refuse it and close.
        if (auto te = hdr.find(bhttp::field::transfer_encoding);
            te != hdr.end() && !beast::iequals(te->value(), "chunked")) {
            fail(
                400,
                core::ErrorCode::kInvalidArgument,
                fmt::format(
                    "Transfer-Encoding \"{}\" is not supported; send chunked or a Content-Length",
                    core::ToValidUtf8(std::string_view(te->value()).substr(0, 64))
                ),
                "transfer_encoding"
            );
            stream.expires_after(std::chrono::seconds(5));
            co_await bhttp::async_write(stream, res, kTuple);
            stream.socket().shutdown(tcp::socket::shutdown_both);
            co_return;
        }
        if (hdr[bhttp::field::expect] == "100-continue") {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
            co_await bhttp::async_write(stream, cont, kTuple);
        }
        // Beast reads into whatever room the buffer has, at least 512 bytes: a 30 KB body would
        // take sixty reads. Room for the body (up to Beast's 64 KiB per read) takes one or two.
        if (auto len = parser.content_length(); len && *len > buf.capacity() - buf.size()) {
            buf.reserve(
                buf.size() + static_cast<size_t>(std::min<uint64_t>(*len, uint64_t{64} * 1024))
            );
        }
        // The same cancelling timer as for the headers (tcp_stream's expiry would close the
        // socket, and the client would never see its 408).
        dog->Expect(std::min(std::chrono::steady_clock::now() + opts.body_timeout, request_end));
        auto [bec, bn] = co_await bhttp::async_read(stream, buf, parser, kTuple);
        if (dog->Fired()) {
            bec = beast::error::timeout;
        }
        dog->Relax();
        if (bec) {
            if (bec == bhttp::error::body_limit) {
                fail(
                    413,
                    core::ErrorCode::kPayloadTooLarge,
                    fmt::format("request body exceeds {} bytes", body_limit),
                    "body_limit"
                );
            } else if (bec == beast::error::timeout) {
                fail(
                    408,
                    core::ErrorCode::kRequestTimeout,
                    "request body took too long",
                    "body_timeout"
                );
            } else {
                co_return;
            }
            stream.expires_after(std::chrono::seconds(5));
            co_await bhttp::async_write(stream, res, kTuple);
            stream.socket().shutdown(tcp::socket::shutdown_both);
            co_return;
        }
        auto start = std::chrono::steady_clock::now();
        auto msg = parser.release();

        auto req = std::make_shared<Request>();
        req->method = std::string(msg.method_string());
        req->target = std::string(msg.target());
        req->remote = remote;
        req->request_id = rid;
        for (const auto& f : msg) {
            std::string name(f.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            req->headers.emplace_back(std::move(name), std::string(f.value()));
        }
        req->body = std::move(msg.body());
        bool keep_alive = msg.keep_alive() && !draining;

        Response out;
        std::string target = LenientTarget(req->target);  // the parsed view points into it
        auto parsed = boost::urls::parse_origin_form(target);
        if (!parsed) {
            req->route = "unmatched";
            out = Response{
                400,
                "application/json",
                {},
                ErrorBody(core::ErrorCode::kInvalidArgument, "malformed request target"),
                {}};
        } else {
            req->path = std::string(parsed->path());
            for (auto p : parsed->params()) {
                req->query.emplace_back(std::string(p.key), std::string(p.value));
            }
            const Router::Route* route = nullptr;
            if (auto answered = Route(*req, route)) {
                out = std::move(*answered);
            } else if (pending.load() >= opts.max_pending) {
                req->route = "overload";
                rejected.Inc({"overload"});
                out = Response{
                    503,
                    "application/json",
                    {{"retry-after", "1"}},
                    ErrorBody(
                        core::ErrorCode::kUnavailable, "the server is overloaded; retry shortly"
                    ),
                    {}};
            } else {
                pending++;
                inflight.Add({}, 1);
                // GCC 12 destroys non-trivial temporaries of a co_await expression twice, so
                // the operand is a named awaitable and the lambda holds a plain pointer (the
                // frame keeps `req` alive).
                Request* raw = req.get();
                bool taken = false;
                if (route->async) {
                    // Status 0 marks "not taken": the pool handler answers instead.
                    auto op = asio::async_initiate<const asio::use_awaitable_t<>, void(Response)>(
                        [raw, route](auto handler) {
                            using H = std::decay_t<decltype(handler)>;
                            auto h = std::make_shared<H>(std::move(handler));
                            auto done = [h](Response r) {
                                auto ex = asio::get_associated_executor(*h);
                                asio::post(ex, [h, r = std::move(r)]() mutable {
                                    std::move (*h)(std::move(r));
                                });
                            };
                            bool accepted = false;
                            try {
                                accepted = route->async(*raw, done);
                            } catch (const std::exception&) {
                                accepted = false;
                            }
                            if (!accepted) {
                                done(Response{0, "", {}, "", {}});
                            }
                        },
                        use_awaitable
                    );
                    out = co_await std::move(op);
                    taken = out.status != 0;
                }
                if (!taken) {
                    auto work = asio::co_spawn(
                        workers,
                        [this, raw, route]() -> awaitable<Response> {
                            co_return Dispatch(*raw, *route);
                        },
                        use_awaitable
                    );
                    out = co_await std::move(work);
                }
                inflight.Add({}, -1);
                pending--;
            }
        }

        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        requests.Inc({req->route, req->method, std::to_string(out.status)});
        latency.Observe({req->route, req->method}, secs);
        core::Log(
            out.status >= 500 ? core::LogLevel::kError : core::LogLevel::kInfo,
            "request",
            {{"request_id", std::string_view(rid)},
             {"method", std::string_view(req->method)},
             {"path", std::string_view(req->path)},
             {"status", static_cast<int64_t>(out.status)},
             {"duration_ms", secs * 1000},
             {"remote", std::string_view(remote)}}
        );

        if (out.stream) {
            dog->Close();  // a stream's writes carry their own expiry
            co_await Stream(stream, out, rid);
            co_return;
        }
        res.result(static_cast<unsigned>(out.status));
        res.set(bhttp::field::content_type, out.content_type);
        res.set("x-request-id", rid);
        for (const auto& [k, v] : out.headers) {
            res.set(k, v);
        }
        res.keep_alive(keep_alive);
        res.body() = req->method == "HEAD" ? std::string() : std::move(out.body);
        res.prepare_payload();
        dog->Expect(std::chrono::steady_clock::now() + opts.body_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
        if (wec || dog->Fired() || !keep_alive) {
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            co_return;
        }
    }
}

awaitable<void>
Server::Impl::Stream(beast::tcp_stream& stream, Response& res, const std::string& rid) {
    std::string head = fmt::format(
        "HTTP/1.1 {} OK\r\nContent-Type: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n"
        "X-Request-Id: {}\r\nX-Accel-Buffering: no\r\n",
        res.status,
        res.content_type,
        rid
    );
    for (const auto& [k, v] : res.headers) {
        head += fmt::format("{}: {}\r\n", k, v);
    }
    head += "\r\n";
    auto ex = co_await asio::this_coro::executor;
    auto sink = std::make_shared<SseSink>(ex);
    {
        std::lock_guard lock(streams_mu);
        std::erase_if(streams, [](auto& w) { return w.expired(); });
        streams.push_back(sink);
    }
    stream.expires_after(opts.body_timeout);
    auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), kTuple);
    if (hec) {
        sink->Close();
        co_return;
    }
    // The producer starts on a worker: its first step may read the store.
    asio::post(workers, [start = std::move(res.stream), sink] { start(sink); });
    std::string out;
    while (true) {
        out.clear();
        bool open = sink->Drain(out);
        if (!out.empty()) {
            stream.expires_after(opts.body_timeout);
            auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
            if (wec) {
                sink->Close();
                co_return;
            }
            continue;
        }
        if (!open || draining) {
            break;
        }
        sink->timer().expires_after(opts.heartbeat);
        auto [tec] = co_await sink->timer().async_wait(kTuple);
        if (!tec) {  // the heartbeat fired: nothing happened for a while
            stream.expires_after(opts.body_timeout);
            auto [wec, wn] = co_await asio::async_write(
                stream, asio::buffer(std::string_view(": keep-alive\n\n")), kTuple
            );
            if (wec) {
                sink->Close();
                co_return;
            }
        }
    }
    sink->Close();
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void Server::Impl::BeginStop() {
    if (draining.exchange(true)) {
        return;
    }
    core::LogInfo("shutting down: no new connections, draining in-flight requests");
    boost::system::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    std::lock_guard lock(streams_mu);
    for (auto& w : streams) {
        if (auto s = w.lock()) {
            s->Close();
        }
    }
}

Server::Server(ServerOptions opts, const Router& router, core::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(opts), router, metrics)) {}

Server::~Server() {
    impl_->workers.join();
}

core::Result<void> Server::Bind() {
    const std::string& listen = impl_->opts.listen;
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        return core::Fail(
            core::ErrorCode::kInvalidArgument, fmt::format("--listen \"{}\": use HOST:PORT", listen)
        );
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = 0;
    try {
        port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        return core::Fail(
            core::ErrorCode::kInvalidArgument, fmt::format("--listen \"{}\": bad port", listen)
        );
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) {
        return core::Fail(
            core::ErrorCode::kInvalidArgument, fmt::format("--listen \"{}\": bad address", listen)
        );
    }
    tcp::endpoint ep(addr, static_cast<uint16_t>(port));
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) {
        a.set_option(tcp::acceptor::reuse_address(true), ec);
        a.bind(ep, ec);
    }
    if (!ec) {
        a.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return core::Fail(
            core::ErrorCode::kUnavailable,
            fmt::format("cannot listen on {}: {}", listen, ec.message())
        );
    }
    return {};
}

uint16_t Server::port() const {
    boost::system::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

void Server::Run() {
    Impl& im = *impl_;
    im.signals.async_wait([&im](const boost::system::error_code& ec, int) {
        if (!ec) {
            im.BeginStop();
        }
    });
    asio::co_spawn(im.ioc, im.Accept(), asio::detached);
    size_t n = im.opts.io_threads == 0 ? UsableCpus() : im.opts.io_threads;
    // Watches the drain: once stopping, wait for sessions to finish (or the drain timeout).
    std::thread reaper([&im] {
        while (!im.draining) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (im.ioc.stopped()) {
                return;
            }
        }
        auto deadline = std::chrono::steady_clock::now() + im.opts.drain_timeout;
        while (im.sessions.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        im.ioc.stop();
    });
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n; ++i) {
        threads.emplace_back([&im] { im.ioc.run(); });
    }
    im.ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    reaper.join();
}

bool Server::Draining() const {
    return impl_->draining.load();
}

asio::io_context& Server::io_context() {
    return impl_->ioc;
}

void Server::Stop() {
    asio::post(impl_->ioc, [im = impl_.get()] { im->BeginStop(); });
}

}  // namespace hangar::http
