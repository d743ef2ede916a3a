// Incidents and the shift hand-off:
//   POST /v1/incidents/{id}:status | :assign | :note | :postmortem   (each on the timeline)
//   GET  /v1/incidents/{id}/timeline     every entry, assembled from pages, alerts and changes
//   GET  /v1/incidents/{id}/postmortem   the post-mortem draft, Markdown
//   GET  /status                         the public status page (HTML, no login)
//   GET  /v1/oncall/handoff?from=&to=    what the next shift needs to know

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/core/json.hpp"
#include "hangar/incidents/incidents.hpp"

namespace hangar::api {

using core::Fail;

namespace {

Result<store::Object> IncidentFor(Deps& deps, Call& c, bool write) {
    std::string id(c.req.Param("id"));
    auto o = deps.store.Get(id);
    if (!o || o->kind != "Incident" || !c.who.Sees(o->tenant)) {
        return Fail(NotFound("incident", id));
    }
    if (write) {
        if (auto r = RequireRole(c.who, auth::Role::kOperator, "change incidents"); !r) {
            return Fail(r.error());
        }
        c.audit.object = id;
        c.audit.tenant = o->tenant;
    }
    return o;
}

// Reads a small JSON body of known string (and boolean) fields.
Result<json::object> Fields(
    const http::Request& req,
    std::initializer_list<std::string_view> required,
    std::initializer_list<std::string_view> optional
) {
    auto body = BodyObject(req);
    if (!body) {
        return Fail(body.error());
    }
    for (const auto& [k, v] : *body) {
        bool known =
            std::find(required.begin(), required.end(), std::string_view(k)) != required.end() ||
            std::find(optional.begin(), optional.end(), std::string_view(k)) != optional.end();
        if (!known) {
            return Fail(core::FieldError(std::string(k), "is not a field of this action"));
        }
        if (!v.is_string() && !(k == "public" && v.is_bool())) {
            return Fail(core::FieldError(
                std::string(k), k == "public" ? "must be true or false" : "must be a string"
            ));
        }
    }
    for (auto k : required) {
        if (!body->contains(k)) {
            return Fail(core::FieldError(std::string(k), "is required"));
        }
    }
    return body;
}

}  // namespace

void AddIncidentRoutes(http::Router& router, Deps& deps, incidents::Incidents& incidents) {
    struct Action {
        const char* name;
        std::function<Result<store::Object>(
            incidents::Incidents&,
            const std::string& id,
            const json::object& body,
            const std::string& by,
            store::AuditEvent
        )>
            run;
        std::initializer_list<std::string_view> required, optional;
    };
    static const Action kActions[] = {
        {"status",
         [](incidents::Incidents& d,
            const std::string& id,
            const json::object& b,
            const std::string& by,
            store::AuditEvent a) {
             return d.SetStatus(
                 id, core::StrAt(b, "status"), core::StrAt(b, "note"), by, std::move(a)
             );
         },
         {"status"},
         {"note"}},
        {"assign",
         [](incidents::Incidents& d,
            const std::string& id,
            const json::object& b,
            const std::string& by,
            store::AuditEvent a) {
             return d.Assign(id, core::StrAt(b, "role"), core::StrAt(b, "user"), by, std::move(a));
         },
         {"role", "user"},
         {}},
        {"note",
         [](incidents::Incidents& d,
            const std::string& id,
            const json::object& b,
            const std::string& by,
            store::AuditEvent a) {
             return d.Note(id, core::StrAt(b, "text"), core::BoolAt(b, "public"), by, std::move(a));
         },
         {"text"},
         {"public"}},
        {"postmortem",
         [](incidents::Incidents& d,
            const std::string& id,
            const json::object& b,
            const std::string& by,
            store::AuditEvent a) {
             return d.SetPostmortemState(id, core::StrAt(b, "state"), by, std::move(a));
         },
         {"state"},
         {}},
    };
    for (const Action& action : kActions) {
        router.Add(
            "POST",
            std::string("/v1/incidents/{id}:") + action.name,
            Wrap(
                deps,
                std::string("incident.") + action.name,
                [&deps, &incidents, &action](Call& c) -> Result<http::Response> {
                    auto inc = IncidentFor(deps, c, true);
                    if (!inc) {
                        return Fail(inc.error());
                    }
                    auto body = Fields(c.req, action.required, action.optional);
                    if (!body) {
                        return Fail(body.error());
                    }
                    auto r = action.run(incidents, inc->id, *body, ActorName(deps, c.who), c.audit);
                    if (!r) {
                        return Fail(r.error()
                        );  // refused inside the write: nothing was recorded, Wrap audits it
                    }
                    c.audited = true;
                    return JsonResponse(200, store::ObjectToJson(*r));
                }
            )
        );
    }
    router.Add(
        "GET",
        "/v1/incidents/{id}/timeline",
        Wrap(
            deps,
            "",
            [&deps, &incidents](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {}); !k) {
                    return Fail(k.error());
                }
                auto inc = IncidentFor(deps, c, false);
                if (!inc) {
                    return Fail(inc.error());
                }
                return JsonResponse(
                    200, json::object{{"incident", inc->id}, {"items", incidents.Timeline(*inc)}}
                );
            }
        )
    );
    router.Add(
        "GET",
        "/v1/incidents/{id}/postmortem",
        Wrap(
            deps,
            "",
            [&deps, &incidents](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {}); !k) {
                    return Fail(k.error());
                }
                auto inc = IncidentFor(deps, c, false);
                if (!inc) {
                    return Fail(inc.error());
                }
                http::Response r;
                r.content_type = "text/markdown; charset=utf-8";
                r.body = incidents.PostmortemMarkdown(*inc);
                return r;
            }
        )
    );
    router.Add(
        "GET",
        "/status",
        Wrap(
            deps,
            "",
            [&incidents](Call& c) -> Result<http::Response> {
                (void)c;
                http::Response r;
                r.content_type = "text/html; charset=utf-8";
                r.body = incidents.StatusPageHtml();
                r.headers.emplace_back("cache-control", "no-cache");
                return r;
            },
            Access::kPublic
        )
    );
    router.Add(
        "GET",
        "/v1/oncall/handoff",
        Wrap(
            deps,
            "",
            [&deps, &incidents](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"from", "to", "tenant"}); !k) {
                    return Fail(k.error());
                }
                auto tenant_of = TenantOf(c);
                if (!tenant_of) {
                    return Fail(tenant_of.error());
                }
                std::string tenant = *tenant_of;
                auto now = deps.clock.Now();
                auto read = [&](std::string_view name,
                                core::TimePoint dflt) -> Result<core::TimePoint> {
                    auto v = c.req.Query(name);
                    if (!v) {
                        return dflt;
                    }
                    auto t = core::ParseRfc3339(*v);
                    if (!t) {
                        return Fail(core::FieldError(
                            std::string(name),
                            "must be an RFC 3339 time such as 2026-11-23T09:00:00Z"
                        ));
                    }
                    return *t;
                };
                auto to = read("to", now);
                if (!to) {
                    return Fail(to.error());
                }
                auto from = read("from", *to - std::chrono::hours(12));
                if (!from) {
                    return Fail(from.error());
                }
                if (*from >= *to || *to - *from > std::chrono::days(31)) {
                    return Fail(
                        core::FieldError("from", "must be before to, at most 31 days earlier")
                    );
                }
                return JsonResponse(200, incidents.Handoff(tenant, *from, *to));
            }
        )
    );
}

}  // namespace hangar::api
