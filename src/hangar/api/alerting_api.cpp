// Alert intake (Alertmanager webhooks, PagerDuty Events v2), page actions and on-call lookups.
//   POST /v1/intake/alertmanager   Alertmanager's webhook payload, version 4
//   POST /v1/intake/events         PagerDuty Events API v2 (routing_key is a Hangar token)
//   POST /v1/pages/{id}:acknowledge | :resolve | :reassign
//   GET  /v1/oncall/now            who is on call (and who is next), per schedule
//   GET  /v1/schedules/{id}/ical   the schedule's shifts as iCalendar
//   POST /v1/runbooks/{id}:approve run a runbook action that waits for approval

#include <fmt/format.h>

#include <boost/json.hpp>

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

constexpr size_t kMaxIntakeAlerts = 10000;

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

Result<metrics::Labels> ReadLabels(const json::value* v, const std::string& path) {
    metrics::Labels out;
    if (v == nullptr || !v->is_object()) {
        return Fail(core::FieldError(path, "must be an object of label names to strings"));
    }
    for (const auto& [k, val] : v->as_object()) {
        if (!val.is_string()) {
            return Fail(core::FieldError(
                fmt::format("{}.{}", path, std::string_view(k)), "must be a string"
            ));
        }
        out.push_back({std::string(k), std::string(val.as_string())});
    }
    if (auto n = metrics::NormalizeLabelSet(out); !n) {
        return Fail(core::FieldError(path, n.error().message));
    }
    return out;
}

Result<std::map<std::string, std::string>>
ReadAnnotations(const json::value* v, const std::string& path) {
    std::map<std::string, std::string> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_object()) {
        return Fail(core::FieldError(path, "must be an object of names to strings"));
    }
    for (const auto& [k, val] : v->as_object()) {
        if (!val.is_string() || val.as_string().size() > 16384) {
            return Fail(core::FieldError(
                fmt::format("{}.{}", path, std::string_view(k)),
                "must be a string of at most 16 KiB"
            ));
        }
        out[std::string(k)] = val.as_string();
    }
    return out;
}

Result<http::Response> AlertmanagerIntake(Deps& deps, Call& c) {
    auto body = BodyObject(c.req);
    if (!body) {
        return Fail(body.error());
    }
    const json::value* version = body->if_contains("version");
    if (version == nullptr || !version->is_string() || version->as_string() != "4") {
        return Fail(core::FieldError(
            "version",
            "must be \"4\": Alertmanager's webhook payload version 4 (Alertmanager 0.16 and later)"
        ));
    }
    const json::value* alerts = body->if_contains("alerts");
    if (alerts == nullptr || !alerts->is_array()) {
        return Fail(core::FieldError("alerts", "must be an array of alerts"));
    }
    if (alerts->as_array().size() > kMaxIntakeAlerts) {
        return Fail(core::FieldError(
            "alerts",
            fmt::format(
                "holds more than {} alerts; lower max_alerts in the webhook config",
                kMaxIntakeAlerts
            )
        ));
    }
    std::string scope(c.req.Header("x-scope-orgid"));
    std::vector<alerting::Alert> out;
    auto now = deps.clock.Now();
    for (size_t i = 0; i < alerts->as_array().size(); ++i) {
        std::string path = fmt::format("alerts[{}]", i);
        const json::value& av = alerts->as_array()[i];
        if (!av.is_object()) {
            return Fail(core::FieldError(path, "must be an object"));
        }
        const json::object& a = av.as_object();
        std::string status = core::StrAt(a, "status");
        if (status != "firing" && status != "resolved") {
            return Fail(core::FieldError(path + ".status", "must be firing or resolved"));
        }
        auto labels = ReadLabels(a.if_contains("labels"), path + ".labels");
        if (!labels) {
            return Fail(labels.error());
        }
        if (metrics::Get(*labels, "alertname").empty()) {
            return Fail(
                core::FieldError(path + ".labels.alertname", "is required: it names the alert")
            );
        }
        auto annotations = ReadAnnotations(a.if_contains("annotations"), path + ".annotations");
        if (!annotations) {
            return Fail(annotations.error());
        }
        auto tenant = IntakeTenant(
            deps, c.who, scope.empty() ? metrics::Get(*labels, "tenant") : std::string_view(scope)
        );
        if (!tenant) {
            return Fail(tenant.error());
        }
        alerting::Alert alert{
            *tenant,
            std::move(*labels),
            std::move(*annotations),
            now,
            std::nullopt,
            "alertmanager",
            core::StrAt(a, "generatorURL"),
            0};
        if (auto s = core::ParseRfc3339(core::StrAt(a, "startsAt"))) {
            alert.starts_at = *s;
        }
        if (status == "resolved") {
            auto e = core::ParseRfc3339(core::StrAt(a, "endsAt"));
            alert.ends_at = e && *e > alert.starts_at ? *e : now;
        }
        out.push_back(std::move(alert));
    }
    size_t n = out.size();
    deps.alerts->Receive(std::move(out));
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

Result<http::Response> EventsIntake(Deps& deps, Call& c) {
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
    alerting::EventIntake(*deps.alerts, *deps.pager, deps.clock)
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

void AddAlertingRoutes(http::Router& router, Deps& deps) {
    if (deps.alerts == nullptr || deps.pager == nullptr) {
        return;
    }
    router.Add(
        "POST",
        "/v1/intake/alertmanager",
        Wrap(
            deps,
            "alerts.intake",
            [&deps](Call& c) -> Result<http::Response> {
                if (auto r = RequireRole(c.who, auth::Role::kOperator, "send alerts"); !r) {
                    return Fail(r.error());
                }
                return AlertmanagerIntake(deps, c);
            }
        )
    );
    router.Add(
        "POST",
        "/v1/intake/events",
        Wrap(
            deps,
            "events.intake",
            [&deps](Call& c) { return EventsIntake(deps, c); },
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
                [&deps, name](Call& c) -> Result<http::Response> {
                    auto page = PageFor(deps, c);
                    if (!page) {
                        return Fail(page.error());
                    }
                    std::string by = ActorName(deps, c.who);
                    Result<store::Object> r = Fail(ErrorCode::kInternal, "unreachable");
                    c.audited = true;
                    if (name == "acknowledge") {
                        r = deps.pager->Acknowledge(page->id, by, c.audit);
                    } else if (name == "resolve") {
                        r = deps.pager->Resolve(page->id, by, c.audit);
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
                        r = deps.pager->Reassign(page->id, user, by, c.audit);
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
    if (deps.remediator != nullptr) {
        router.Add(
            "POST",
            "/v1/runbooks/{id}:approve",
            Wrap(
                deps,
                "runbook.approve",
                [&deps](Call& c) -> Result<http::Response> {
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
                    auto r =
                        deps.remediator->Approve(id, instance, ActorName(deps, c.who), c.audit);
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
