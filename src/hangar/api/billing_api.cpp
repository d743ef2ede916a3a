// Subscriptions, invoices, payments and margins (billing/):
//   POST /v1/subscriptions                            start one {tenant, plan, trial_days?,
//                                                     starts_at? (admins), payment_method?}
//   POST /v1/subscriptions/{id}:change-plan|cancel|pause|resume|payment-method
//   GET  /v1/subscriptions/{id}/change-preview?plan=&at=   the proration preview
//   GET  /v1/subscriptions/{id}/upcoming-invoice      the current period's invoice so far
//   POST /v1/invoices/{id}:approve|void|mark-paid|collect   (platform admins)
//   GET  /v1/invoices/{id}/html | /pdf                the invoice to read, print or download
//   POST /v1/billing/stripe/webhook                   Stripe's signed events
//   GET  /v1/billing/margin?month=                    cost, revenue and margin per tenant
// A tenant's owner changes its own subscription; dates in the past are for platform admins.

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/billing/billing.hpp"
#include "hangar/billing/invoice_render.hpp"
#include "hangar/core/json.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;

namespace {

// A JSON body with only these fields.
Result<json::object>
BodyWith(const http::Request& req, std::initializer_list<std::string_view> known) {
    json::object empty;
    auto body = req.body.empty() ? Result<json::object>(empty) : BodyObject(req);
    if (!body) {
        return Fail(body.error());
    }
    for (const auto& [k, v] : *body) {
        if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end()) {
            return Fail(core::FieldError(std::string(k), "is not a field of this request"));
        }
    }
    return body;
}

Result<std::optional<int64_t>> TimeField(const json::object& body, std::string_view key) {
    const json::value* v = body.if_contains(key);
    if (v == nullptr) {
        return std::optional<int64_t>{};
    }
    auto t = v->is_string() ? core::ParseRfc3339(v->as_string()) : std::nullopt;
    if (!t) {
        return Fail(core::FieldError(std::string(key), "must be an RFC 3339 time"));
    }
    return std::optional<int64_t>(core::UnixSeconds(*t));
}

Result<std::string> StringField(const json::object& body, std::string_view key, size_t max) {
    const json::value* v = body.if_contains(key);
    if (v == nullptr || !v->is_string() || v->as_string().empty() || v->as_string().size() > max) {
        return Fail(core::FieldError(
            std::string(key), fmt::format("is required: text of 1 to {} characters", max)
        ));
    }
    return std::string(v->as_string());
}

// A provider's payment method id: "pm_card_visa", "pm_1Nv...".
bool IsPaymentMethod(std::string_view s) {
    return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
}

// The object of `kind` the caller may see; with `owner`, one it may change (the tenant's owner
// or a platform admin).
Result<store::Object> Visible(Deps& deps, Call& c, std::string_view kind, bool owner) {
    std::string id(c.req.Param("id"));
    auto o = deps.store.Get(id);
    std::string what = kind == "Invoice" ? "invoice" : "subscription";
    if (!o || o->kind != kind || !c.who.Sees(o->tenant)) {
        return Fail(NotFound(what, id));
    }
    if (owner) {
        if (auto r = RequireRole(c.who, auth::Role::kOwner, "change a subscription"); !r) {
            return Fail(r.error());
        }
        c.audit.object = id;
        c.audit.tenant = o->tenant;
    }
    return o;
}

Result<void> NoBackdating(const Call& c, const std::optional<int64_t>& at, std::string_view key) {
    if (at && !c.who.IsAdmin()) {
        return Fail(Forbidden(fmt::format("only a platform admin sets {}", key)));
    }
    return {};
}

}  // namespace

void AddBillingRoutes(http::Router& router, Deps& deps, billing::Billing& billing) {
    router.Add(
        "POST",
        "/v1/subscriptions",
        Wrap(
            deps,
            "subscription.create",
            [&deps, &billing](Call& c) -> Result<http::Response> {
                auto body = BodyWith(
                    c.req, {"tenant", "plan", "trial_days", "starts_at", "payment_method"}
                );
                if (!body) {
                    return Fail(body.error());
                }
                if (auto r = RequireRole(c.who, auth::Role::kOwner, "start a subscription"); !r) {
                    return Fail(r.error());
                }
                std::string tenant = c.who.IsAdmin() ? core::StrAt(*body, "tenant") : c.who.tenant;
                if (tenant.empty()) {
                    return Fail(core::FieldError("tenant", "is required: the tenant's id"));
                }
                if (!c.who.Sees(tenant)) {
                    return Fail(Forbidden("a tenant starts its own subscription"));
                }
                auto plan = StringField(*body, "plan", 63);
                if (!plan) {
                    return Fail(plan.error());
                }
                int trial = 0;
                if (const json::value* t = body->if_contains("trial_days")) {
                    if (!t->is_int64() || t->as_int64() < 0 || t->as_int64() > 365) {
                        return Fail(
                            core::FieldError("trial_days", "must be a whole number from 0 to 365")
                        );
                    }
                    trial = static_cast<int>(t->as_int64());
                }
                auto at = TimeField(*body, "starts_at");
                if (!at) {
                    return Fail(at.error());
                }
                if (auto ok = NoBackdating(c, *at, "starts_at"); !ok) {
                    return Fail(ok.error());
                }
                std::string method = core::StrAt(*body, "payment_method");
                if (body->contains("payment_method") && !IsPaymentMethod(method)) {
                    return Fail(core::FieldError(
                        "payment_method", "must be a payment method id such as pm_card_visa"
                    ));
                }
                auto made = billing.Subscribe(tenant, *plan, trial, *at, method, c.audit);
                if (!made) {
                    return Fail(made.error());
                }
                c.audited = true;
                return JsonResponse(201, store::ObjectToJson(*made));
            }
        )
    );

    struct Op {
        const char* name;
        billing::Billing::Op op;
    };
    static const Op kOps[] = {
        {"change-plan", billing::Billing::Op::kChangePlan},
        {"cancel", billing::Billing::Op::kCancel},
        {"pause", billing::Billing::Op::kPause},
        {"resume", billing::Billing::Op::kResume},
    };
    for (const Op& op : kOps) {
        router.Add(
            "POST",
            std::string("/v1/subscriptions/{id}:") + op.name,
            Wrap(
                deps,
                std::string("subscription.") + op.name,
                [&deps, &billing, &op](Call& c) -> Result<http::Response> {
                    auto sub = Visible(deps, c, "Subscription", true);
                    if (!sub) {
                        return Fail(sub.error());
                    }
                    bool change = op.op == billing::Billing::Op::kChangePlan;
                    bool cancel = op.op == billing::Billing::Op::kCancel;
                    auto body = change   ? BodyWith(c.req, {"plan", "at"})
                                : cancel ? BodyWith(c.req, {"at", "at_period_end"})
                                         : BodyWith(c.req, {"at"});
                    if (!body) {
                        return Fail(body.error());
                    }
                    std::string plan;
                    if (change) {
                        auto p = StringField(*body, "plan", 63);
                        if (!p) {
                            return Fail(p.error());
                        }
                        plan = *p;
                    }
                    auto at = TimeField(*body, "at");
                    if (!at) {
                        return Fail(at.error());
                    }
                    if (auto ok = NoBackdating(c, *at, "at"); !ok) {
                        return Fail(ok.error());
                    }
                    auto kind = op.op;
                    if (cancel) {
                        const json::value* end = body->if_contains("at_period_end");
                        if (end != nullptr && !end->is_bool()) {
                            return Fail(core::FieldError("at_period_end", "must be true or false"));
                        }
                        if (end != nullptr && end->as_bool()) {
                            kind = billing::Billing::Op::kCancelAtPeriodEnd;
                        }
                    }
                    auto r = billing.Change(sub->id, kind, plan, *at, c.audit);
                    if (!r) {
                        return Fail(r.error());
                    }
                    c.audited = true;
                    return JsonResponse(200, store::ObjectToJson(*r));
                }
            )
        );
    }
    router.Add(
        "POST",
        "/v1/subscriptions/{id}:payment-method",
        Wrap(
            deps,
            "subscription.payment-method",
            [&deps, &billing](Call& c) -> Result<http::Response> {
                auto sub = Visible(deps, c, "Subscription", true);
                if (!sub) {
                    return Fail(sub.error());
                }
                auto body = BodyWith(c.req, {"payment_method"});
                if (!body) {
                    return Fail(body.error());
                }
                auto method = StringField(*body, "payment_method", 255);
                if (!method || !IsPaymentMethod(*method)) {
                    return Fail(core::FieldError(
                        "payment_method", "is required: a payment method id such as pm_card_visa"
                    ));
                }
                auto r = billing.SetPaymentMethod(sub->id, *method, c.audit);
                if (!r) {
                    return Fail(r.error());
                }
                c.audited = true;
                return JsonResponse(200, store::ObjectToJson(*r));
            }
        )
    );
    router.Add(
        "GET",
        "/v1/subscriptions/{id}/change-preview",
        Wrap(
            deps,
            "",
            [&deps, &billing](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"plan", "at"}); !k) {
                    return Fail(k.error());
                }
                auto sub = Visible(deps, c, "Subscription", false);
                if (!sub) {
                    return Fail(sub.error());
                }
                auto plan = c.req.Query("plan");
                if (!plan || plan->empty()) {
                    return Fail(core::MakeError(
                        ErrorCode::kInvalidArgument,
                        "query parameter plan is required: the new plan"
                    ));
                }
                std::optional<int64_t> at;
                if (auto q = c.req.Query("at")) {
                    auto t = core::ParseRfc3339(*q);
                    if (!t) {
                        return Fail(core::MakeError(
                            ErrorCode::kInvalidArgument, "at must be an RFC 3339 time"
                        ));
                    }
                    at = core::UnixSeconds(*t);
                }
                auto r = billing.PreviewChange(sub->id, *plan, at);
                if (!r) {
                    return Fail(r.error());
                }
                return JsonResponse(200, *r);
            }
        )
    );
    router.Add(
        "GET",
        "/v1/subscriptions/{id}/upcoming-invoice",
        Wrap(
            deps,
            "",
            [&deps, &billing](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {}); !k) {
                    return Fail(k.error());
                }
                auto sub = Visible(deps, c, "Subscription", false);
                if (!sub) {
                    return Fail(sub.error());
                }
                auto r = billing.Upcoming(sub->id);
                if (!r) {
                    return Fail(r.error());
                }
                return JsonResponse(200, *r);
            }
        )
    );

    struct InvoiceOp {
        const char* name;
        Result<store::Object> (billing::Billing::*run)(const std::string&, store::AuditEvent);
    };
    static const InvoiceOp kInvoiceOps[] = {
        {"approve", &billing::Billing::Approve},
        {"void", &billing::Billing::Void},
        {"mark-paid", &billing::Billing::MarkPaid},
        {"collect", &billing::Billing::Collect},
    };
    for (const InvoiceOp& op : kInvoiceOps) {
        router.Add(
            "POST",
            std::string("/v1/invoices/{id}:") + op.name,
            Wrap(
                deps,
                std::string("invoice.") + op.name,
                [&deps, &billing, &op](Call& c) -> Result<http::Response> {
                    auto inv = Visible(deps, c, "Invoice", false);
                    if (!inv) {
                        return Fail(inv.error());
                    }
                    if (auto r = RequireRole(c.who, auth::Role::kAdmin, "change invoices"); !r) {
                        return Fail(r.error());
                    }
                    if (auto body = BodyWith(c.req, {}); !body) {
                        return Fail(body.error());
                    }
                    c.audit.object = inv->id;
                    c.audit.tenant = inv->tenant;
                    auto r = (billing.*op.run)(inv->id, c.audit);
                    if (!r) {
                        return Fail(r.error());
                    }
                    c.audited = true;
                    return JsonResponse(200, store::ObjectToJson(*r));
                }
            )
        );
    }
    auto customer = [&deps](const store::Object& inv) {
        auto t = deps.store.Get(inv.tenant);
        if (!t) {
            return inv.tenant;
        }
        std::string name = core::StrAt(t->spec, "display_name");
        return name.empty() ? t->name : name;
    };
    router.Add(
        "GET",
        "/v1/invoices/{id}/html",
        Wrap(
            deps,
            "",
            [&deps, customer](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {}); !k) {
                    return Fail(k.error());
                }
                auto inv = Visible(deps, c, "Invoice", false);
                if (!inv) {
                    return Fail(inv.error());
                }
                http::Response r;
                r.content_type = "text/html; charset=utf-8";
                r.body = billing::InvoiceHtml(*inv, customer(*inv));
                return r;
            }
        )
    );
    static billing::PdfRenderer pdf;
    router.Add(
        "GET",
        "/v1/invoices/{id}/pdf",
        Wrap(
            deps,
            "",
            [&deps, customer](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {}); !k) {
                    return Fail(k.error());
                }
                auto inv = Visible(deps, c, "Invoice", false);
                if (!inv) {
                    return Fail(inv.error());
                }
                auto bytes = pdf.Render(billing::InvoiceHtml(*inv, customer(*inv)));
                if (!bytes) {
                    return Fail(bytes.error());
                }
                http::Response r;
                r.content_type = "application/pdf";
                r.headers.emplace_back(
                    "Content-Disposition",
                    fmt::format("attachment; filename=\"{}.pdf\"", core::StrAt(inv->spec, "number"))
                );
                r.body = std::move(*bytes);
                return r;
            }
        )
    );
    router.Add(
        "POST",
        "/v1/billing/stripe/webhook",
        Wrap(
            deps,
            "",
            [&deps, &billing](Call& c) -> Result<http::Response> {
                if (billing.payments() == nullptr) {
                    return Fail(
                        core::MakeError(ErrorCode::kNotFound, "no payment provider is configured")
                    );
                }
                std::string_view sig = c.req.Header("stripe-signature");
                if (sig.empty()) {
                    return Fail(core::MakeError(
                        ErrorCode::kUnauthenticated, "the Stripe-Signature header is missing"
                    ));
                }
                auto e = billing.payments()->ReadWebhook(
                    c.req.body, sig, core::UnixSeconds(deps.clock.Now())
                );
                if (!e) {
                    return Fail(e.error());
                }
                if (auto ok = billing.OnPaymentEvent(*e); !ok) {
                    // An event about an invoice Hangar does not have: acknowledged, not retried.
                    if (ok.error().code != ErrorCode::kNotFound) {
                        return Fail(ok.error());
                    }
                }
                return JsonResponse(200, json::object{{"received", true}});
            },
            Access::kPublic
        )
    );
    router.Add(
        "GET",
        "/v1/billing/margin",
        Wrap(
            deps,
            "",
            [&billing](Call& c) -> Result<http::Response> {
                if (auto k = KnownQuery(c.req, {"month"}); !k) {
                    return Fail(k.error());
                }
                if (auto r = RequireRole(c.who, auth::Role::kAdmin, "read margins"); !r) {
                    return Fail(r.error());
                }
                auto month = c.req.Query("month");
                if (!month) {
                    return Fail(core::MakeError(
                        ErrorCode::kInvalidArgument,
                        "query parameter month is required: YYYY-MM, such as 2026-10"
                    ));
                }
                auto r = billing.Margin(std::string(*month));
                if (!r) {
                    return Fail(r.error());
                }
                return JsonResponse(200, *r);
            }
        )
    );
}

}  // namespace hangar::api
