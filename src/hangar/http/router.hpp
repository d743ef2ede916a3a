#pragma once
// Method + path-pattern routing: "/v1/tenants/{id}", "/v1/instances/{id}:restart".

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/http/message.hpp"

namespace hangar::http {

using Handler = std::function<Response(Request&)>;
// Runs on an I/O thread and must never block: it answers from memory, or returns nullopt and
// the request goes to `Handler` on the worker pool.
using InlineHandler = std::function<std::optional<Response>(Request&)>;
// Runs on an I/O thread and must never block: it either takes the request and returns true,
// calling `done` exactly once later from any thread (an answer that waits on another service
// without holding a worker), or returns false and the request goes to `Handler` on the pool.
using AsyncHandler = std::function<bool(Request&, std::function<void(Response)> done)>;

class Router {
public:
    void Add(std::string method, std::string pattern, Handler h, InlineHandler fast = nullptr);
    void AddAsync(std::string method, std::string pattern, Handler h, AsyncHandler async);
    // A route that takes bodies up to `max_body` bytes instead of the server's limit (uploads).
    void AddUpload(std::string method, std::string pattern, Handler h, size_t max_body);
    // The body limit of the route `method path` answers, or 0 when it has none of its own.
    size_t MaxBodyFor(std::string_view method, std::string_view path) const;

    enum class Match { kFound, kNoPath, kNoMethod };
    // On kFound fills req.params and req.route and returns the handler; on kNoMethod fills
    // `allow` with the methods the path accepts.
    struct Route {
        std::string method, pattern;
        std::vector<std::string> segments;
        Handler handler;
        InlineHandler fast;
        AsyncHandler async;
        size_t max_body = 0;  // 0: the server's limit
    };
    Match Find(Request& req, const Route*& out, std::string& allow) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    static bool MatchPath(
        const Route& r,
        const std::vector<std::string_view>& segs,
        std::vector<std::pair<std::string, std::string>>& params
    );
    std::vector<Route> routes_;
    std::vector<size_t> uploads_;  // indexes of the routes with a body limit of their own
};

std::vector<std::string_view> SplitPath(std::string_view path);
// A request target with the query's unescaped [ ] { } | " ^ ` \ < > and spaces percent-encoded,
// so that it parses as a URL: lenient as Go's net/url is, since clients send "match[]=" and
// {job="x"} as they are.
std::string LenientTarget(std::string_view target);

}  // namespace hangar::http
