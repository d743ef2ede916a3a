#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/metering/answers.hpp"
#include "hangar/metering/entitlements.hpp"
#include "hangar/metering/metering.hpp"

namespace hangar::metering {

namespace {

// "<subject>-<feature>" as an object name (a DNS label).
std::string EntitlementName(std::string_view subject, std::string_view feature) {
    std::string out;
    for (char c : fmt::format("{}-{}", subject, feature)) {
        out.push_back(
            std::isalnum(static_cast<unsigned char>(c)) != 0
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '-'
        );
    }
    return out.substr(0, 63);
}

// A tenant reads its own; an admin any subject.
std::optional<http::Response> MaySee(const Caller& who, std::string_view subject) {
    if (!who.admin && subject != who.tenant) {
        return Problem(
            403, fmt::format("a tenant reads its own entitlements: subject {}", who.tenant)
        );
    }
    return std::nullopt;
}

// OpenMeter's Entitlement for an Entitlement object.
json::object EntitlementToOpenMeter(const store::Object& o) {
    json::object e{
        {"id", o.id},
        {"type", core::StrAt(o.spec, "type")},
        {"featureKey", core::StrAt(o.spec, "feature")},
        {"subjectKey", core::StrAt(o.spec, "subject")},
        {"createdAt", o.created_at},
        {"updatedAt", o.updated_at}};
    if (const json::object* p = core::ObjectAt(o.spec, "usage_period")) {
        e["usagePeriod"] = *p;
    }
    if (o.spec.contains("config")) {
        e["config"] = o.spec.at("config");
    }
    if (o.spec.contains("is_soft_limit")) {
        e["isSoftLimit"] = o.spec.at("is_soft_limit");
    }
    return e;
}

int64_t ValueTime(const http::Request& req, MeteringDeps& deps, bool& bad) {
    auto t = QueryTime(req, "time");
    bad = t == INT64_MIN;
    return t && !bad ? *t / 1000 : core::UnixSeconds(deps.metering.clock().Now());
}

}  // namespace

void AddEntitlementRoutes(http::Router& router, MeteringDeps& deps, Entitlements& ents) {
    router.Add("GET", "/v1/entitlements/check", Guarded([&deps, &ents](http::Request& req) {
                   auto who = Identify(deps, req);
                   if (!who) {
                       return who.error();
                   }
                   std::string feature = req.Query("feature").value_or("");
                   std::string subject = req.Query("subject").value_or(who->tenant);
                   if (feature.empty()) {
                       return Problem(400, "feature is required: ?feature=<key>");
                   }
                   if (auto no = MaySee(*who, subject)) {
                       return *no;
                   }
                   if (subject.empty()) {
                       return Problem(400, "subject is required for a platform admin");
                   }
                   bool bad = false;
                   int64_t at = ValueTime(req, deps, bad);
                   if (bad) {
                       return Problem(400, "time must be an RFC 3339 time");
                   }
                   auto v = ents.Value(subject, feature, at);
                   if (!v) {
                       if (v.error().code == core::ErrorCode::kNotFound) {
                           // No entitlement: no access, as OpenMeter answers a subject without one.
                           return Json(
                               200,
                               json::object{
                                   {"feature", feature},
                                   {"subject", subject},
                                   {"hasAccess", false},
                                   {"reason", v.error().message}}
                           );
                       }
                       return Problem(v.error());
                   }
                   json::object out = ValueToJson(*v);
                   out["feature"] = feature;
                   out["subject"] = subject;
                   out["entitlement"] = v->entitlement_id;
                   return Json(200, out);
               }));
    router.Add(
        "GET",
        "/api/v1/subjects/{subject}/entitlements/{feature}/value",
        Guarded([&deps, &ents](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            std::string subject(req.Param("subject"));
            if (auto no = MaySee(*who, subject)) {
                return *no;
            }
            bool bad = false;
            int64_t at = ValueTime(req, deps, bad);
            if (bad) {
                return Problem(400, "time must be an RFC 3339 time");
            }
            auto v = ents.Value(subject, req.Param("feature"), at);
            if (!v) {
                return Problem(v.error());
            }
            return Json(200, ValueToJson(*v));
        })
    );
    router.Add(
        "GET", "/api/v1/subjects/{subject}/entitlements", Guarded([&deps](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            std::string subject(req.Param("subject"));
            if (auto no = MaySee(*who, subject)) {
                return *no;
            }
            auto all = deps.metering.store().ListAll(
                "Entitlement",
                std::nullopt,
                [&](const store::Object& o) { return core::StrAt(o.spec, "subject") == subject; }
            );
            if (!all) {
                return Problem(all.error());
            }
            json::array out;
            for (const auto& o : *all) {
                out.push_back(EntitlementToOpenMeter(o));
            }
            return Json(200, out);
        })
    );
    // EntitlementCreateInputs: {type, featureKey, usagePeriod, issueAfterReset, isSoftLimit,
    // config}; platform admins.
    router.Add(
        "POST", "/api/v1/subjects/{subject}/entitlements", Guarded([&deps](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            if (!who->admin) {
                return Problem(403, "only platform admins grant entitlements");
            }
            auto body = core::ParseJsonObject(req.body);
            if (!body) {
                return Problem(400, body.error().message);
            }
            json::object spec{{"subject", std::string(req.Param("subject"))}};
            for (const auto& [k, v] : *body) {
                if (k == "featureKey") {
                    spec["feature"] = v;
                } else if (k == "usagePeriod") {
                    spec["usage_period"] = v;
                } else if (k == "isSoftLimit") {
                    spec["is_soft_limit"] = v;
                } else if (k == "issueAfterReset") {
                    // {amount, priority?} in v1; a bare number is taken too.
                    spec["issue_after_reset"] =
                        v.is_object() && v.as_object().contains("amount") ? v.at("amount") : v;
                } else if (k == "type" || k == "config") {
                    spec[k] = v;
                } else if (k != "metadata" && k != "featureId" && k != "measureUsageFrom") {
                    return Problem(
                        400,
                        fmt::format(
                            "{}: is not a field of an entitlement",
                            std::string_view(k).substr(0, 64)
                        )
                    );
                }
            }
            auto valid = ValidateEntitlementSpec(spec);
            if (!valid) {
                return Problem(400, valid.error().message);
            }
            std::string now = core::FormatRfc3339(deps.metering.clock().Now());
            store::Object o = store::NewSystemObject("Entitlement", "ent", "", now);
            o.name = EntitlementName(req.Param("subject"), core::StrAt(*valid, "feature"));
            o.spec = std::move(*valid);
            store::AuditEvent audit = Audit(deps, *who, req, "entitlement.create");
            audit.object = o.id;
            auto created = deps.metering.store().Create(o, std::nullopt, audit);
            if (!created) {
                if (created.error().code == core::ErrorCode::kAlreadyExists) {
                    return Problem(409, "the subject already has an entitlement to this feature");
                }
                return Problem(created.error());
            }
            return Json(201, EntitlementToOpenMeter(created->object));
        })
    );
    auto subject_entitlement = [&deps](const http::Request& req
                               ) -> std::expected<store::Object, http::Response> {
        std::string subject(req.Param("subject"));
        auto all =
            deps.metering.store().ListAll("Entitlement", std::nullopt, [&](const store::Object& o) {
                return core::StrAt(o.spec, "subject") == subject &&
                       core::StrAt(o.spec, "feature") == req.Param("feature");
            });
        if (!all || all->empty()) {
            return std::unexpected(Problem(
                404,
                fmt::format("{} has no entitlement of its own to {}", subject, req.Param("feature"))
            ));
        }
        return all->front();
    };
    router.Add(
        "POST",
        "/api/v1/subjects/{subject}/entitlements/{feature}/grants",
        Guarded([&deps, subject_entitlement](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            if (!who->admin) {
                return Problem(403, "only platform admins grant usage");
            }
            auto ent = subject_entitlement(req);
            if (!ent) {
                return ent.error();
            }
            if (core::StrAt(ent->spec, "type") != "metered") {
                return Problem(400, "grants are for metered entitlements");
            }
            auto body = core::ParseJsonObject(req.body);
            if (!body) {
                return Problem(400, body.error().message);
            }
            auto grant = GrantFromOpenMeter(*body);
            if (!grant) {
                return Problem(400, grant.error().message);
            }
            store::AuditEvent audit = Audit(deps, *who, req, "entitlement.grant");
            audit.object = ent->id;
            size_t index = 0;
            auto updated = deps.metering.store().Update(
                ent->id,
                std::nullopt,
                audit.time,
                [&](store::Object& o) -> core::Result<void> {
                    json::value& g = o.spec["grants"];
                    if (!g.is_array()) {
                        g = json::array();
                    }
                    if (g.as_array().size() >= 100) {
                        return core::Fail(core::MakeError(
                            core::ErrorCode::kConflict, "an entitlement holds at most 100 grants"
                        ));
                    }
                    index = g.as_array().size();
                    g.as_array().push_back(*grant);
                    return {};
                },
                audit
            );
            if (!updated) {
                return Problem(updated.error());
            }
            return Json(201, GrantToOpenMeter(*grant, ent->id, index));
        })
    );
    router.Add(
        "GET",
        "/api/v1/subjects/{subject}/entitlements/{feature}/grants",
        Guarded([&deps, subject_entitlement](http::Request& req) {
            auto who = Identify(deps, req);
            if (!who) {
                return who.error();
            }
            if (auto no = MaySee(*who, req.Param("subject"))) {
                return *no;
            }
            auto ent = subject_entitlement(req);
            if (!ent) {
                return ent.error();
            }
            json::array out;
            if (const json::value* g = ent->spec.if_contains("grants");
                g != nullptr && g->is_array()) {
                for (size_t i = 0; i < g->as_array().size(); ++i) {
                    if (g->as_array()[i].is_object()) {
                        out.push_back(GrantToOpenMeter(g->as_array()[i].as_object(), ent->id, i));
                    }
                }
            }
            return Json(200, out);
        })
    );
}

}  // namespace hangar::metering
