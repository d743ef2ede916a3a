// POST /v1/apps:publish: a platform admin uploads an app's package (the .zip, Content-Type
// application/zip, up to 50 MiB); ?tenant= makes the app private to one tenant.

#include "hangar/api/routes.hpp"
#include "hangar/core/json.hpp"
#include "hangar/marketplace/catalogue.hpp"

namespace hangar::api {

using core::Fail;

void AddMarketplaceAdminRoutes(
    http::Router& router,
    Deps& deps,
    marketplace::Catalogue& catalogue
) {
    router.AddUpload(
        "POST",
        "/v1/apps:publish",
        Wrap(
            deps,
            "app.publish",
            [&deps, &catalogue](Call& c) -> Result<http::Response> {
                if (auto r = RequireRole(c.who, auth::Role::kAdmin, "publish apps"); !r) {
                    return Fail(r.error());
                }
                if (auto k = KnownQuery(c.req, {"tenant"}); !k) {
                    return Fail(k.error());
                }
                std::string_view ct = c.req.Header("content-type");
                if (!ct.starts_with("application/zip") &&
                    !ct.starts_with("application/octet-stream")) {
                    return Fail(core::MakeError(
                        core::ErrorCode::kUnsupportedMediaType,
                        "send the package itself with Content-Type: application/zip"
                    ));
                }
                marketplace::PublishOptions opts;
                opts.tenant = c.req.Query("tenant").value_or("");
                if (!opts.tenant.empty()) {
                    auto t = deps.store.Get(opts.tenant);
                    if (!t || t->kind != "Tenant") {
                        return Fail(core::FieldError("tenant", "there is no such tenant"));
                    }
                }
                auto r = catalogue.Publish(c.req.body, opts, c.audit);
                if (!r) {
                    return Fail(r.error());
                }
                c.audited = true;
                return JsonResponse(201, *r);
            }
        ),
        marketplace::kMaxPackageBytes
    );
}

void AddAppReleaseYankRoute(http::Router& router, Deps& deps) {
    // One version withdrawn: the marketplace no longer lists or serves it; the others stay.
    router.Add(
        "POST",
        "/v1/appreleases/{id}:yank",
        Wrap(
            deps,
            "apprelease.yank",
            [&deps](Call& c) -> Result<http::Response> {
                if (auto r = RequireRole(c.who, auth::Role::kAdmin, "yank app versions"); !r) {
                    return Fail(r.error());
                }
                std::string id(c.req.Param("id"));
                auto rel = deps.store.Get(id);
                if (!rel || rel->kind != "AppRelease") {
                    return Fail(NotFound("AppRelease", id));
                }
                c.audit.object = id;
                auto u = deps.store.Update(
                    id,
                    std::nullopt,
                    c.now,
                    [](store::Object& o) -> core::Result<void> {
                        o.spec["yanked"] = true;
                        return {};
                    },
                    c.audit
                );
                if (!u) {
                    return Fail(u.error());
                }
                c.audited = true;
                return JsonResponse(200, store::ObjectToJson(*u));
            }
        )
    );
}

}  // namespace hangar::api
