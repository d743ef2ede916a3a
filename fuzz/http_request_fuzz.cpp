// HTTP/1.1 requests as the server reads them. The reading itself is inside
// http::Server::Impl::Session (server.cpp, not callable without a socket), so this does the
// same steps in the same order with the same libraries and limits:
//   boost::beast::http::request_parser<string_body>, header_limit 16 KiB, body_limit 1 MiB
//   (ServerOptions' default), the Content-Length check; the Request filled as Session fills it
//   (lower-cased header names); http::LenientTarget, the re-escaping of the query Session applies;
//   boost::urls::parse_origin_form; the decoded path and query; then Hangar's own code:
//   hangar::http::Router::Find over the API's route patterns, and the api layer's request
//   readers BodyObject, QueryInt and KnownQuery.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "hangar/api/call.hpp"
#include "hangar/http/message.hpp"
#include "hangar/http/router.hpp"

#include "fuzz_support.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace http = hangar::http;
namespace api = hangar::api;

constexpr size_t kHeaderLimit = 16 * 1024;  // server.cpp: parser.header_limit(16 * 1024)
constexpr size_t kBodyLimit = 1 << 20;      // ServerOptions::body_limit

// Patterns as the api and edge layers register them (a representative set: literal segments,
// {id} parameters, {id}:action suffixes, the catch-all file route).
constexpr std::pair<const char*, const char*> kRoutes[] = {
    {"GET", "/"},
    {"GET", "/healthz"},
    {"GET", "/metrics"},
    {"GET", "/ui/{file}"},
    {"GET", "/v1/tenants"},
    {"POST", "/v1/tenants"},
    {"GET", "/v1/tenants/{id}"},
    {"PUT", "/v1/tenants/{id}"},
    {"DELETE", "/v1/tenants/{id}"},
    {"GET", "/v1/tenants/{id}/sla"},
    {"GET", "/v1/instances/{id}"},
    {"GET", "/v1/instances/{id}/logs"},
    {"POST", "/v1/instances/{id}:restart"},
    {"POST", "/v1/instances/{id}:suspend"},
    {"POST", "/v1/runbooks/{id}:approve"},
    {"POST", "/v1/workspaces/{id}:rotate-secret"},
    {"GET", "/v1/workspaces:pending"},
    {"GET", "/v1/schedules/{id}/ical"},
    {"GET", "/v1/incidents/{id}/timeline"},
    {"GET", "/api/v1/query"},
    {"POST", "/api/v1/query"},
    {"GET", "/api/v1/query_range"},
    {"GET", "/api/v1/label/{name}/values"},
    {"POST", "/api/v1/write"},
    {"POST", "/api/v2/workspaces/{id}/sync"},
    {"POST", "/api/oauth/token"},
};

const http::Router& Routes() {
    static const http::Router router = [] {
        http::Router r;
        for (const auto& [method, pattern] : kRoutes) {
            r.Add(method, pattern, [](http::Request&) { return http::Response{}; });
        }
        return r;
    }();
    return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    parser.eager(true);
    boost::system::error_code ec;
    boost::asio::const_buffer in(data, size);
    while (in.size() > 0 && !parser.is_done()) {
        size_t n = parser.put(in, ec);
        in += n;
        if (ec == bhttp::error::need_more) {
            ec = {};
            if (n == 0) {
                break;
            }
            continue;
        }
        if (ec) {
            break;
        }
    }
    if (!ec && !parser.is_done() && parser.got_some()) {
        parser.put_eof(ec);  // the client closed the connection here
    }
    if (parser.is_header_done()) {
        const auto& hdr = parser.get();
        if (hdr.has_content_length() && parser.content_length() &&
            *parser.content_length() > kBodyLimit) {
            return 0;  // 413, as the server answers
        }
    }
    if (ec || !parser.is_done()) {
        return 0;
    }

    auto msg = parser.release();
    http::Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) {
        std::string name(f.name_string());
        for (char& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    (void)msg.keep_alive();

    std::string target = http::LenientTarget(req.target);  // the view below points into it
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) {
        return 0;  // 400 "malformed request target"
    }
    req.path = std::string(parsed->path());
    for (auto p : parsed->params()) {
        req.query.emplace_back(std::string(p.key), std::string(p.value));
    }

    const http::Router::Route* route = nullptr;
    std::string allow;
    (void)Routes().Find(req, route, allow);
    (void)http::SplitPath(req.path);
    (void)req.Param("id");
    (void)req.Header("content-type");
    (void)req.Query("selector");

    (void)api::KnownQuery(req, {"limit", "cursor", "selector", "tenant"});
    (void)api::QueryInt(req, "limit", 1, 1000);
    if (auto body = api::BodyObject(req)) {
        (void)body->size();
    }
    return 0;
}
