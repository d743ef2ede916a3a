// /v1/audit: the hash-chained audit log, filtered and paged by sequence number.

#include <fmt/format.h>

#include <boost/json/object.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/core/json.hpp"

namespace hangar::api {

using core::Fail;

void AddAuditRoutes(http::Router& router, Deps& deps) {
    router.Add("GET", "/v1/audit", Wrap(deps, "", [&deps](Call& c) -> Result<http::Response> {
                   if (auto r = KnownQuery(
                           c.req, {"tenant", "actor", "action", "since", "until", "after", "limit"}
                       );
                       !r) {
                       return Fail(r.error());
                   }
                   if (!c.who.IsAdmin() && c.who.role != auth::Role::kOwner) {
                       return Fail(Forbidden("reading the audit log needs the owner role"));
                   }
                   store::AuditQuery q;
                   q.tenant = c.req.Query("tenant").value_or("");
                   if (!c.who.IsAdmin()) {
                       if (!q.tenant.empty() && q.tenant != c.who.tenant) {
                           return Fail(core::FieldError(
                               "tenant", "an owner reads only its own tenant's events"
                           ));
                       }
                       q.tenant = c.who.tenant;
                   }
                   q.actor = c.req.Query("actor").value_or("");
                   q.action = c.req.Query("action").value_or("");
                   for (auto [name, dest] :
                        {std::pair{"since", &q.since}, std::pair{"until", &q.until}}) {
                       if (auto v = c.req.Query(name)) {
                           auto t = core::ParseRfc3339(*v);
                           if (!t) {
                               return Fail(core::FieldError(
                                   name, "must be an RFC 3339 time, e.g. 2026-11-23T08:00:00Z"
                               ));
                           }
                           *dest = core::FormatRfc3339(*t);
                       }
                   }
                   auto after = QueryInt(c.req, "after", 0, INT64_MAX);
                   auto limit = QueryInt(c.req, "limit", 1, 1000);
                   if (!after) {
                       return Fail(after.error());
                   }
                   if (!limit) {
                       return Fail(limit.error());
                   }
                   q.after_seq = after->value_or(0);
                   q.limit = static_cast<size_t>(limit->value_or(100));
                   auto events = deps.store.ListAudit(q);
                   if (!events) {
                       return Fail(events.error());
                   }
                   json::array items;
                   for (const auto& se : *events) {
                       const auto& e = se.event;
                       json::object o;
                       o["seq"] = e.seq;
                       o["time"] = e.time;
                       o["actor"] = e.actor;
                       o["tenant"] = e.tenant;
                       o["action"] = e.action;
                       o["object"] = e.object;
                       o["request_id"] = e.request_id;
                       o["source"] = e.source;
                       o["outcome"] = e.outcome;
                       o["prev_hash"] = se.prev_hash;
                       o["hash"] = se.hash;
                       items.push_back(std::move(o));
                   }
                   json::object out;
                   out["kind"] = "AuditEventList";
                   out["items"] = std::move(items);
                   out["next_after"] = events->size() == q.limit
                                           ? json::value(events->back().event.seq)
                                           : json::value(nullptr);
                   return JsonResponse(200, out);
               }));
}

}  // namespace hangar::api
