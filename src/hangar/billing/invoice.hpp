#pragma once
// An invoice for a closed billing period, worked out exactly: per phase of the period (a plan
// over a stretch of it) and per charge of the plan's price, one line with its period, quantity,
// unit price and amount. Flat fees are prorated by the phase's share of the calendar month (to
// the second) and are free during a trial; usage charges price the usage in the phase; a paused
// phase costs nothing. Then the SLA credit (a percentage of the subtotal, from the month's SLA
// report), tax at the tenant's country's rate on what remains, and the total. Every line is
// rounded to the currency's minor unit; the totals are sums of rounded lines.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/billing/charges.hpp"
#include "hangar/billing/money.hpp"
#include "hangar/billing/subscription.hpp"
#include "hangar/core/error.hpp"

namespace hangar::billing {

// A plan's price (a PlanPrice object): its currency and charges, billed monthly in arrears.
struct PlanPrice {
    std::string plan, currency;
    std::vector<Charge> charges;
};
// Reads a PlanPrice spec strictly ({plan, currency, charges}); errors name the field.
core::Result<boost::json::object> ValidatePlanPriceSpec(const boost::json::object& spec);
core::Result<PlanPrice> PlanPriceFromSpec(const boost::json::object& spec);

struct SlaCredit {
    Decimal percent;
    std::string month;             // YYYY-MM
    std::string report;            // where the report is read (/v1/tenants/{id}/sla?month=)
    boost::json::array instances;  // the instances below their target: {instance, uptime, ...}
    boost::json::array incidents;  // the incidents of the month behind them: ids
};

struct TaxRate {
    std::string country;  // ISO 3166 alpha-2
    Decimal percent;
    std::string name;  // "VAT"
};

struct InvoiceInput {
    std::string subscription;
    ClosedPeriod period;
    int64_t trial_end = 0;
    std::optional<SlaCredit> sla;
    std::optional<TaxRate> tax;
    std::string plan;  // the subscription's plan: the currency of a period with nothing to bill
};

using PriceOf = std::function<core::Result<PlanPrice>(const std::string& plan)>;
// A meter's usage by the subscription's tenant over [from, to) (unix seconds).
using UsageOf =
    std::function<core::Result<Decimal>(const std::string& meter, int64_t from, int64_t to)>;

// The Invoice spec: {subscription, currency, period_start, period_end, lines, subtotal,
// credits, tax, total, sla?}; amounts are decimal strings in the currency's minor unit.
core::Result<boost::json::object>
BuildInvoice(const InvoiceInput& in, const PriceOf& price_of, const UsageOf& usage_of);

}  // namespace hangar::billing
