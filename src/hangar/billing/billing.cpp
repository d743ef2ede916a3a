#include "hangar/billing/billing.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"

namespace hangar::billing {

namespace json = boost::json;
using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

std::string Time(int64_t t) {
    return core::FormatRfc3339(core::TimePoint(std::chrono::seconds(t)));
}

// "2026-10" of a unix time.
std::string MonthOf(int64_t t) {
    return Time(t).substr(0, 7);
}

core::Error NotFound(std::string_view what, std::string_view id) {
    return core::MakeError(ErrorCode::kNotFound, fmt::format("{} {} not found", what, id));
}

core::Error Refused(std::string why) {
    return core::MakeError(ErrorCode::kConflict, std::move(why));
}

// The invoice's total in minor units ("70.65" → 7065).
int64_t MinorUnits(const std::string& amount) {
    std::string digits;
    for (char c : amount) {
        if (c != '.') {
            digits.push_back(c);
        }
    }
    return digits.empty() ? 0 : std::stoll(digits);
}

std::string InvoiceName(const store::Object& sub, int64_t period_start) {
    std::string day = Time(period_start).substr(0, 10);
    day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
    return fmt::format("{}-{}", sub.name, day);
}

// "INV-20261001-QXQK14": the period's first day and the end of the subscription's id.
std::string InvoiceNumber(const store::Object& sub, int64_t period_start) {
    std::string day = Time(period_start).substr(0, 10);
    day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
    std::string tail = sub.id.substr(sub.id.size() - std::min<size_t>(6, sub.id.size()));
    for (char& c : tail) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return fmt::format("INV-{}-{}", day, tail);
}

}  // namespace

Billing::Billing(
    store::Store& store,
    const core::Clock& clock,
    BillingHooks hooks,
    BillingOptions opts
)
    : store_(store), clock_(clock), hooks_(std::move(hooks)), opts_(opts) {}

Billing::~Billing() {
    Stop();
}

void Billing::Start() {
    ticker_ = std::make_unique<core::Periodic>(
        std::chrono::duration_cast<std::chrono::milliseconds>(opts_.interval), [this] { Tick(); }
    );
    ticker_->Start();
}

void Billing::Stop() {
    if (ticker_) {
        ticker_->Stop();
    }
}

std::string Billing::Now() const {
    return core::FormatRfc3339(clock_.Now());
}

Result<PlanPrice> Billing::PriceOf(const std::string& plan) {
    auto o = store_.FindByName("PlanPrice", "", plan);
    if (!o) {
        return Fail(core::MakeError(
            ErrorCode::kNotFound,
            fmt::format("plan {} has no price (a PlanPrice named {})", plan, plan)
        ));
    }
    return PlanPriceFromSpec(o->spec);
}

int Billing::Tick() {
    std::lock_guard lock(tick_mu_);
    int64_t now = core::UnixSeconds(clock_.Now());
    auto subs = store_.ListAll("Subscription", std::nullopt, [](const store::Object& o) {
        return !core::BoolAt(o.status, "ended");
    });
    int made = 0;
    for (const auto& sub : subs.value_or(std::vector<store::Object>{})) {
        auto n = CloseDue(sub, now);
        if (!n) {
            core::LogError(
                "a subscription's period could not be closed",
                {{"subscription", std::string_view(sub.id)},
                 {"error", std::string_view(n.error().message)}}
            );
        } else {
            made += *n;
        }
        if (auto fresh = store_.Get(sub.id)) {
            SuspendOverdue(*fresh, now);
        }
    }
    return made;
}

Result<int> Billing::CloseDue(const store::Object& sub_in, int64_t now) {
    store::Object sub = sub_in;
    int made_count = 0;
    for (int guard = 0; guard < 1000; ++guard) {
        auto s = SubscriptionFromStatus(sub.status);
        if (!s) {
            return Fail(s.error());
        }
        Subscription next = *s;
        auto closed = billing::CloseDue(next, now);
        if (!closed && next.state == s->state) {
            return made_count;
        }
        if (closed) {
            auto spec = InvoiceFor(sub, *s, *closed, true);
            if (!spec) {
                return Fail(spec.error());
            }
            store::Object inv = store::NewSystemObject("Invoice", "inv", sub.tenant, Now());
            inv.name = InvoiceName(sub, closed->start);
            (*spec)["number"] = InvoiceNumber(sub, closed->start);
            inv.spec = std::move(*spec);
            inv.status = json::object{{"state", "draft"}};
            auto made = store_.Create(
                inv, std::nullopt, store::SystemAudit(Now(), "billing", sub.tenant, inv.id)
            );
            if (made) {
                ++made_count;
                if (!opts_.approval) {
                    if (auto issued = Issue(made->object, Now()); !issued) {
                        core::LogError(
                            "an invoice could not be issued",
                            {{"invoice", std::string_view(inv.id)},
                             {"error", std::string_view(issued.error().message)}}
                        );
                    }
                }
            } else if (made.error().code != ErrorCode::kAlreadyExists) {
                return Fail(made.error());  // the period stays open; the next pass tries again
            }
        }
        auto updated = store_.Update(
            sub.id,
            sub.revision,
            Now(),
            [&](store::Object& o) -> Result<void> {
                o.status = SubscriptionToStatus(next);
                for (const char* k : {"customer", "payment"}) {
                    if (sub.status.contains(k)) {
                        o.status[k] = sub.status.at(k);
                    }
                }
                return {};
            },
            store::SystemAudit(Now(), "billing", sub.tenant, sub.id)
        );
        if (!updated) {
            if (updated.error().code != ErrorCode::kConflict) {
                return Fail(updated.error());
            }
            auto again = store_.Get(sub.id);  // changed meanwhile (a payment): read it again
            if (!again) {
                return Fail(again.error());
            }
            sub = std::move(*again);
            continue;
        }
        sub = std::move(*updated);
    }
    return made_count;
}

Result<json::object> Billing::InvoiceFor(
    const store::Object& sub,
    const Subscription& s,
    const ClosedPeriod& period,
    bool with_sla
) {
    InvoiceInput in{sub.id, period, s.trial_end, std::nullopt, std::nullopt, s.plan};
    auto tenant = store_.Get(sub.tenant);
    if (tenant) {
        std::string country = core::StrAt(tenant->spec, "country");
        std::string lower = country;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (!country.empty()) {
            if (auto rate = store_.FindByName("TaxRate", "", lower)) {
                auto pct = Decimal::Parse(core::StrAt(rate->spec, "percent"));
                if (pct) {
                    in.tax = TaxRate{country, *pct, core::StrAt(rate->spec, "name")};
                }
            }
        }
    }
    std::string month = MonthOf(period.start);
    if (with_sla && hooks_.sla) {
        // Once per tenant and month: a second invoice in the month (a new subscription after a
        // cancel) does not take the credit again.
        auto others = store_.ListAll("Invoice", sub.tenant, [&](const store::Object& o) {
            const json::object* sla = core::ObjectAt(o.spec, "sla");
            return sla != nullptr && core::StrAt(*sla, "month") == month &&
                   core::StrAt(o.status, "state") != "void";
        });
        if (others && others->empty()) {
            auto credit = hooks_.sla(sub.tenant, month);
            if (!credit) {
                return Fail(credit.error());
            }
            in.sla = *credit;
        }
    }
    return BuildInvoice(
        in,
        [this](const std::string& plan) { return PriceOf(plan); },
        [this, &sub](const std::string& meter, int64_t from, int64_t to) -> Result<Decimal> {
            if (!hooks_.usage) {
                return Decimal();
            }
            return hooks_.usage(sub.tenant, meter, from, to);
        }
    );
}

Result<store::Object> Billing::Subscribe(
    const std::string& tenant,
    const std::string& plan,
    int trial_days,
    std::optional<int64_t> at,
    const std::string& payment_method,
    store::AuditEvent audit
) {
    std::lock_guard lock(tick_mu_);
    auto t = store_.Get(tenant);
    if (!t || t->kind != "Tenant") {
        return Fail(NotFound("tenant", tenant));
    }
    if (auto price = PriceOf(plan); !price) {
        return Fail(core::FieldError("plan", price.error().message));
    }
    auto live = store_.ListAll("Subscription", tenant, [](const store::Object& o) {
        return !core::BoolAt(o.status, "ended");
    });
    if (live && !live->empty()) {
        return Fail(core::MakeError(
            ErrorCode::kAlreadyExists,
            fmt::format("tenant {} already has subscription {}", tenant, live->front().id)
        ));
    }
    int64_t start = at.value_or(core::UnixSeconds(clock_.Now()));
    Subscription s = StartSubscription(plan, start, trial_days);
    store::Object o = store::NewSystemObject("Subscription", "sub", tenant, Now());
    o.spec = json::object{{"plan", plan}, {"trial_days", trial_days}};
    if (!payment_method.empty()) {
        o.spec["payment_method"] = payment_method;
    }
    o.status = SubscriptionToStatus(s);
    audit.object = o.id;
    audit.tenant = tenant;
    auto made = store_.Create(o, std::nullopt, audit);
    if (!made) {
        return Fail(made.error());
    }
    return made->object;
}

Result<store::Object> Billing::Change(
    const std::string& id,
    Op op,
    const std::string& plan,
    std::optional<int64_t> at,
    store::AuditEvent audit
) {
    std::lock_guard lock(tick_mu_);
    int64_t now = core::UnixSeconds(clock_.Now());
    auto sub = store_.Get(id);
    if (!sub || sub->kind != "Subscription") {
        return Fail(NotFound("subscription", id));
    }
    if (auto caught_up = CloseDue(*sub, now); !caught_up) {
        return Fail(caught_up.error());
    }
    if (op == Op::kChangePlan) {
        auto price = PriceOf(plan);
        if (!price) {
            return Fail(core::FieldError("plan", price.error().message));
        }
        auto current = PriceOf(core::StrAt(sub->spec, "plan"));
        if (current && current->currency != price->currency) {
            return Fail(Refused(fmt::format(
                "plan {} is priced in {}, the subscription in {}",
                plan,
                price->currency,
                current->currency
            )));
        }
    }
    int64_t when = at.value_or(now);
    audit.object = id;
    audit.tenant = sub->tenant;
    return store_.Update(
        id,
        std::nullopt,
        Now(),
        [&](store::Object& o) -> Result<void> {
            auto s = SubscriptionFromStatus(o.status);
            if (!s) {
                return Fail(s.error());
            }
            Result<void> done;
            switch (op) {
                case Op::kChangePlan:
                    done = ChangePlan(*s, plan, when);
                    break;
                case Op::kCancel:
                    done = Cancel(*s, when, false);
                    break;
                case Op::kCancelAtPeriodEnd:
                    done = Cancel(*s, when, true);
                    break;
                case Op::kPause:
                    done = Pause(*s, when);
                    break;
                case Op::kResume:
                    done = Resume(*s, when);
                    break;
            }
            if (!done) {
                return done;
            }
            json::object kept = o.status;
            o.status = SubscriptionToStatus(*s);
            for (const char* k : {"customer", "payment"}) {
                if (kept.contains(k)) {
                    o.status[k] = kept.at(k);
                }
            }
            o.spec["plan"] = s->plan;
            return {};
        },
        audit
    );
}

Result<store::Object> Billing::SetPaymentMethod(
    const std::string& id,
    const std::string& method,
    store::AuditEvent audit
) {
    audit.object = id;
    return store_.Update(
        id,
        std::nullopt,
        Now(),
        [&](store::Object& o) -> Result<void> {
            if (o.kind != "Subscription") {
                return Fail(NotFound("subscription", id));
            }
            o.spec["payment_method"] = method;
            return {};
        },
        audit
    );
}

Result<json::object>
Billing::PreviewChange(const std::string& id, const std::string& plan, std::optional<int64_t> at) {
    auto sub = store_.Get(id);
    if (!sub || sub->kind != "Subscription") {
        return Fail(NotFound("subscription", id));
    }
    if (auto price = PriceOf(plan); !price) {
        return Fail(core::FieldError("plan", price.error().message));
    }
    auto s = SubscriptionFromStatus(sub->status);
    if (!s) {
        return Fail(s.error());
    }
    int64_t when = at.value_or(core::UnixSeconds(clock_.Now()));
    Subscription changed = *s;
    if (auto ok = ChangePlan(changed, plan, when); !ok) {
        return Fail(ok.error());
    }
    auto as_is = InvoiceFor(*sub, *s, PeriodSoFar(*s, s->period_end), false);
    auto to_be = InvoiceFor(*sub, changed, PeriodSoFar(changed, changed.period_end), false);
    if (!as_is) {
        return Fail(as_is.error());
    }
    if (!to_be) {
        return Fail(to_be.error());
    }
    auto a = Decimal::Parse(core::StrAt(*as_is, "total"));
    auto b = Decimal::Parse(core::StrAt(*to_be, "total"));
    std::string currency = core::StrAt(*to_be, "currency");
    return json::object{
        {"subscription", id},
        {"from_plan", s->plan},
        {"to_plan", plan},
        {"effective_at", Time(FloorMinute(when))},
        {"currency", currency},
        {"without_change", std::move(*as_is)},
        {"with_change", std::move(*to_be)},
        {"difference",
         a && b ? b->Minus(*a).value_or(Decimal()).ToString(MinorDigits(currency)) : "0"},
    };
}

Result<json::object> Billing::Upcoming(const std::string& id) {
    auto sub = store_.Get(id);
    if (!sub || sub->kind != "Subscription") {
        return Fail(NotFound("subscription", id));
    }
    auto s = SubscriptionFromStatus(sub->status);
    if (!s) {
        return Fail(s.error());
    }
    if (s->ended) {
        return Fail(Refused("the subscription has ended; it has no upcoming invoice"));
    }
    return InvoiceFor(
        *sub, *s, PeriodSoFar(*s, FloorMinute(core::UnixSeconds(clock_.Now()))), true
    );
}

Result<store::Object> Billing::Issue(store::Object invoice, const std::string& now) {
    auto issued = store_.Update(
        invoice.id,
        std::nullopt,
        now,
        [&](store::Object& o) -> Result<void> {
            if (core::StrAt(o.status, "state") != "draft") {
                return Fail(Refused(fmt::format(
                    "invoice {} is {}, not a draft", o.id, core::StrAt(o.status, "state")
                )));
            }
            int64_t t = core::UnixSeconds(clock_.Now());
            o.status["state"] = "issued";
            o.status["issued_at"] = now;
            o.status["due_at"] = Time(t + opts_.due.count());
            return {};
        },
        store::SystemAudit(now, "billing", invoice.tenant, invoice.id)
    );
    if (!issued) {
        return issued;
    }
    if (MinorUnits(core::StrAt(issued->spec, "total")) <= 0) {
        return MarkPaid(issued->id, store::SystemAudit(now, "billing", invoice.tenant, invoice.id));
    }
    if (payments_ != nullptr) {
        if (auto c =
                Collect(issued->id, store::SystemAudit(now, "billing", invoice.tenant, invoice.id));
            c) {
            return c;
        }
    }
    return issued;
}

Result<store::Object> Billing::Approve(const std::string& id, store::AuditEvent audit) {
    auto inv = store_.Get(id);
    if (!inv || inv->kind != "Invoice") {
        return Fail(NotFound("invoice", id));
    }
    if (core::StrAt(inv->status, "state") != "draft") {
        return Fail(Refused(fmt::format(
            "invoice {} is {}; only a draft is approved", id, core::StrAt(inv->status, "state")
        )));
    }
    audit.object = id;
    audit.tenant = inv->tenant;
    if (auto a = store_.AppendAudit(audit); !a) {
        return Fail(a.error());
    }
    return Issue(*inv, Now());
}

Result<store::Object> Billing::Void(const std::string& id, store::AuditEvent audit) {
    audit.object = id;
    return store_.Update(
        id,
        std::nullopt,
        Now(),
        [&](store::Object& o) -> Result<void> {
            if (o.kind != "Invoice") {
                return Fail(NotFound("invoice", id));
            }
            std::string state = core::StrAt(o.status, "state");
            if (state != "draft" && state != "issued") {
                return Fail(Refused(fmt::format(
                    "invoice {} is {}; only a draft or an issued one is voided", id, state
                )));
            }
            o.status["state"] = "void";
            o.status["voided_at"] = Now();
            return {};
        },
        audit
    );
}

Result<store::Object> Billing::MarkPaid(const std::string& id, store::AuditEvent audit) {
    audit.object = id;
    auto paid = store_.Update(
        id,
        std::nullopt,
        Now(),
        [&](store::Object& o) -> Result<void> {
            if (o.kind != "Invoice") {
                return Fail(NotFound("invoice", id));
            }
            if (std::string state = core::StrAt(o.status, "state"); state != "issued") {
                return Fail(
                    Refused(fmt::format("invoice {} is {}; only an issued one is paid", id, state))
                );
            }
            o.status["state"] = "paid";
            o.status["paid_at"] = Now();
            return {};
        },
        audit
    );
    if (paid) {
        (void)PaymentOutcome(id, true, "", "");
    }
    return paid;
}

Result<store::Object> Billing::Collect(const std::string& id, store::AuditEvent audit) {
    auto inv = store_.Get(id);
    if (!inv || inv->kind != "Invoice") {
        return Fail(NotFound("invoice", id));
    }
    if (std::string state = core::StrAt(inv->status, "state"); state != "issued") {
        return Fail(
            Refused(fmt::format("invoice {} is {}; only an issued one is collected", id, state))
        );
    }
    if (payments_ == nullptr) {
        return Fail(Refused("no payment provider is configured (--stripe-secret-key)"));
    }
    auto sub = store_.Get(core::StrAt(inv->spec, "subscription"));
    if (!sub) {
        return Fail(sub.error());
    }
    std::string method = core::StrAt(sub->spec, "payment_method");
    if (method.empty()) {
        return Fail(Refused(fmt::format(
            "subscription {} has no payment method to charge (POST "
            "/v1/subscriptions/{}:payment-method)",
            sub->id,
            sub->id
        )));
    }
    PaymentRequest req;
    req.tenant = inv->tenant;
    req.invoice_id = inv->id;
    req.invoice_number = core::StrAt(inv->spec, "number");
    req.payment_method = method;
    req.amount_minor = MinorUnits(core::StrAt(inv->spec, "total"));
    req.currency = core::StrAt(inv->spec, "currency");
    if (const json::object* c = core::ObjectAt(sub->status, "customer")) {
        req.customer = core::StrAt(*c, "id");
    }
    if (auto t = store_.Get(inv->tenant)) {
        req.email = core::StrAt(t->spec, "contact_email");
    }
    if (!audit.action.empty()) {
        audit.object = id;
        audit.tenant = inv->tenant;
        (void)store_.AppendAudit(audit);
    }
    auto r = payments_->Charge(req);
    if (!r) {
        return Fail(r.error());
    }
    if (req.customer.empty() && !r->customer.empty()) {
        (void)store_.Update(
            sub->id,
            std::nullopt,
            Now(),
            [&](store::Object& o) -> Result<void> {
                o.status["customer"] =
                    json::object{{"provider", payments_->Name()}, {"id", r->customer}};
                return {};
            },
            store::SystemAudit(Now(), "billing", sub->tenant, sub->id)
        );
    }
    if (auto ok = PaymentOutcome(id, r->paid, r->payment_id, r->paid ? r->status : r->error); !ok) {
        return Fail(ok.error());
    }
    return store_.Get(id);
}

Result<void> Billing::OnPaymentEvent(const PaymentEvent& e) {
    if (e.invoice_id.empty()) {
        return {};  // not one of Hangar's payments
    }
    if (e.type == "payment_intent.succeeded") {
        return PaymentOutcome(e.invoice_id, true, e.payment_id, "succeeded");
    }
    if (e.type == "payment_intent.payment_failed") {
        return PaymentOutcome(e.invoice_id, false, e.payment_id, e.error);
    }
    return {};
}

Result<void> Billing::PaymentOutcome(
    const std::string& invoice_id,
    bool paid,
    const std::string& payment_id,
    const std::string& detail
) {
    std::string now = Now();
    int64_t t = core::UnixSeconds(clock_.Now());
    bool was_paid = false;
    auto inv = store_.Update(
        invoice_id,
        std::nullopt,
        now,
        [&](store::Object& o) -> Result<void> {
            if (o.kind != "Invoice") {
                return Fail(NotFound("invoice", invoice_id));
            }
            std::string state = core::StrAt(o.status, "state");
            was_paid = state == "paid";
            json::object payment = core::ObjectAt(o.status, "payment") != nullptr
                                       ? o.status.at("payment").as_object()
                                       : json::object{};
            if (!payment_id.empty()) {
                payment["provider"] = payments_ != nullptr ? payments_->Name() : "";
                payment["id"] = payment_id;
            }
            if (paid) {
                payment["status"] = "succeeded";
                if (state == "issued") {
                    o.status["state"] = "paid";
                    o.status["paid_at"] = now;
                }
            } else if (state == "issued") {
                payment["status"] = "failed";
                payment["error"] = detail;
                payment["failed_at"] = now;
                payment["attempts"] = core::IntAt(payment, "attempts") + 1;
            }
            o.status["payment"] = std::move(payment);
            return {};
        },
        store::SystemAudit(now, "billing", "", invoice_id)
    );
    if (!inv) {
        return Fail(inv.error());
    }
    if (paid && was_paid && payment_id.empty()) {
        return {};
    }
    std::string sub_id = core::StrAt(inv->spec, "subscription");
    std::string state = core::StrAt(inv->status, "state");
    if (!paid && state != "issued") {
        return {};  // a late failure of an invoice that is paid or void by now
    }
    // Past due while any issued invoice of the subscription is unpaid after a failure.
    auto unpaid = store_.ListAll("Invoice", inv->tenant, [&](const store::Object& o) {
        const json::object* p = core::ObjectAt(o.status, "payment");
        return core::StrAt(o.spec, "subscription") == sub_id &&
               core::StrAt(o.status, "state") == "issued" && p != nullptr &&
               core::StrAt(*p, "status") == "failed";
    });
    bool owing = unpaid && !unpaid->empty();
    bool resume = false, announce = false;
    int64_t since = 0;
    auto sub = store_.Update(
        sub_id,
        std::nullopt,
        now,
        [&](store::Object& o) -> Result<void> {
            auto s = SubscriptionFromStatus(o.status);
            if (!s) {
                return Fail(s.error());
            }
            if (owing && s->past_due_since == 0) {
                s->past_due_since = t;
                announce = true;
                if (s->state != SubState::kCanceled && s->state != SubState::kPaused) {
                    s->state = SubState::kPastDue;
                }
            } else if (!owing && s->past_due_since != 0) {
                s->past_due_since = 0;
                resume = s->suspended;
                s->suspended = false;
                if (s->state == SubState::kPastDue) {
                    s->state = s->trial_end > t ? SubState::kTrialing : SubState::kActive;
                }
            }
            since = s->past_due_since;
            json::object kept = o.status;
            o.status = SubscriptionToStatus(*s);
            for (const char* k : {"customer", "payment"}) {
                if (kept.contains(k)) {
                    o.status[k] = kept.at(k);
                }
            }
            return {};
        },
        store::SystemAudit(now, "billing", inv->tenant, sub_id)
    );
    if (!sub) {
        return Fail(sub.error());
    }
    std::string number = core::StrAt(inv->spec, "number");
    if (announce && hooks_.notify) {
        hooks_.notify(
            inv->tenant,
            fmt::format("Payment of invoice {} failed", number),
            fmt::format(
                "The payment of invoice {} ({} {}) failed: {}\n\nUnless it is paid, your "
                "instances will be suspended at {}.",
                number,
                core::StrAt(inv->spec, "total"),
                core::StrAt(inv->spec, "currency"),
                detail.empty() ? "declined" : detail,
                Time(since + opts_.grace.count())
            )
        );
    }
    if (resume) {
        store::AuditEvent a{
            0,
            now,
            "billing",
            inv->tenant,
            "subscription.resume-instances",
            sub_id,
            "",
            "local",
            ""};
        if (hooks_.suspend) {
            (void)hooks_.suspend(inv->tenant, false, a);
        }
        if (hooks_.notify) {
            hooks_.notify(
                inv->tenant,
                fmt::format("Invoice {} is paid; your instances are running again", number),
                "Thank you: the payment arrived and your suspended instances were resumed."
            );
        }
    }
    return {};
}

void Billing::SuspendOverdue(const store::Object& sub, int64_t now) {
    auto s = SubscriptionFromStatus(sub.status);
    if (!s || s->past_due_since == 0 || s->suspended ||
        now < s->past_due_since + opts_.grace.count()) {
        return;
    }
    std::string at = Now();
    store::AuditEvent a{
        0, at, "billing", sub.tenant, "subscription.suspend-instances", sub.id, "", "local", ""};
    if (hooks_.suspend) {
        if (auto n = hooks_.suspend(sub.tenant, true, a); !n) {
            core::LogError(
                "instances could not be suspended for non-payment",
                {{"tenant", std::string_view(sub.tenant)},
                 {"error", std::string_view(n.error().message)}}
            );
            return;
        }
    }
    (void)store_.Update(
        sub.id,
        std::nullopt,
        at,
        [&](store::Object& o) -> Result<void> {
            o.status["suspended"] = true;
            return {};
        },
        store::SystemAudit(at, "billing", sub.tenant, sub.id)
    );
    if (hooks_.notify) {
        hooks_.notify(
            sub.tenant,
            "Your instances are suspended for non-payment",
            fmt::format(
                "An invoice of subscription {} is unpaid since {}; your instances were suspended. "
                "They resume as soon as it is paid.",
                sub.id,
                Time(s->past_due_since)
            )
        );
    }
}

Result<json::object> Billing::Margin(const std::string& month) {
    int64_t start = 0;
    if (auto t = core::ParseRfc3339(month + "-01T00:00:00Z"); t && month.size() == 7) {
        start = core::UnixSeconds(*t);
    } else {
        return Fail(core::MakeError(
            ErrorCode::kInvalidArgument, fmt::format("month \"{}\" must be YYYY-MM", month)
        ));
    }
    int64_t end = NextMonthStart(start);
    // The costs: resource → (meter, unit cost).
    struct Cost {
        const char* resource;
        const char* meter;
        Decimal unit;
        bool set = false;
    };
    std::vector<Cost> costs = {
        {"cpu_hour", "cpu_hours", {}},
        {"memory_gib_hour", "memory_gib_hours", {}},
        {"notification", "push_notifications", {}},
        {"storage_gib_month", "", {}},
    };
    std::string cost_currency;
    for (Cost& c : costs) {
        std::string name = c.resource;
        std::replace(name.begin(), name.end(), '_', '-');
        if (auto o = store_.FindByName("UnitCost", "", name)) {
            if (auto d = Decimal::Parse(core::StrAt(o->spec, "amount"))) {
                c.unit = *d;
                c.set = true;
                cost_currency = core::StrAt(o->spec, "currency");
            }
        }
    }
    auto tenants = store_.ListAll("Tenant", std::nullopt);
    if (!tenants) {
        return Fail(tenants.error());
    }
    struct Row {
        Decimal margin;
        json::object o;
    };
    std::vector<Row> rows;
    for (const auto& t : *tenants) {
        json::object usage;
        Decimal cost;
        for (const Cost& c : costs) {
            if (c.meter[0] == '\0') {
                continue;  // storage is not metered yet
            }
            Decimal q;
            if (hooks_.usage) {
                auto u = hooks_.usage(t.id, c.meter, start, end);
                if (u) {
                    q = *u;
                }
            }
            usage[c.meter] = q.ToString();
            if (c.set) {
                cost = cost.Plus(q.Times(c.unit).value_or(Decimal())).value_or(cost);
            }
        }
        Decimal revenue;
        std::string currency;
        bool mixed = false;
        auto invoices = store_.ListAll("Invoice", t.id, [&](const store::Object& o) {
            std::string state = core::StrAt(o.status, "state");
            return (state == "issued" || state == "paid") &&
                   core::StrAt(o.spec, "period_start").starts_with(month);
        });
        int count = 0;
        for (const auto& inv : invoices.value_or(std::vector<store::Object>{})) {
            auto sub = Decimal::Parse(core::StrAt(inv.spec, "subtotal"));
            auto cred = Decimal::Parse(core::StrAt(inv.spec, "credits"));
            if (!sub || !cred) {
                continue;
            }
            std::string cur = core::StrAt(inv.spec, "currency");
            mixed = mixed || (!currency.empty() && cur != currency);
            currency = cur;
            revenue = revenue.Plus(sub->Minus(*cred).value_or(Decimal())).value_or(revenue);
            ++count;
        }
        if (currency.empty()) {
            currency = cost_currency;
        }
        int digits = MinorDigits(currency.empty() ? "EUR" : currency);
        cost = cost.Round(digits);
        Decimal margin = revenue.Minus(cost).value_or(Decimal());
        json::object o{
            {"tenant", t.id},
            {"name", t.name},
            {"currency", currency},
            {"invoices", count},
            {"revenue", revenue.ToString(digits)},
            {"cost", cost.ToString(digits)},
            {"margin", margin.ToString(digits)},
            {"usage", std::move(usage)},
        };
        if (!revenue.IsZero()) {
            auto pct = margin.Times(Decimal::FromInt(100));
            auto ratio = pct ? pct->DividedBy(revenue) : std::nullopt;
            o["margin_percent"] = ratio ? json::value(ratio->ToString(1)) : json::value(nullptr);
        } else {
            o["margin_percent"] = nullptr;
        }
        if (mixed || (!cost_currency.empty() && !currency.empty() && currency != cost_currency &&
                      !cost.IsZero())) {
            o["warning"] = "invoices and unit costs are in different currencies";
        }
        rows.push_back({margin, std::move(o)});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return a.margin < b.margin;
    });
    json::array out;
    Decimal total_revenue, total_cost;
    for (auto& r : rows) {
        total_revenue = total_revenue.Plus(*Decimal::Parse(core::StrAt(r.o, "revenue")))
                            .value_or(total_revenue);
        total_cost =
            total_cost.Plus(*Decimal::Parse(core::StrAt(r.o, "cost"))).value_or(total_cost);
        out.push_back(std::move(r.o));
    }
    std::vector<std::string> unset;
    for (const Cost& c : costs) {
        if (!c.set) {
            unset.emplace_back(c.resource);
        }
    }
    json::array missing;
    for (auto& u : unset) {
        missing.emplace_back(u);
    }
    return json::object{
        {"month", month},
        {"tenants", std::move(out)},
        {"revenue", total_revenue.ToString()},
        {"cost", total_cost.ToString()},
        {"unit_costs_missing", std::move(missing)},
    };
}

}  // namespace hangar::billing
