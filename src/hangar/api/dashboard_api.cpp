// The dashboard: GET / is web/index.html and GET /ui/{file} the modules, styles and libraries it
// loads, all built into the binary. The files are public (they hold no data); every view's data
// comes from the API with the signed-in token.

#include <string>
#include <unordered_map>

#include "hangar/api/routes.hpp"
#include "hangar/api/web_assets.hpp"
#include "hangar/core/ids.hpp"

namespace hangar::api {

namespace {

std::string_view ContentType(std::string_view name) {
    auto ends = [&](std::string_view ext) {
        return name.ends_with(ext);
    };
    if (ends(".html")) {
        return "text/html; charset=utf-8";
    }
    if (ends(".js") || ends(".mjs")) {
        return "text/javascript; charset=utf-8";
    }
    if (ends(".css")) {
        return "text/css; charset=utf-8";
    }
    if (ends(".svg")) {
        return "image/svg+xml";
    }
    return "application/octet-stream";
}

// The only inline script is index.html's import map; the policy allows exactly it by hash, so
// an injected script or handler never runs even if some text slipped through unescaped.
std::string ContentSecurityPolicy(std::string_view index) {
    std::string script_src = "'self'";
    constexpr std::string_view kOpen = "<script type=\"importmap\">";
    if (size_t a = index.find(kOpen); a != std::string_view::npos) {
        a += kOpen.size();
        if (size_t b = index.find("</script>", a); b != std::string_view::npos) {
            script_src += " 'sha256-" + core::Sha256Base64(index.substr(a, b - a)) + "'";
        }
    }
    return "default-src 'self'; script-src " + script_src +
           "; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

http::Response Serve(const WebAsset& a, const http::Request& req, const std::string& csp) {
    http::Headers h{
        {"etag", std::string(a.etag)},
        // Revalidate every time: a 304 costs one round trip and an upgraded binary is seen at once.
        {"cache-control", "no-cache"},
        {"x-content-type-options", "nosniff"},
    };
    if (a.name == "index.html") {
        h.emplace_back("content-security-policy", csp);
        h.emplace_back("x-frame-options", "DENY");
        h.emplace_back("referrer-policy", "no-referrer");
    }
    if (req.Header("if-none-match") == a.etag) {
        return http::Response{304, std::string(ContentType(a.name)), std::move(h), {}, {}};
    }
    return http::Response{
        200, std::string(ContentType(a.name)), std::move(h), std::string(a.body), {}};
}

}  // namespace

void AddDashboardRoutes(http::Router& router) {
    auto by_name = std::make_shared<std::unordered_map<std::string_view, const WebAsset*>>();
    for (const WebAsset& a : WebAssets()) {
        (*by_name)[a.name] = &a;
    }
    auto index = by_name->find("index.html");
    if (index == by_name->end()) {
        return;
    }
    const WebAsset* index_asset = index->second;
    auto csp = std::make_shared<const std::string>(ContentSecurityPolicy(index_asset->body));
    router.Add("GET", "/", [index_asset, csp](http::Request& req) {
        return Serve(*index_asset, req, *csp);
    });
    router.Add("GET", "/ui/{file}", [by_name, csp](http::Request& req) {
        auto it = by_name->find(req.Param("file"));
        if (it == by_name->end()) {
            return ErrorResponse(core::MakeError(
                core::ErrorCode::kNotFound,
                "the dashboard has no file \"" + std::string(req.Param("file")) + "\""
            ));
        }
        return Serve(*it->second, req, *csp);
    });
}

}  // namespace hangar::api
