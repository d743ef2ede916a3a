#include "hangar/metering/routes.hpp"

#include <algorithm>
#include <charconv>
#include <expected>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/time_zone.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/metering/answers.hpp"
#include "hangar/metering/metering.hpp"
#include "hangar/metering/query.hpp"

namespace hangar::metering {

namespace {

// The events of an ingest request, or the answer refusing them (nothing of the batch is taken).
std::expected<std::vector<UsageEvent>, http::Response>
ReadIngest(MeteringDeps& deps, const Caller& who, const http::Request& req) {
    auto events = ReadCloudEvents(
        req.Header("content-type"), req.body, core::UnixMillis(deps.metering.clock().Now())
    );
    if (!events) {
        return std::unexpected(Problem(400, events.error().message));
    }
    if (!who.admin) {
        for (size_t i = 0; i < events->size(); ++i) {
            const UsageEvent& e = (*events)[i];
            if (e.subject != who.tenant) {
                return std::unexpected(Problem(
                    403,
                    fmt::format(
                        "events[{}].subject: a tenant reports its own usage: the subject must be "
                        "{}",
                        i,
                        who.tenant
                    )
                ));
            }
            if (e.type.starts_with("hangar.")) {
                return std::unexpected(Problem(
                    403, fmt::format("events[{}].type: hangar.* event types are Hangar's own", i)
                ));
            }
        }
    }
    return std::move(*events);
}

http::Response Ingested(const core::Result<IngestCounts>& r) {
    if (!r) {
        return Problem(r.error());
    }
    return NoContent();
}

// A store error as a problem; a name clash as 409.
http::Response StoreProblem(const core::Error& e) {
    if (e.code == core::ErrorCode::kAlreadyExists) {
        return Problem(409, "a meter with this slug exists");
    }
    return Problem(e);
}

// The meter a route names by id or slug, or the 404 OpenMeter answers.
std::expected<MeterDef, http::Response> MeterOf(MeteringDeps& deps, const http::Request& req) {
    auto m = deps.metering.Find(req.Param("id"));
    if (!m) {
        return std::unexpected(Problem(404, fmt::format("meter not found: {}", req.Param("id"))));
    }
    return *m;
}

http::Response QueryMeter(MeteringDeps& deps, const Caller& who, http::Request& req) {
    auto meter = MeterOf(deps, req);
    if (!meter) {
        return meter.error();
    }
    MeterQuery q;
    int64_t now_s = core::UnixSeconds(deps.metering.clock().Now());
    auto from = QueryTime(req, "from");
    auto to = QueryTime(req, "to");
    if (from == INT64_MIN || to == INT64_MIN) {
        return Problem(400, "from and to must be RFC 3339 times");
    }
    int64_t to_s = to ? *to / 1000 + ((*to % 1000 != 0) ? 1 : 0) : now_s + 60;
    q.to_s = ((to_s + 59) / 60) * 60;  // up to the minute
    q.from_s = from ? (*from / 1000) - ((*from / 1000) % 60) : 0;
    if (q.from_s < 0 || q.to_s > 253402300800) {
        return Problem(400, "from and to must be between 1970 and 9999");
    }
    if (q.from_s >= q.to_s) {
        return Problem(400, "from must be before to");
    }
    if (auto w = req.Query("windowSize")) {
        auto size = ParseWindowSize(*w);
        if (!size) {
            return Problem(400, "windowSize must be MINUTE, HOUR, DAY or MONTH");
        }
        q.window = *size;
    }
    q.time_zone = req.Query("windowTimeZone").value_or("UTC");
    if (!core::LoadTimeZone(q.time_zone, &q.tz)) {
        return Problem(400, fmt::format("invalid time zone: {}", q.time_zone.substr(0, 64)));
    }
    q.subjects = QueryAll(req, "subject");
    if (q.subjects.size() > 100) {
        return Problem(400, "at most 100 subjects");
    }
    if (!who.admin) {
        // A tenant reads its own usage only.
        if (std::ranges::any_of(q.subjects, [&](const auto& s) { return s != who.tenant; })) {
            return Problem(
                403, fmt::format("a tenant reads its own usage: subject {}", who.tenant)
            );
        }
        q.subjects = {who.tenant};
    }
    q.group_by = QueryAll(req, "groupBy");
    for (const auto& g : q.group_by) {
        if (g != "subject" && !meter->group_by.contains(g)) {
            return Problem(400, fmt::format("invalid group by: {}", g.substr(0, 64)));
        }
    }
    if (!q.subjects.empty() && std::ranges::find(q.group_by, "subject") == q.group_by.end()) {
        q.group_by.emplace_back("subject");
    }
    for (const auto& [k, v] : req.query) {
        if (k.starts_with("filterGroupBy[") && k.ends_with("]")) {
            std::string name = k.substr(14, k.size() - 15);
            if (!meter->group_by.contains(name)) {
                return Problem(400, fmt::format("invalid filter group by: {}", name.substr(0, 64)));
            }
            q.filter_group_by[name].push_back(v);
        }
    }
    int width = BucketWidth(q);
    auto rollups = deps.metering.db().Rollups(meter->slug, width, q.from_s, q.to_s, q.subjects);
    if (!rollups) {
        return Problem(rollups.error());
    }
    std::vector<UniqueRow> uniques;
    if (meter->aggregation == Aggregation::kUniqueCount) {
        auto u = deps.metering.db().Uniques(meter->slug, width, q.from_s, q.to_s, q.subjects);
        if (!u) {
            return Problem(u.error());
        }
        uniques = std::move(*u);
    }
    auto rows = Aggregate(*meter, q, *rollups, uniques);
    if (!rows) {
        return Problem(rows.error());
    }
    json::array data;
    for (const auto& r : *rows) {
        data.push_back(RowToJson(r));
    }
    json::object out{{"data", std::move(data)}};
    if (from) {
        out["from"] = core::FormatRfc3339(core::TimePoint(std::chrono::seconds(q.from_s)));
    }
    if (to) {
        out["to"] = core::FormatRfc3339(core::TimePoint(std::chrono::seconds(q.to_s)));
    }
    if (q.window != WindowSize::kNone) {
        out["windowSize"] = WindowSizeName(q.window);
    }
    return Json(200, out);
}

}  // namespace

void AddMeteringRoutes(http::Router& router, MeteringDeps& deps) {
    router.AddAsync(
        "POST",
        "/api/v1/events",
        Guarded([&deps](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            auto events = ReadIngest(deps, *who, req);
            if (!events) {
                return events.error();
            }
            return Ingested(deps.metering.db().Ingest(std::move(*events)));
        }),
        // On the I/O thread when the token is known: the answer comes with the group commit,
        // holding no worker while it waits.
        [&deps](http::Request& req, std::function<void(http::Response)> done) {
            try {
                auto who = Identify(deps, req, /*may_block=*/false);
                if (!who) {
                    return false;
                }
                if (!*who) {
                    done(who->error());
                    return true;
                }
                auto events = ReadIngest(deps, **who, req);
                if (!events) {
                    done(events.error());
                    return true;
                }
                deps.metering.db().Submit(
                    std::move(*events),
                    [done = std::move(done)](core::Result<IngestCounts> r) { done(Ingested(r)); }
                );
                return true;
            } catch (const std::exception&) {
                return false;  // the worker pool's handler answers, and logs
            }
        }
    );
    router.Add("GET", "/api/v1/events", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   EventFilter f;
                   int64_t now = core::UnixMillis(deps.metering.clock().Now());
                   auto from = QueryTime(req, "from");
                   auto to = QueryTime(req, "to");
                   if (from == INT64_MIN || to == INT64_MIN) {
                       return Problem(400, "from and to must be RFC 3339 times");
                   }
                   f.from_ms = from.value_or(now - 32LL * 24 * 3600 * 1000 + 1000);
                   f.to_ms = to.value_or(now + 60000);
                   if (f.to_ms < f.from_ms) {
                       return Problem(400, "to must not be before from");
                   }
                   f.subject = req.Query("subject").value_or("");
                   f.id = req.Query("id").value_or("");
                   if (auto l = req.Query("limit")) {
                       int64_t n = 0;
                       auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
                       if (ec != std::errc() || p != l->data() + l->size() || n < 1 || n > 100) {
                           return Problem(400, "limit must be 1-100");
                       }
                       f.limit = static_cast<size_t>(n);
                   }
                   if (!who->admin) {
                       if (!f.subject.empty() && f.subject != who->tenant) {
                           return Problem(403, "a tenant reads its own events");
                       }
                       f.subject = who->tenant;
                   }
                   auto list = deps.metering.db().Events(f);
                   if (!list) {
                       return Problem(list.error());
                   }
                   json::array out;
                   for (const auto& s : *list) {
                       std::string at = core::FormatRfc3339(
                           core::TimePoint(std::chrono::milliseconds(s.ingested_ms))
                       );
                       out.push_back(json::object{
                           {"event", EventToJson(s.event)}, {"ingestedAt", at}, {"storedAt", at}});
                   }
                   return Json(200, out);
               }));
    router.Add("GET", "/api/v1/meters", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   json::array out;
                   auto meters = deps.metering.Meters();
                   std::ranges::sort(meters, [](const auto& a, const auto& b) {
                       return a.slug < b.slug;
                   });
                   for (const auto& m : meters) {
                       out.push_back(MeterToJson(m));
                   }
                   return Json(200, out);
               }));
    router.Add("POST", "/api/v1/meters", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   if (!who->admin) {
                       return Problem(403, "only platform admins define meters");
                   }
                   auto body = core::ParseJsonObject(req.body);
                   if (!body) {
                       return Problem(400, body.error().message);
                   }
                   auto spec = SpecFromMeterCreate(*body);
                   if (!spec) {
                       return Problem(400, spec.error().message);
                   }
                   auto valid = ValidateMeterSpec(*spec);
                   if (!valid) {
                       return Problem(400, valid.error().message);
                   }
                   std::string now = core::FormatRfc3339(deps.metering.clock().Now());
                   store::Object o = store::NewSystemObject("Meter", "mtr", "", now);
                   o.name = MeterObjectName(core::StrAt(*valid, "slug"));
                   o.spec = std::move(*valid);
                   store::AuditEvent audit = Audit(deps, *who, req, "meter.create");
                   audit.object = o.id;
                   auto created = deps.metering.store().Create(o, std::nullopt, audit);
                   if (!created) {
                       return StoreProblem(created.error());
                   }
                   deps.metering.Reload();
                   return Json(200, MeterToJson(MeterFromObject(created->object)));
               }));
    router.Add("GET", "/api/v1/meters/{id}", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   auto m = MeterOf(deps, req);
                   if (!m) {
                       return m.error();
                   }
                   return Json(200, MeterToJson(*m));
               }));
    router.Add("PUT", "/api/v1/meters/{id}", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   if (!who->admin) {
                       return Problem(403, "only platform admins change meters");
                   }
                   auto m = MeterOf(deps, req);
                   if (!m) {
                       return m.error();
                   }
                   auto body = core::ParseJsonObject(req.body);
                   if (!body) {
                       return Problem(400, body.error().message);
                   }
                   // MeterUpdate: {name, description, metadata, groupBy}.
                   auto current = deps.metering.store().Get(m->id);
                   if (!current) {
                       return Problem(current.error());
                   }
                   json::object spec = current->spec;
                   for (const auto& [k, v] : *body) {
                       if (k == "name") {
                           spec["display_name"] = v;
                       } else if (k == "description") {
                           spec["description"] = v;
                       } else if (k == "groupBy") {
                           spec["group_by"] = v;
                       } else if (k != "metadata") {
                           return Problem(
                               400,
                               fmt::format(
                                   "{}: is not a field of MeterUpdate",
                                   std::string_view(k).substr(0, 64)
                               )
                           );
                       }
                   }
                   auto valid = ValidateMeterSpec(spec);
                   if (!valid) {
                       return Problem(400, valid.error().message);
                   }
                   store::AuditEvent audit = Audit(deps, *who, req, "meter.update");
                   audit.object = m->id;
                   auto updated = deps.metering.store().Update(
                       m->id,
                       std::nullopt,
                       audit.time,
                       [&](store::Object& o) -> core::Result<void> {
                           o.spec = *valid;
                           return {};
                       },
                       audit
                   );
                   if (!updated) {
                       return Problem(updated.error());
                   }
                   deps.metering.Reload();
                   return Json(200, MeterToJson(MeterFromObject(*updated)));
               }));
    router.Add("DELETE", "/api/v1/meters/{id}", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   if (!who->admin) {
                       return Problem(403, "only platform admins delete meters");
                   }
                   auto m = MeterOf(deps, req);
                   if (!m) {
                       return m.error();
                   }
                   store::AuditEvent audit = Audit(deps, *who, req, "meter.delete");
                   audit.object = m->id;
                   auto gone = deps.metering.store().Delete(m->id, std::nullopt, {}, audit);
                   if (!gone) {
                       return Problem(gone.error());
                   }
                   deps.metering.Reload();
                   return NoContent();
               }));
    router.Add("GET", "/api/v1/meters/{id}/query", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   return QueryMeter(deps, *who, req);
               }));
    router.Add("GET", "/api/v1/meters/{id}/subjects", Guarded([&deps](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   auto m = MeterOf(deps, req);
                   if (!m) {
                       return m.error();
                   }
                   auto subjects = deps.metering.db().Subjects(m->slug, 0, 253402300800);
                   if (!subjects) {
                       return Problem(subjects.error());
                   }
                   json::array out;
                   for (const auto& s : *subjects) {
                       if (who->admin || s == who->tenant) {
                           out.push_back(json::string(s));
                       }
                   }
                   return Json(200, out);
               }));
}

}  // namespace hangar::metering
