#pragma once
// Billing as a service: subscriptions (Subscription objects) changed one audited write at a
// time, the periodic close of each period that ended into an Invoice, the invoice lifecycle
// (draft → issued → paid | void), payments through a provider, and the past-due path: a failed
// payment marks the subscription past due and announces the suspension; after the grace period
// the tenant's instances are suspended; a payment resumes them.
// What billing reads from other modules comes through BillingHooks, wired by the server:
// usage (metering), the month's SLA credit (observe, incidents), suspending instances (fleet)
// and e-mail (oncall).

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "hangar/billing/invoice.hpp"
#include "hangar/billing/payments.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/store/store.hpp"

namespace hangar::billing {

struct BillingHooks {
    // A meter's usage by a tenant over [from, to).
    std::function<core::Result<
        Decimal>(const std::string& tenant, const std::string& meter, int64_t from, int64_t to)>
        usage;
    // The credit the tenant's SLA report for `month` (YYYY-MM) owes; nullopt: none.
    std::function<
        core::Result<std::optional<SlaCredit>>(const std::string& tenant, const std::string& month)>
        sla;
    // Suspends (or resumes) the tenant's instances; how many changed.
    std::function<
        core::Result<int>(const std::string& tenant, bool suspend, const store::AuditEvent& audit)>
        suspend;
    // Tells the tenant's contact by e-mail.
    std::function<
        void(const std::string& tenant, const std::string& subject, const std::string& text)>
        notify;
};

struct BillingOptions {
    bool approval = false;  // invoices wait as drafts for an operator's approval
    std::chrono::seconds grace = std::chrono::hours(72);
    std::chrono::seconds due = std::chrono::hours(24 * 14);  // issued → due
    std::chrono::seconds interval = std::chrono::seconds(60);
};

class Billing {
public:
    Billing(store::Store& store, const core::Clock& clock, BillingHooks hooks, BillingOptions opts);
    ~Billing();
    void SetPayments(PaymentProvider* provider) { payments_ = provider; }
    PaymentProvider* payments() const { return payments_; }
    const BillingOptions& options() const { return opts_; }
    const core::Clock& clock() const { return clock_; }
    void Start();
    void Stop();

    // One pass: closes every period that ended into its invoice, moves ended trials to active,
    // suspends what is past due beyond the grace; how many invoices it made.
    int Tick();

    // `at`: when it starts (a platform admin may backdate it; default now).
    core::Result<store::Object> Subscribe(
        const std::string& tenant,
        const std::string& plan,
        int trial_days,
        std::optional<int64_t> at,
        const std::string& payment_method,
        store::AuditEvent audit
    );
    enum class Op { kChangePlan, kCancel, kCancelAtPeriodEnd, kPause, kResume };
    core::Result<store::Object> Change(
        const std::string& id,
        Op op,
        const std::string& plan,
        std::optional<int64_t> at,
        store::AuditEvent audit
    );
    core::Result<store::Object>
    SetPaymentMethod(const std::string& id, const std::string& method, store::AuditEvent audit);
    // The plan change's effect on the current period's invoice: the invoice so far as it is, and
    // as it would be to the period's end with the change made at `at`.
    core::Result<boost::json::object>
    PreviewChange(const std::string& id, const std::string& plan, std::optional<int64_t> at);
    // The invoice the current period would get if it closed now (Lago's "upcoming invoice").
    core::Result<boost::json::object> Upcoming(const std::string& id);

    // draft → issued (approve), draft|issued → void, issued → paid (a payment outside the
    // provider), and a new attempt to collect an issued one.
    core::Result<store::Object> Approve(const std::string& id, store::AuditEvent audit);
    core::Result<store::Object> Void(const std::string& id, store::AuditEvent audit);
    core::Result<store::Object> MarkPaid(const std::string& id, store::AuditEvent audit);
    core::Result<store::Object> Collect(const std::string& id, store::AuditEvent audit);
    // A provider's verified event: a payment of an invoice succeeded or failed.
    core::Result<void> OnPaymentEvent(const PaymentEvent& e);

    // Per tenant for `month` (YYYY-MM): what it cost the platform (metered usage × the
    // UnitCosts), what it was invoiced (issued or paid invoices of periods in the month, without
    // tax, after credits), and the margin; the least profitable first.
    core::Result<boost::json::object> Margin(const std::string& month);

    // Plan prices by plan name.
    core::Result<PlanPrice> PriceOf(const std::string& plan);

private:
    core::Result<store::Object> Issue(store::Object invoice, const std::string& now);
    core::Result<int> CloseDue(const store::Object& sub, int64_t now);
    core::Result<boost::json::object> InvoiceFor(
        const store::Object& sub,
        const Subscription& s,
        const ClosedPeriod& period,
        bool with_sla
    );
    core::Result<void> PaymentOutcome(
        const std::string& invoice_id,
        bool paid,
        const std::string& payment_id,
        const std::string& detail
    );
    void SuspendOverdue(const store::Object& sub, int64_t now);
    std::string Now() const;

    store::Store& store_;
    const core::Clock& clock_;
    BillingHooks hooks_;
    BillingOptions opts_;
    PaymentProvider* payments_ = nullptr;
    std::mutex tick_mu_;
    std::unique_ptr<core::Periodic> ticker_;
};

}  // namespace hangar::billing
