// Liveness, readiness, Hangar's own metrics, the OpenAPI document and "who am I".

#include <boost/json/object.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/core/json.hpp"

namespace hangar::api {

void AddSystemRoutes(
    http::Router& router,
    Deps& deps,
    core::MetricsRegistry& metrics,
    const std::function<bool()>& ready
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
    router.Add("GET", "/v1/whoami", Wrap(deps, "", [&deps](Call& c) -> Result<http::Response> {
                   json::object o;
                   o["token"] = c.who.token_id;
                   o["tenant"] =
                       c.who.tenant.empty() ? json::value(nullptr) : json::value(c.who.tenant);
                   // The tenant's names, for headers that should not show an id.
                   if (!c.who.tenant.empty()) {
                       if (auto t = deps.store.Get(c.who.tenant); t && t->kind == "Tenant") {
                           o["tenant_name"] = t->name;
                           o["tenant_display_name"] = core::StrAt(t->spec, "display_name");
                       }
                   }
                   o["role"] = auth::RoleName(c.who.role);
                   o["user"] =
                       c.who.user_id.empty() ? json::value(nullptr) : json::value(c.who.user_id);
                   return JsonResponse(200, o);
               }));
}

}  // namespace hangar::api
