// The operator's side of the workspace cloud services: registration tokens, secret rotation,
// device-flow approvals, and the statistics the collector kept.

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/edge/collector.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::api {

namespace {

using core::Fail;

Result<store::Object> WorkspaceFor(Deps& deps, Call& c, auth::Role role, std::string_view what) {
    std::string id(c.req.Param("id"));
    auto w = deps.store.Get(id);
    if (!w || w->kind != "Workspace" || !c.who.Sees(w->tenant)) {
        return Fail(NotFound("workspace", id));
    }
    if (auto r = RequireRole(c.who, role, what); !r) {
        return Fail(r.error());
    }
    c.audit.object = id;
    c.audit.tenant = w->tenant;
    return w;
}

// An optional JSON body: {} when empty.
Result<json::object> OptionalBody(const http::Request& req) {
    if (req.body.empty()) {
        return json::object();
    }
    return BodyObject(req);
}

}  // namespace

void AddWorkspaceRoutes(http::Router& router, Deps& deps, edge::Workspaces& workspaces) {
    router.Add(
        "POST",
        "/v1/workspaces/{id}:registration-token",
        Wrap(
            deps,
            "workspace.registration-token",
            [&deps, &workspaces](Call& c) -> Result<http::Response> {
                auto ws = WorkspaceFor(deps, c, auth::Role::kOperator, "issue registration tokens");
                if (!ws) {
                    return Fail(ws.error());
                }
                auto body = OptionalBody(c.req);
                if (!body) {
                    return Fail(body.error());
                }
                core::ObjectReader r(*body, "body");
                std::chrono::seconds ttl = workspaces.options().registration_token_ttl;
                if (auto t = r.String("ttl")) {
                    auto d = core::ParseDuration(*t);
                    if (!d || d->count() < 60 || d->count() > 30LL * 24 * 3600) {
                        return Fail(core::FieldError(
                            "ttl", "must be a duration from 1m to 30d, such as 24h"
                        ));
                    }
                    ttl = *d;
                }
                if (auto f = r.Finish(); !f) {
                    return Fail(f.error());
                }
                c.audited = true;
                auto t = workspaces.IssueRegistrationToken(ws->id, ttl, c.audit);
                if (!t) {
                    return Fail(t.error());
                }
                return JsonResponse(201, *t);
            }
        )
    );
    router.Add(
        "POST",
        "/v1/workspaces/{id}:rotate-secret",
        Wrap(
            deps,
            "workspace.rotate-secret",
            [&deps, &workspaces](Call& c) -> Result<http::Response> {
                auto ws = WorkspaceFor(deps, c, auth::Role::kOperator, "rotate workspace secrets");
                if (!ws) {
                    return Fail(ws.error());
                }
                c.audited = true;
                auto r = workspaces.RotateSecret(ws->id, c.audit);
                if (!r) {
                    return Fail(r.error());
                }
                return JsonResponse(200, *r);
            }
        )
    );
    for (std::string verb : {"approve", "reject"}) {
        router.Add(
            "POST",
            "/v1/workspaces:" + verb,
            Wrap(
                deps,
                "workspace." + verb,
                [verb, &workspaces](Call& c) -> Result<http::Response> {
                    if (auto r = RequireRole(
                            c.who, auth::Role::kOperator, verb + " workspace registrations"
                        );
                        !r) {
                        return Fail(r.error());
                    }
                    auto body = BodyObject(c.req);
                    if (!body) {
                        return Fail(body.error());
                    }
                    core::ObjectReader r(*body, "body");
                    auto code = r.String("user_code", true);
                    std::optional<std::string> name;
                    if (verb == "approve") {
                        name = r.String("name");
                        if (name && !core::IsDnsLabel(*name)) {
                            return Fail(core::FieldError(
                                "name",
                                "must be a name of 1 to 63 lowercase letters, digits and '-'"
                            ));
                        }
                    }
                    if (auto f = r.Finish(); !f) {
                        return Fail(f.error());
                    }
                    if (auto t = workspaces.ThrottleCodeGuess(
                            c.who.token_id.empty() ? c.who.Actor() : c.who.token_id
                        );
                        !t) {
                        return Fail(t.error());
                    }
                    if (verb == "reject") {
                        c.audited = true;
                        if (auto res = workspaces.Reject(*code, c.audit); !res) {
                            return Fail(res.error());
                        }
                        return JsonResponse(
                            200, json::object{{"user_code", *code}, {"state", "rejected"}}
                        );
                    }
                    auto tenant = TenantOf(c);
                    if (!tenant) {
                        return Fail(tenant.error());
                    }
                    c.audited = true;
                    auto ws = workspaces.Approve(*code, *tenant, name.value_or(""), c.audit);
                    if (!ws) {
                        return Fail(ws.error());
                    }
                    return RawJsonResponse(201, store::ObjectToDoc(*ws));
                }
            )
        );
    }
    router.Add(
        "GET",
        "/v1/workspaces:pending",
        Wrap(
            deps,
            "",
            [&workspaces](Call& c) -> Result<http::Response> {
                if (!c.who.IsAdmin()) {
                    return Fail(
                        Forbidden("pending registrations are listed to platform admins; operators "
                                  "approve by user code")
                    );
                }
                auto list = workspaces.PendingIntents();
                if (!list) {
                    return Fail(list.error());
                }
                return JsonResponse(200, json::object{{"items", std::move(*list)}});
            }
        )
    );
}

void AddStatisticsRoutes(http::Router& router, Deps& deps, edge::Collector& collector) {
    router.Add(
        "GET",
        "/v1/workspaces/{id}/statistics",
        Wrap(
            deps,
            "",
            [&deps, &collector](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"limit"}); !k) {
                    return Fail(k.error());
                }
                auto limit = QueryInt(c.req, "limit", 1, 1000);
                if (!limit) {
                    return Fail(limit.error());
                }
                auto ws = WorkspaceFor(deps, c, auth::Role::kViewer, "read statistics");
                if (!ws) {
                    return Fail(ws.error());
                }
                auto h = collector.History(
                    ws->tenant, ws->id, static_cast<size_t>(limit->value_or(100))
                );
                if (!h) {
                    return Fail(h.error());
                }
                return JsonResponse(
                    200, json::object{{"workspace", ws->id}, {"items", std::move(*h)}}
                );
            }
        )
    );
    router.Add(
        "GET",
        "/v1/statistics/reports/{id}",
        Wrap(
            deps,
            "",
            [&collector](Call& c) -> Result<http::Response> {
                std::optional<std::string> tenant;
                if (!c.who.IsAdmin()) {
                    tenant = c.who.tenant;
                }
                auto doc = collector.Document(std::string(c.req.Param("id")), tenant);
                if (!doc) {
                    return Fail(doc.error());
                }
                return RawJsonResponse(200, std::move(*doc));
            }
        )
    );
    router.Add(
        "GET",
        "/v1/statistics/fleet",
        Wrap(
            deps,
            "",
            [&collector](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"tenant"}); !k) {
                    return Fail(k.error());
                }
                std::optional<std::string> tenant;
                if (!c.who.IsAdmin()) {
                    tenant = c.who.tenant;
                } else if (auto t = c.req.Query("tenant")) {
                    tenant = *t;
                }
                auto f = collector.Fleet(tenant);
                if (!f) {
                    return Fail(f.error());
                }
                return JsonResponse(200, *f);
            }
        )
    );
}

}  // namespace hangar::api
