// Alert intake (Alertmanager webhooks, PagerDuty Events v2), page actions and on-call lookups.
//   POST /v1/intake/alertmanager   Alertmanager's webhook payload, version 4
//   POST /v1/intake/events         PagerDuty Events API v2 (routing_key is a Hangar token)
//   POST /v1/pages/{id}:acknowledge | :resolve | :reassign
//   GET  /v1/oncall/now            who is on call (and who is next), per schedule
//   GET  /v1/schedules/{id}/ical   the schedule's shifts as iCalendar
//   POST /v1/runbooks/{id}:approve run a runbook action that waits for approval

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/alerting/alertmanager.hpp"
#include "hangar/alerting/dispatcher.hpp"
#include "hangar/alerting/events.hpp"
#include "hangar/alerting/remediator.hpp"
#include "hangar/api/routes.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/oncall/pager.hpp"
#include "hangar/oncall/schedule.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;

namespace {

// The tenant intake alerts belong to: the caller's, or for platform admins the one named by
// X-Scope-OrgID (or, failing that, by the alert's own `tenant` label).
Result<std::string>
IntakeTenant(Deps& deps, const auth::Principal& who, std::string_view label_tenant) {
    if (!who.IsAdmin()) {
        return who.tenant;
    }
    std::string t(who.IsAdmin() && !label_tenant.empty() ? label_tenant : "");
    if (t.empty()) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "a platform token must name the tenant: send X-Scope-OrgID or a tenant label"
        );
    }
    auto o = deps.store.Get(t);
    if (!o || o->kind != "Tenant") {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("there is no tenant {}", t));
    }
    return t;
}

Result<http::Response> AlertmanagerIntake(Deps& deps, alerting::Dispatcher& dispatcher, Call& c) {
    auto body = BodyObject(c.req);
    if (!body) {
        return Fail(body.error());
    }
    std::string scope(c.req.Header("x-scope-orgid"));
    auto alerts = alerting::ReadAlertmanagerWebhook(
        *body,
        deps.clock.Now(),
        [&](std::string_view label_tenant) {
            return IntakeTenant(deps, c.who, scope.empty() ? label_tenant : scope);
        }
    );
    if (!alerts) {
        return Fail(alerts.error());
    }
    size_t n = alerts->size();
    dispatcher.Receive(std::move(*alerts));
    return JsonResponse(
        200, json::object{{"status", "success"}, {"alerts", static_cast<int64_t>(n)}}
    );
}

// PagerDuty's error shape: {"status":"invalid event","message":"Event object is
// invalid","errors":[...]}.
http::Response EventError(int status, const std::string& message, const std::string& error) {
    return JsonResponse(
        status,
        json::object{
            {"status", status == 400 ? "invalid event" : "unauthorized"},
            {"message", message},
            {"errors", json::array{json::value(error)}}}
    );
}

Result<http::Response>
EventsIntake(Deps& deps, alerting::Dispatcher& alerts, oncall::Pager& pager, Call& c) {
    auto body = BodyObject(c.req);
    if (!body) {
        return EventError(400, "Event object is invalid", body.error().message);
    }
    // The routing key is the credential (a Hangar token); an Authorization header also works.
    std::string routing_key = core::StrAt(*body, "routing_key");
    std::string auth(c.req.Header("authorization"));
    if (auth.empty() && !routing_key.empty()) {
        auth = "Bearer " + routing_key;
    }
    auto who = deps.tokens.Authenticate(auth);
    if (!who) {
        return EventError(
            400,
            "Event object is invalid",
            routing_key.empty() ? "'routing_key' is missing or blank" : "Invalid routing key"
        );
    }
    c.who = *who;
    c.audit.actor = who->Actor();
    c.audit.tenant = who->tenant;
    if (auto rate = CheckRate(deps, *who); !rate) {
        return Fail(rate.error());  // 429 with Retry-After, as for every authenticated call
    }
    if (!who->AtLeast(auth::Role::kOperator)) {
        return EventError(
            400,
            "Event object is invalid",
            "the routing key's token is read-only (viewer); use an operator token"
        );
    }
    auto event = alerting::ReadEvent(*body);
    if (!event) {
        return EventError(400, "Event object is invalid", event.error().message);
    }
    std::string scope(c.req.Header("x-scope-orgid"));
    auto tenant = IntakeTenant(deps, *who, scope);
    if (!tenant) {
        return EventError(400, "Event object is invalid", tenant.error().message);
    }
    alerting::EventIntake(alerts, pager, deps.clock)
        .Apply(*tenant, *event, "events:" + who->Actor(), c.audit);
    const std::string& dedup = event->dedup_key;
    return JsonResponse(
        202,
        json::object{{"status", "success"}, {"message", "Event processed"}, {"dedup_key", dedup}}
    );
}

Result<store::Object> PageFor(Deps& deps, Call& c) {
    std::string id(c.req.Param("id"));
    auto p = deps.store.Get(id);
    if (!p || p->kind != "Page" || !c.who.Sees(p->tenant)) {
        return Fail(NotFound("page", id));
    }
    if (auto r = RequireRole(c.who, auth::Role::kOperator, "act on pages"); !r) {
        return Fail(r.error());
    }
    c.audit.object = id;
    c.audit.tenant = p->tenant;
    return p;
}

json::object ShiftJson(const oncall::Shift& s) {
    return json::object{
        {"user", s.who.user},
        {"layer", s.who.layer},
        {"start", core::FormatRfc3339(s.start)},
        {"end", core::FormatRfc3339(s.end)}};
}

}  // namespace

void AddAlertingRoutes(
    http::Router& router,
    Deps& deps,
    alerting::Dispatcher& alerts,
    oncall::Pager& pager,
    alerting::Remediator* remediator
) {
    router.Add(
        "POST",
        "/v1/intake/alertmanager",
        Wrap(
            deps,
            "alerts.intake",
            [&deps, &alerts](Call& c) -> Result<http::Response> {
                if (auto r = RequireRole(c.who, auth::Role::kOperator, "send alerts"); !r) {
                    return Fail(r.error());
                }
                return AlertmanagerIntake(deps, alerts, c);
            }
        )
    );
    router.Add(
        "POST",
        "/v1/intake/events",
        Wrap(
            deps,
            "events.intake",
            [&deps, &alerts, &pager](Call& c) { return EventsIntake(deps, alerts, pager, c); },
            Access::kPublic
        )
    );
    for (const char* action : {"acknowledge", "resolve", "reassign"}) {
        std::string name = action;
        router.Add(
            "POST",
            "/v1/pages/{id}:" + name,
            Wrap(
                deps,
                "page." + name,
                [&deps, name, &pager](Call& c) -> Result<http::Response> {
                    auto page = PageFor(deps, c);
                    if (!page) {
                        return Fail(page.error());
                    }
                    std::string by = ActorName(deps, c.who);
                    Result<store::Object> r = Fail(ErrorCode::kInternal, "unreachable");
                    c.audited = true;
                    if (name == "acknowledge") {
                        r = pager.Acknowledge(page->id, by, c.audit);
                    } else if (name == "resolve") {
                        r = pager.Resolve(page->id, by, c.audit);
                    } else {
                        auto body = BodyObject(c.req);
                        if (!body) {
                            c.audited = false;
                            return Fail(body.error());
                        }
                        std::string user = core::StrAt(*body, "user");
                        if (user.empty() || body->size() != 1) {
                            c.audited = false;
                            return Fail(core::FieldError(
                                "user", R"(send {"user": "<user name>"}: whom the page goes to)"
                            ));
                        }
                        r = pager.Reassign(page->id, user, by, c.audit);
                    }
                    if (!r) {
                        c.audited =
                            false;  // refused before the store wrote anything: Wrap records it
                        return Fail(r.error());
                    }
                    return JsonResponse(200, store::ObjectToJson(*r));
                }
            )
        );
    }
    if (remediator != nullptr) {
        router.Add(
            "POST",
            "/v1/runbooks/{id}:approve",
            Wrap(
                deps,
                "runbook.approve",
                [&deps, remediator](Call& c) -> Result<http::Response> {
                    std::string id(c.req.Param("id"));
                    auto rb = deps.store.Get(id);
                    if (!rb || rb->kind != "Runbook" || !c.who.Sees(rb->tenant)) {
                        return Fail(NotFound("runbook", id));
                    }
                    if (auto r =
                            RequireRole(c.who, auth::Role::kOperator, "approve runbook actions");
                        !r) {
                        return Fail(r.error());
                    }
                    auto body = BodyObject(c.req);
                    if (!body) {
                        return Fail(body.error());
                    }
                    std::string instance = core::StrAt(*body, "instance");
                    if (instance.empty() || body->size() != 1) {
                        return Fail(core::FieldError(
                            "instance",
                            R"(send {"instance": "<instance id>"}: whose waiting action to run)"
                        ));
                    }
                    c.audit.object = id;
                    c.audit.tenant = rb->tenant;
                    auto r = remediator->Approve(id, instance, ActorName(deps, c.who), c.audit);
                    if (!r) {
                        return Fail(r.error());
                    }
                    c.audited = true;
                    return JsonResponse(200, store::ObjectToJson(*r));
                }
            )
        );
    }
    router.Add("GET", "/v1/oncall/now", Wrap(deps, "", [&deps](Call& c) -> Result<http::Response> {
                   if (auto k = KnownQuery(c.req, {"schedule", "at", "tenant"}); !k) {
                       return Fail(k.error());
                   }
                   auto tenant_of = TenantOf(c);
                   if (!tenant_of) {
                       return Fail(tenant_of.error());
                   }
                   std::string tenant = *tenant_of;
                   auto at = deps.clock.Now();
                   if (auto a = c.req.Query("at")) {
                       auto t = core::ParseRfc3339(*a);
                       if (!t) {
                           return Fail(core::FieldError(
                               "at", "must be an RFC 3339 time such as 2026-11-23T09:00:00Z"
                           ));
                       }
                       at = *t;
                   }
                   at = std::chrono::floor<std::chrono::minutes>(at);
                   std::string only(c.req.Query("schedule").value_or(""));
                   auto list = deps.store.ListAll("Schedule", tenant, [&](const store::Object& o) {
                       return only.empty() || o.name == only;
                   });
                   if (!list) {
                       return Fail(list.error());
                   }
                   if (!only.empty() && list->empty()) {
                       return Fail(NotFound("schedule", only));
                   }
                   json::array out;
                   for (const auto& s : *list) {
                       auto sched = oncall::ScheduleFromSpec(s.spec);
                       if (!sched) {
                           return Fail(sched.error());
                       }
                       auto shifts = oncall::Shifts(
                           *sched, at - std::chrono::days(7), at + std::chrono::days(31), 100000
                       );
                       json::object row{{"schedule", s.name}, {"id", s.id}};
                       for (size_t i = 0; i < shifts.size(); ++i) {
                           if (shifts[i].start <= at && at < shifts[i].end) {
                               row["on_call"] = ShiftJson(shifts[i]);
                               for (size_t j = i + 1; j < shifts.size(); ++j) {
                                   if (!shifts[j].who.user.empty()) {
                                       row["next"] = ShiftJson(shifts[j]);
                                       break;
                                   }
                               }
                               break;
                           }
                       }
                       out.push_back(std::move(row));
                   }
                   return JsonResponse(
                       200,
                       json::object{{"at", core::FormatRfc3339(at)}, {"schedules", std::move(out)}}
                   );
               }));
    router.Add(
        "GET",
        "/v1/schedules/{id}/ical",
        Wrap(
            deps,
            "",
            [&deps](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"days"}); !k) {
                    return Fail(k.error());
                }
                auto days = QueryInt(c.req, "days", 1, 90);
                if (!days) {
                    return Fail(days.error());
                }
                std::string id(c.req.Param("id"));
                auto s = deps.store.Get(id);
                if (!s || s->kind != "Schedule" || !c.who.Sees(s->tenant)) {
                    return Fail(NotFound("schedule", id));
                }
                auto sched = oncall::ScheduleFromSpec(s->spec);
                if (!sched) {
                    return Fail(sched.error());
                }
                auto from = std::chrono::floor<std::chrono::days>(deps.clock.Now());
                http::Response r;
                r.content_type = "text/calendar; charset=utf-8";
                r.body = oncall::ICalendar(
                    *sched, s->name, from, from + std::chrono::days(days->value_or(30))
                );
                return r;
            }
        )
    );
}

}  // namespace hangar::api
