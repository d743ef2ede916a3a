// Liveness, readiness, Hangar's own metrics, the OpenAPI document and "who am I".

#include <boost/json/object.hpp>

#include "hangar/api/routes.hpp"

namespace hangar::api {

using core::Fail;

void AddSystemRoutes(
    http::Router& router,
    Deps& deps,
    core::MetricsRegistry& metrics,
    std::function<bool()> ready
) {
    router.Add("GET", "/healthz", [](http::Request&) {
        return RawJsonResponse(200, R"({"status":"ok"})");
    });
    router.Add("GET", "/readyz", [&deps, ready](http::Request&) {
        if (!ready()) {
            return RawJsonResponse(
                503, R"({"status":"not ready","reason":"starting or shutting down"})"
            );
        }
        if (auto p = deps.store.Ping(); !p) {
            return RawJsonResponse(503, R"({"status":"not ready","reason":"store unavailable"})");
        }
        return RawJsonResponse(200, R"({"status":"ready"})");
    });
    router.Add("GET", "/metrics", [&metrics](http::Request&) {
        return http::Response{
            200, "text/plain; version=0.0.4; charset=utf-8", {}, metrics.Render(), {}};
    });
    router.Add("GET", "/v1/openapi.json", [](http::Request&) {
        return RawJsonResponse(200, std::string(OpenApiDocument()));
    });
    router.Add("GET", "/v1/whoami", Wrap(deps, "", [](Call& c) -> Result<http::Response> {
                   json::object o;
                   o["token"] = c.who.token_id;
                   o["tenant"] =
                       c.who.tenant.empty() ? json::value(nullptr) : json::value(c.who.tenant);
                   o["role"] = auth::RoleName(c.who.role);
                   o["user"] =
                       c.who.user_id.empty() ? json::value(nullptr) : json::value(c.who.user_id);
                   return JsonResponse(200, o);
               }));
}

}  // namespace hangar::api
