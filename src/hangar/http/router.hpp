#pragma once
// Method + path-pattern routing: "/v1/tenants/{id}", "/v1/instances/{id}:restart".

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/http/message.hpp"

namespace hangar::http {

using Handler = std::function<Response(Request&)>;

class Router {
public:
    void Add(std::string method, std::string pattern, Handler h);

    enum class Match { kFound, kNoPath, kNoMethod };
    // On kFound fills req.params and req.route and returns the handler; on kNoMethod fills
    // `allow` with the methods the path accepts.
    Match Find(Request& req, const Handler*& out, std::string& allow) const;

    struct Route {
        std::string method, pattern;
        std::vector<std::string> segments;
        Handler handler;
    };
    const std::vector<Route>& routes() const { return routes_; }

private:
    static bool MatchPath(
        const Route& r,
        const std::vector<std::string_view>& segs,
        std::vector<std::pair<std::string, std::string>>& params
    );
    std::vector<Route> routes_;
};

std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace hangar::http
